/**
 * Malformed messages for the input fuzz test: what flows written by City IT put into nodes (a
 * function node's typo, another system's MQTT message, a change node that set msg.payload to a
 * string, numbers as text, null, arrays for objects, huge values, NaN, negative times, long
 * text, deep objects, prototype keys, Buffers, other node kinds' commands). Seeded, so that a
 * failure is found again by its seed and index.
 */

import { makeRng } from '../../lib/sim/signals';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any


export class Fuzz {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = makeRng(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** A value no field expects, or one just outside what it expects. */
  garbage(): unknown {
    const deep = (n: number): Any => {
      let o: Any = { leaf: 1 };
      for (let i = 0; i < n; i++) o = { next: o };
      return o;
    };
    const circular = (): Any => {
      const o: Any = { kind: 'detection', id: 'loop' };
      o.self = o;
      return o;
    };
    const makers: Array<() => unknown> = [
      () => undefined,
      () => null,
      () => NaN,
      () => Infinity,
      () => -Infinity,
      () => -1,
      () => 0,
      () => -0,
      () => 1e308,
      () => -1e-9,
      () => 2 ** 53 + 2,
      () => 0.5,
      () => '',
      () => ' ',
      () => 'abc',
      () => '12',
      () => '-3.5',
      () => 'NaN',
      () => '1e3',
      () => 'x'.repeat(100_000),
      () => '__proto__',
      () => 'constructor',
      () => 'glass break',
      () => 'speech',
      () => 'vigie/v1/site/other/detection',
      () => true,
      () => false,
      () => [],
      () => [1, 2, 3],
      () => ['a', null],
      () => new Array(5000).fill(0.25),
      () => Buffer.from('{"kind":"detection","id":"b"}'),
      () => Buffer.alloc(64, 1),
      () => new Float32Array(32),
      () => ({}),
      () => ({ a: 1 }),
      () => deep(200),
      () => JSON.parse('{"__proto__":{"polluted":true},"kind":"detection"}'),
      () => ({ constructor: { prototype: { polluted: true } } }),
      () => new Date(NaN),
      () => new Date(0),
      () => circular(),
      () => BigInt(12),
      () => Symbol('s'),
      () => () => 1,
    ];
    return this.pick(makers)();
  }

  /** Every path (object keys and array indices) into `v`, the root excluded. */
  paths(v: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
    if (typeof v !== 'object' || v === null) return out;
    for (const k of Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v)) {
      const p = [...prefix, k];
      out.push(p);
      this.paths((v as Any)[k], p, out);
    }
    return out;
  }

