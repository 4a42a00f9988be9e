/** What the console says of bursts of alerts and of alerts the cap removed (ui/components/burst-words.js), without a browser. */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { CHIME_GAP_MS, LiveSummary, SUMMARY_GAP_MS, deciderWords, decisionsWords, droppedWords, mayChime, newAlertsWords } from '../../ui/components/burst-words.js';

function fakeClock() {
  let t = 0;
  const due: Array<{ at: number; fn: () => void } | null> = [];
  return {
    now: () => t,
    setTimeout: (fn: () => void, ms: number) => due.push({ at: t + ms, fn }) - 1,
    clearTimeout: (i: number) => void (due[i] = null),
    /** Moves time on by `ms`, running each timer due at its own time. */
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        let next = -1;
        due.forEach((d, i) => {
          if (d && d.at <= end && (next < 0 || d.at < due[next]!.at)) next = i;
        });
        if (next < 0) break;
        const d = due[next]!;
        due[next] = null;
        t = d.at;
        d.fn();
      }
      t = end;
    },
  };
}

test('one chime at most every CHIME_GAP_MS', () => {
  assert.equal(mayChime(-Infinity, 0), true, 'the first alert chimes');
  assert.equal(mayChime(1000, 1000 + CHIME_GAP_MS - 1), false);
  assert.equal(mayChime(1000, 1000 + CHIME_GAP_MS), true);
  assert.ok(CHIME_GAP_MS >= 2000 && CHIME_GAP_MS <= 10_000, 'a few seconds');
});

test('the banner and the announcement word one new alert, or a burst by its count and its latest', () => {
  assert.equal(newAlertsWords(1, 'Gunshot — Rue Nord — 06:14:05'), 'New alert: Gunshot — Rue Nord — 06:14:05');
  assert.equal(newAlertsWords(7, 'Explosion — Place — 23:59:58'), '7 new alerts — latest: Explosion — Place — 23:59:58');
});

test('the live region says the first alert of a quiet moment at once, and sums up those that come within SUMMARY_GAP_MS', () => {
  const clock = fakeClock();
  const said: Array<[number, string]> = [];
  const live = new LiveSummary((text: string) => said.push([clock.now(), text]), clock);
  live.add(1, 'Gunshot — A — 1');
  assert.deepEqual(said, [[0, 'New alert: Gunshot — A — 1']]);
  // 40 alerts in 4 s, in states of one or more
  for (let i = 0; i < 20; i++) {
    clock.advance(200);
    live.add(2, `Explosion — B — ${i}`);
  }
  assert.equal(said.length, 1, 'nothing more said during the gap');
  clock.advance(SUMMARY_GAP_MS);
  assert.deepEqual(said[1], [SUMMARY_GAP_MS, '40 new alerts — latest: Explosion — B — 19']);
  assert.equal(said.length, 2);
  // quiet again: the next is said at once, alone
  clock.advance(SUMMARY_GAP_MS * 2);
  live.add(1, 'Scream — C — 2');
  assert.equal(said[2][1], 'New alert: Scream — C — 2');
  live.add(1, 'Crash — D — 3');
  live.close();
  clock.advance(SUMMARY_GAP_MS * 2);
  assert.equal(said.length, 3, 'closed: nothing more');
});

test('decisions on the alert open: the first of a quiet moment said at once, a flurry summed up by its count and its latest; dropped when another alert is opened', () => {
  const clock = fakeClock();
  const said: string[] = [];
  const live = new LiveSummary((text: string) => said.push(text), clock, decisionsWords);
  live.add(1, 'Hal escalated this alert at 11:02:29.');
  assert.deepEqual(said, ['Hal escalated this alert at 11:02:29.']);
  clock.advance(1000);
  live.add(1, 'Hal dismissed this alert at 11:02:30.');
  live.add(1, 'Ann confirmed this alert at 11:02:31.');
  clock.advance(SUMMARY_GAP_MS);
  assert.deepEqual(said.slice(1), ['2 decisions on this alert — latest: Ann confirmed this alert at 11:02:31.']);
  // one waits; the operator opens another alert: it is not said
  live.add(1, 'Hal escalated this alert at 11:02:40.');
  live.drop();
  clock.advance(SUMMARY_GAP_MS * 2);
  assert.equal(said.length, 2);
  live.add(1, 'Gil confirmed this alert at 11:03:00.');
  assert.deepEqual(said.slice(2), ['Gil confirmed this alert at 11:03:00.'], 'dropped: nothing left to add to the next');
  live.close();
});

test('the notice of alerts the cap removed names the last few and counts the rest', () => {
  const name = (d: { label: string; onset: number }) => `${d.label} ${d.onset}`;
  const recent = [
    { id: 'a', label: 'Scream', onset: 3, state: 'seen' },
    { id: 'b', label: 'Glass breaking', onset: 2, state: 'new' },
  ];
  assert.equal(
    droppedWords({ count: 3, maxAlerts: 500, upTo: 9, recent }, name),
    '3 unhandled alerts were removed to keep the queue at 500: Scream 3 (opened), Glass breaking 2 and 1 more. Each is in the audit log.',
  );
  assert.equal(droppedWords({ count: 1, maxAlerts: 10, upTo: 1, recent: recent.slice(1) }, name), '1 unhandled alert was removed to keep the queue at 10: Glass breaking 2. Each is in the audit log.');
});

test('the live summary\'s own clock is the monotonic one: the control-room PC\'s clock set back an hour does not silence the next alerts for an hour', () => {
  const said: string[] = [];
  const live = new LiveSummary((text: string) => said.push(text));
  live.add(1, 'Gunshot — A');
  assert.equal(said.length, 1);
  const realPerf = performance.now.bind(performance);
  const realDate = Date.now;
  const perf = mock.method(performance, 'now', () => realPerf() + SUMMARY_GAP_MS + 1);
  const date = mock.method(Date, 'now', () => realDate() - 3_600_000);
  try {
    live.add(1, 'Scream — B');
    assert.equal(said.length, 2, 'a quiet moment later, said at once');
    assert.match(said[1], /Scream — B/);
  } finally {
    perf.mock.restore();
    date.mock.restore();
    live.close();
  }
});

test('a decision this console did not send, under its own operator name, is said as another console\'s; any other name as it is', () => {
  assert.equal(deciderWords('Hal', 'Hal'), 'Hal (another console)');
  assert.equal(deciderWords('HAL', ' hal'), 'HAL (another console)', 'the same name, as a person reads it');
  assert.equal(deciderWords('Gil', 'Hal'), 'Gil');
  assert.equal(deciderWords('Hal', ''), 'Hal', 'no name entered here: nobody to be taken for');
});
