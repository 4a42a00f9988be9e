/**
 * Privacy guarantee 6: there is no endpoint that plays or streams audio. Every HTTP route and
 * WebSocket the package registers is listed here; adding one makes this test fail until it
 * is reviewed and added. The shipped code has no audio content type and no audio player.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

function files(dir: string, exts: string[], skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) out.push(...files(p, exts, skip));
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out;
}

// The virtual camera (lib/sim/camera) is a stand-in for a real camera, not part of Vigie's
// surface: its stream carries a synthetic tone on purpose, to prove the relay drops audio.
const isSimCamera = (p: string) => p.includes(path.join('lib', 'sim', 'camera'));
// resources/: the editor forms' shared script (the widget built there is scanned as its sources, ui/)
const sources = [
  ...files(path.join(root, 'nodes'), ['.ts', '.html']),
  path.join(root, 'resources', 'vigie-editor.js'),
  ...files(path.join(root, 'lib'), ['.ts'], isSimCamera),
  ...files(path.join(root, 'ui'), ['.vue', '.ts', '.js']),
];

const REVIEWED_ROUTES = new Set([
  'httpNode GET /vigie/health',
  // the same health report, for the container's health check (admin permission or this run's token)
  'httpAdmin GET /vigie/admin-health',
  'httpNode GET /vigie/video/:cameraId/mjpeg',
  'httpNode GET /vigie/video/:cameraId/snapshot.jpg',
  // JSON {ticket, expiresInMs}: a random token, no media
  'httpNode GET /vigie/video/:cameraId/ticket',
  'httpAdmin POST /vigie/camera/test',
  'httpAdmin GET /vigie/alsa-devices',
  'httpAdmin GET /vigie/array-presets',
  // JSON {errors, warnings} about microphone positions the request itself carries
  'httpAdmin POST /vigie/sensor/geometry',
  'httpAdmin GET /vigie/model-card',
  'httpAdmin GET /vigie/sim/events',
]);

test('every HTTP route the package registers is a reviewed one, none of them audio', () => {
  const found: string[] = [];
  for (const f of sources) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/RED\.(httpNode|httpAdmin)\.(get|post|put|delete|all|use)\(\s*['"`]([^'"`]+)['"`]/g)) {
      found.push(`${m[1]} ${m[2].toUpperCase()} ${m[3]}`);
    }
  }
  assert.ok(found.length >= 5, `routes found: ${found.join(', ')}`);
  for (const r of found) assert.ok(REVIEWED_ROUTES.has(r), `unreviewed route ${r}: check it cannot serve audio, then add it here`);
});

test('WebSocket upgrades are handled only for the live video path', () => {
  const upgrades = sources.filter((f) => /\.on\(\s*['"]upgrade['"]/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(upgrades.map((f) => path.relative(root, f)), ['nodes/video-forward.ts']);
});

test('no audio content type, audio element or audio decoding in the shipped code', () => {
  const offenders: string[] = [];
  for (const f of sources) {
    const text = fs.readFileSync(f, 'utf8');
    const checks: Array<[RegExp, string]> = [
      [/['"`]audio\/[a-z0-9.+-]+/i, 'an audio MIME type'],
      [/<audio\b|new Audio\(|createElement\(\s*['"]audio['"]/, 'an audio element'],
      [/decodeAudioData|createMediaElementSource|createMediaStreamSource/, 'audio decoding or playback of a stream'],
    ];
    for (const [re, what] of checks) if (re.test(text)) offenders.push(`${path.relative(root, f)}: ${what}`);
  }
  assert.deepEqual(offenders, []);
});
