import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonFaultOffset } from '../../lib/util/json-fault';
import { makeRng } from '../../lib/sim/signals';

test('jsonFaultOffset finds no fault in valid JSON, and the one JSON.parse finds where it names a position', () => {
  const texts = ['{"name": "x", "labels": ["a", "b"], "n": -1.5e3, "o": {"t": true, "f": false, "z": null}, "s": "\\u00e9\\n"}', '[1, [2, [3, {}]], []]', '"x"', '0', ' {} '];
  const chars = '{}[]",:0123456789-+.eEtrufalsn \\\n\tx';
  const rng = makeRng(7);
  const pick = (k: number) => Math.floor(rng() * k);
  let positioned = 0;
  for (let t = 0; t < 5000; t++) {
    let s = texts[pick(texts.length)];
    for (let k = 0, ops = 1 + pick(3); k < ops; k++) {
      const p = pick(s.length + 1);
      const c = chars[pick(chars.length)];
      s = [s.slice(0, p) + s.slice(p + 1), s.slice(0, p) + c + s.slice(p), s.slice(0, p) + c + s.slice(p + 1)][pick(3)];
    }
    let message: string | undefined;
    try {
      JSON.parse(s);
    } catch (e) {
      message = (e as Error).message;
    }
    const at = jsonFaultOffset(s);
    assert.equal(at === undefined, message === undefined, `${JSON.stringify(s)}: ${message ?? 'valid'}, fault found at ${at}`);
    const named = message && /at position (\d+)/.exec(message);
    if (named) {
      positioned++;
      assert.equal(at, Number(named[1]), `${JSON.stringify(s)}: ${message}`);
    }
  }
  assert.ok(positioned > 100, 'enough faults with a position to compare');
  assert.equal(jsonFaultOffset('[' + '['.repeat(100000)), 100001, 'deep nesting: no stack overflow, cut short');
});
