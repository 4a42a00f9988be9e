/**
 * The console's times (ui/components/time-words.js): local time, 24-hour with seconds, the date
 * when not today. Run in the time zone of a French control room: Node reads TZ again when set.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';

type TimeWords = {
  clockWords(sec: number, nowMs: number): string;
  dateTimeWords(sec: number): string;
  utcOffsetWords(sec: number): string;
};
let words: TimeWords;

before(async () => {
  process.env.TZ = 'Europe/Paris';
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  words = (await import('../../ui/components/time-words.js')) as TimeWords;
});

const sec = (iso: string) => Date.parse(iso) / 1000;
const ms = (iso: string) => Date.parse(iso);

test('a time of today is the local clock time, 24-hour with seconds', () => {
  // 13:03:22 UTC is 14:03:22 in Paris in November
  assert.equal(words.clockWords(sec('2026-11-28T13:03:22Z'), ms('2026-11-28T20:00:00Z')), '14:03:22');
  assert.equal(words.clockWords(sec('2026-11-28T07:05:09Z'), ms('2026-11-28T20:00:00Z')), '08:05:09');
  // summer time
  assert.equal(words.clockWords(sec('2026-07-14T21:59:59Z'), ms('2026-07-14T21:59:59.500Z')), '23:59:59');
});

test('"today" is the local day: 00:30 in Paris is today, though it was still yesterday in UTC', () => {
  assert.equal(words.clockWords(sec('2026-11-28T23:30:00Z'), ms('2026-11-29T08:00:00Z')), '00:30:00');
  assert.equal(words.clockWords(sec('2026-11-28T22:59:59Z'), ms('2026-11-29T08:00:00Z')), '28 Nov 23:59:59');
});

test('a time on another day says its date, and its year when not this year', () => {
  assert.equal(words.clockWords(sec('2026-11-27T13:03:22Z'), ms('2026-11-28T20:00:00Z')), '27 Nov 14:03:22');
  assert.equal(words.clockWords(sec('2026-03-01T05:00:00Z'), ms('2026-11-28T20:00:00Z')), '1 Mar 06:00:00');
  assert.equal(words.clockWords(sec('2025-11-28T13:03:22Z'), ms('2026-11-28T20:00:00Z')), '28 Nov 2025 14:03:22');
  // a clock ahead of the browser's: tomorrow is not today either
  assert.equal(words.clockWords(sec('2026-11-28T23:00:01Z'), ms('2026-11-28T22:59:58Z')), '29 Nov 00:00:01');
  assert.equal(words.clockWords(NaN, ms('2026-11-28T20:00:00Z')), '');
});

test('the full time always has the date; the offset tells the two 02:30 of the night the clocks go back apart', () => {
  assert.equal(words.dateTimeWords(sec('2026-11-28T13:03:22Z')), '28 Nov 2026 14:03:22');
  assert.equal(words.utcOffsetWords(sec('2026-11-28T13:03:22Z')), 'UTC+01:00');
  assert.equal(words.utcOffsetWords(sec('2026-07-14T12:00:00Z')), 'UTC+02:00');
  const first = sec('2026-10-25T00:30:00Z');
  const second = sec('2026-10-25T01:30:00Z');
  assert.equal(words.dateTimeWords(first), '25 Oct 2026 02:30:00');
  assert.equal(words.dateTimeWords(second), '25 Oct 2026 02:30:00');
  assert.equal(words.utcOffsetWords(first), 'UTC+02:00');
  assert.equal(words.utcOffsetWords(second), 'UTC+01:00');
  assert.equal(words.dateTimeWords(NaN), '');
});
