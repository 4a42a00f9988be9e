/**
 * The console's words for a detection's confidence and loudness (ui/components/sound-words.js):
 * words an operator acts on, the figures in a tooltip, and nothing invented when a figure is missing.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';

type Confidence = { word: string; percent: string; text: string; tip: string };
type Loudness = { word: string | null; aboveDb: number | null; text: string; short: string; tip: string };
type SoundWords = {
  confidenceWords(c: unknown, labelWords?: string): Confidence | null;
  loudnessWords(level: unknown): Loudness;
};
let raw: SoundWords;
/** The module with its no-break spaces (between a number and its unit) read as spaces, for readable expectations. */
let words: SoundWords;
const plain = <T>(o: T): T => (o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\u00a0/g, ' ') : v])) as T : o);

before(async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  raw = (await import('../../ui/components/sound-words.js')) as SoundWords;
  words = { confidenceWords: (c, l) => plain(raw.confidenceWords(c, l)), loudnessWords: (l) => plain(raw.loudnessWords(l)) };
});

test('a number and its unit never part at a line\'s end: a no-break space joins them', () => {
  assert.equal(raw.confidenceWords(0.72)!.text, 'fair match (72\u00a0%)');
  assert.equal(raw.loudnessWords({ dbfs: -10, dba: -23, backgroundDba: -47 }).text, 'loud — 24\u00a0dB above the street');
});

test('confidence: strong match from 90 %, fair match from 60 %, else weak match, with the percentage beside the word', () => {
  const seen = [0.97, 0.9, 0.89, 0.6, 0.59, 0.12, 0, 1].map((c) => words.confidenceWords(c)!.text);
  assert.deepEqual(seen, ['strong match (97 %)', 'strong match (90 %)', 'fair match (89 %)', 'fair match (60 %)', 'weak match (59 %)', 'weak match (12 %)', 'weak match (0 %)', 'strong match (100 %)']);
  // the word follows the percentage shown: 0.895 shows as 90 %, so it is a "strong match" like any 90 %
  assert.equal(words.confidenceWords(0.895)!.text, 'strong match (90 %)');
  assert.equal(words.confidenceWords(0.5949)!.text, 'weak match (59 %)');
  assert.equal(words.confidenceWords(undefined), null);
  assert.equal(words.confidenceWords(Number.NaN), null);
});

test('confidence: the tooltip says it is the classifier\'s own score, not the chance that it happened', () => {
  const c = words.confidenceWords(0.72, 'gunshot')!;
  assert.equal(c.word, 'fair match');
  assert.equal(c.percent, '72 %');
  assert.match(c.tip, /^The classifier's own score for gunshot: 72 %\./);
  assert.match(c.tip, /not the chance that it happened/);
});

test('loudness: how far the sound stood above the street, in words and decibels; the technical level in the tooltip', () => {
  const l = words.loudnessWords({ dbfs: -14.2, dba: -23, backgroundDba: -47 });
  assert.deepEqual([l.word, l.aboveDb, l.text, l.short], ['loud', 24, 'loud — 24 dB above the street', 'loud']);
  assert.match(l.tip, /^Loudest moment −23\.0 dB\(A\) re full scale at the microphone; the street's usual level there −47\.0 dB\(A\)/);
  const bands = [[-10, -45], [-17, -47], [-27.4, -47], [-37, -47], [-40, -47], [-47, -47], [-50, -47]].map(([dba, backgroundDba]) => words.loudnessWords({ dbfs: -10, dba, backgroundDba }).text);
  assert.deepEqual(bands, [
    'very loud — 35 dB above the street',
    'very loud — 30 dB above the street',
    'loud — 20 dB above the street',
    'moderate — 10 dB above the street',
    'faint — 7 dB above the street',
    'faint — no louder than the street',
    'faint — no louder than the street',
  ]);
});

test('loudness without the street\'s level says so and invents none; the measured level stays in the tooltip', () => {
  for (const level of [{ dbfs: -14.2, dba: -38 }, { dbfs: -14.2, dba: 91 }, { dbfs: -3 }, { dbfs: -3, backgroundDba: -50 }, undefined]) {
    const l = words.loudnessWords(level);
    assert.equal(l.word, null, JSON.stringify(level));
    assert.equal(l.aboveDb, null);
    assert.equal(l.text, 'not known: this alert gives no street level to compare with');
    assert.equal(l.short, 'loudness not known');
    assert.doesNotMatch(l.text, /\d/, 'no figure made up');
  }
  assert.match(words.loudnessWords({ dbfs: -14.2, dba: -38 }).tip, /^Loudest moment −38\.0 dB\(A\) re full scale at the microphone\. Not a sound level meter reading/);
  assert.match(words.loudnessWords({ dbfs: -3 }).tip, /^Loudest moment −3\.0 dBFS at the microphone\./);
});