  /** A mutated copy of `valid` (a payload): one way or another, broken. */
  mutate(valid: unknown, kinds: readonly string[]): unknown {
    const v = structuredClone(valid) as Any;
    const paths = this.paths(v);
    const at = (p: Array<string | number>) => p.slice(0, -1).reduce((o: Any, k) => o[k], v);
    const way = this.int(12);
    switch (way) {
      case 0:
        return this.garbage();
      case 1:
      case 2:
      case 3: {
        // One to three fields set to garbage.
        for (let i = 1 + this.int(3); i > 0 && paths.length; i--) {
          const p = this.pick(paths);
          const parent = at(p);
          if (typeof parent === 'object' && parent !== null) parent[p[p.length - 1]] = this.garbage();
        }
        return v;
      }
      case 4: {
        // A field gone.
        const p = this.pick(paths);
        const parent = at(p);
        if (typeof parent === 'object' && parent !== null) delete parent[p[p.length - 1]];
        return v;
      }
      case 5: {
        // Numbers as text, objects as arrays, arrays as Buffers.
        for (const p of paths) {
          if (this.random() > 0.3) continue;
          const parent = at(p);
          if (typeof parent !== 'object' || parent === null) continue;
          const k = p[p.length - 1];
          const x = parent[k];
          if (typeof x === 'number') parent[k] = String(x);
          else if (Array.isArray(x)) parent[k] = Buffer.from(JSON.stringify(x));
          else if (typeof x === 'object' && x !== null) parent[k] = Object.values(x);
        }
        return v;
      }
      case 6: {
        // Prototype keys, own properties as JSON.parse makes them.
        const objects = [v, ...paths.map((p) => p.reduce((o: Any, k) => o[k], v))].filter((o) => typeof o === 'object' && o !== null && !Array.isArray(o));
        const target = this.pick(objects);
        const key = this.pick(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']);
        Object.defineProperty(target, key, { value: this.pick([{ polluted: true }, 'x', null, 1]), enumerable: true, configurable: true, writable: true });
        return v;
      }
      case 7: {
        // Text, as an mqtt in node that does not parse JSON hands it on (and text cut short).
        const text = JSON.stringify(v);
        const cut = this.random() < 0.5 ? text : text.slice(0, this.int(text.length));
        return this.random() < 0.5 ? cut : Buffer.from(cut);
      }
      case 8: {
        // Another node kind's message.
        v.kind = this.pick(kinds);
        return v;
      }
      case 9: {
        // Huge and out-of-range numbers where numbers are.
        for (const p of paths) {
          const parent = at(p);
          const k = p[p.length - 1];
          if (typeof parent[k] === 'number' && this.random() < 0.4) parent[k] = this.pick([NaN, Infinity, -Infinity, -1e12, 1e12, -1, 2 ** 60, 10_000_000, 2 ** 31, 0]);
        }
        return v;
      }
      case 10: {
        // A field of a later stage, or one that does not exist, holding garbage.
        const field = this.pick(['extra', 'samples', 'note', 'payload', 'x'.repeat(500), 'location', 'camera', 'video', 'incident', 'priority', 'sensorInfo', 'level', 'scores']);
        const later: Record<string, () => unknown> = {
          location: () => ({ method: 'tdoa', bearing: this.garbage(), position: { lat: this.garbage(), lon: 4.38, errorM: 3 }, sensors: ['a'] }),
          camera: () => ({ id: 'camA', name: 'A', pan: this.garbage(), tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: this.pick(['on-target', 'moving', 'bogus', 'failed']) }),
          video: () => ({ live: this.garbage(), until: this.garbage() }),
          incident: () => ({ id: 'i', reports: [{ sensor: 's', detection: 'd', label: 'gunshot', onset: this.garbage() }] }),
          sensorInfo: () => ({ lat: this.garbage(), lon: 4.38, clock: this.pick(['ntp', 'sundial']) }),
        };
        v[field] = Object.hasOwn(later, field) && this.random() < 0.7 ? later[field]() : this.garbage();
        return v;
      }
      default: {
        // Text fields made long, or emptied.
        for (const p of paths) {
          const parent = at(p);
          const k = p[p.length - 1];
          if (typeof parent[k] === 'string' && this.random() < 0.5) parent[k] = this.pick(['', 'y'.repeat(50_000), ' ', '\u0000', '../../etc/passwd', '<script>x</script>']);
        }
        return v;
      }
    }
  }

  /** A message around a payload: sometimes with other nodes' commands or odd properties beside it. */
  message(payload: unknown): Any {
    const msg: Any = { payload };
    if (this.random() < 0.3) {
      const extras: Array<() => void> = [
        () => (msg.reset = this.pick([true, 'yes', 1])),
        () => (msg.topic = this.garbage()),
        () => (msg.action = this.pick(['connect', 'disconnect', 'getpresets', 'stop'])),
        () => (msg.stop = true),
        () => (msg.command = 'goto-preset'),
        () => (msg.camera = this.garbage()),
        () => (msg.kind = 'decision'),
        () => (msg.priority = this.garbage()),
        () => (msg.res = { statusCode: 200 }),
      ];
      this.pick(extras)();
    }
    return msg;
  }
}

/** A path and what is wrong at it, for every number in `v` that is not finite (outputs must carry none). */
export function nonFiniteNumbers(v: unknown, path = 'payload', out: string[] = [], depth = 0): string[] {
  if (depth > 30) return out;
  if (typeof v === 'number' && !Number.isFinite(v)) out.push(`${path}: ${v}`);
  else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) nonFiniteNumbers(x, `${path}.${k}`, out, depth + 1);
  }
  return out;
}
