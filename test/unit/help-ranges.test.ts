/**
 * The node help says, for each numeric setting, the range the runtime accepts and its default: the
 * entry of the setting in the help (its <dt> and <dd>) names the min, the max and the default of the
 * runtime's settings table (SENSOR_SETTINGS, CAMERA_SETTINGS, LOCALIZER_SETTINGS, SETTING_RANGES with
 * the classifier's defaults, VIDEO_FORWARD_SETTINGS). A range changed in a table, or a setting whose
 * help gives no range, fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { SENSOR_SETTINGS } from '../../lib/sensor';
import { CAMERA_SETTINGS } from '../../lib/camera/config';
import { LOCALIZER_SETTINGS } from '../../lib/localize/localizer';
import { DEFAULT_COOL_DOWN_MS, DEFAULT_HOP_MS, DEFAULT_HYSTERESIS, DEFAULT_MIN_ABOVE_BACKGROUND_DB, DEFAULT_MIN_DURATION_MS, SETTING_RANGES } from '../../lib/detect/detector';
import { VIDEO_FORWARD_SETTINGS } from '../../lib/video/manager';
import { repoRoot } from '../support/nodered';

type Rule = { min: number; max: number; default?: number };

/** The help of a node type: the text of its <script data-help-name>. */
function helpOf(file: string, type: string): string {
  const html = fs.readFileSync(path.join(repoRoot, 'nodes', file), 'utf8');
  const m = new RegExp(`<script type="text/html" data-help-name="${type}">([\\s\\S]*?)</script>`).exec(html);
  assert.ok(m, `${file} has the help of ${type}`);
  return m[1];
}

/** Text as read: tags dropped, entities and typographic minus read, digits grouped by spaces or commas joined. */
function plain(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\u2212/g, '-')
    .replace(/(\d)[ ,\u00a0\u202f](?=\d{3}(?!\d))/g, '$1')
    .replace(/\s+/g, ' ');
}

/** The entry of a setting in a help: the <dd> after the <dt> whose name (before its type) is `label`. */
function entryOf(help: string, label: string): string {
  for (const m of help.matchAll(/<dt[^>]*>([\s\S]*?)<\/dt>\s*<dd[^>]*>([\s\S]*?)<\/dd>/g)) {
    const name = plain(m[1].replace(/<span class="property-type">[\s\S]*?<\/span>/g, '')).trim();
    if (name === label) return plain(m[2]);
  }
  return '';
}

function mentions(text: string, n: number): boolean {
  const esc = (v: string) => v.replace(/[.+-]/g, (c) => `\\${c}`);
  return new RegExp(`(?<![\\d.-])${esc(String(n))}(?!\\.?\\d)`).test(text);
}

/** Settings of a node: key → the name of its entry in the help. */
type Case = [file: string, type: string, rules: Record<string, Rule>, labels: Record<string, string>];

const CLASSIFIER: Record<string, Rule> = {
  hysteresis: { ...SETTING_RANGES.hysteresis, default: DEFAULT_HYSTERESIS },
  hopMs: { ...SETTING_RANGES.hopMs, default: DEFAULT_HOP_MS },
  windowMs: SETTING_RANGES.windowMs,
  minAboveBackgroundDb: { ...SETTING_RANGES.minAboveBackgroundDb, default: DEFAULT_MIN_ABOVE_BACKGROUND_DB },
  minLevelDba: SETTING_RANGES.minLevelDba,
  minDurationMs: { ...SETTING_RANGES.minDurationMs, default: DEFAULT_MIN_DURATION_MS },
  coolDownMs: { ...SETTING_RANGES.coolDownMs, default: DEFAULT_COOL_DOWN_MS },
  threshold: SETTING_RANGES.threshold,
};

const CASES: Case[] = [
  ['vigie-sensor.html', 'vigie-sensor', SENSOR_SETTINGS, { lat: 'Latitude, Longitude', lon: 'Latitude, Longitude', heightM: 'Height', headingDeg: 'Heading', clockErrorMs: 'Clock error', groundAltM: 'Ground altitude' }],
  [
    'vigie-camera.html',
    'vigie-camera',
    CAMERA_SETTINGS,
    {
      port: 'Host, Port',
      lat: 'Lat, lon; Height',
      lon: 'Lat, lon; Height',
      heightM: 'Lat, lon; Height',
      groundAltM: 'Ground altitude',
      mountHeadingDeg: 'Pan zero',
      tiltOffsetDeg: 'Tilt offset',
      panMinDeg: 'Pan range, Tilt range',
      panMaxDeg: 'Pan range, Tilt range',
      tiltMinDeg: 'Pan range, Tilt range',
      tiltMaxDeg: 'Pan range, Tilt range',
      hfovWideDeg: 'Field of view',
      hfovTeleDeg: 'Field of view',
      maxRangeM: 'Max range',
    },
  ],
  ['localizer.html', 'localizer', LOCALIZER_SETTINGS, { temperatureC: 'Air', windowMs: 'Window' }],
  [
    'acoustic-classifier.html',
    'acoustic-classifier',
    CLASSIFIER,
    {
      threshold: 'Default threshold',
      hysteresis: 'Hysteresis',
      hopMs: 'Hop',
      windowMs: 'Window',
      minAboveBackgroundDb: 'Level gate',
      minLevelDba: 'Level gate',
      minDurationMs: 'Min duration',
      coolDownMs: 'Cool-down',
    },
  ],
  [
    'video-forward.html',
    'video-forward',
    VIDEO_FORWARD_SETTINGS,
    { keepForS: 'Keep per alert', idleStopS: 'Idle stop', maxRelays: 'Max relays', mjpegFps: 'MJPEG', mjpegWidth: 'MJPEG width', fragmentMs: 'Fragment', snapshotKeepS: 'Keep snapshots' },
  ],
];

test("each numeric setting's help names the range the runtime accepts and its default", () => {
  const missing: string[] = [];
  let checked = 0;
  for (const [file, type, rules, labels] of CASES) {
    const help = helpOf(file, type);
    for (const [key, label] of Object.entries(labels)) {
      const rule = rules[key];
      assert.ok(rule, `${type}.${key} is in its settings table`);
      const entry = entryOf(help, label);
      if (!entry) {
        missing.push(`${type}.${key}: no help entry "${label}"`);
        continue;
      }
      checked++;
      const symmetric = rule.min === -rule.max && entry.includes(`±${rule.max}`);
      for (const [what, n] of [['min', rule.min], ['max', rule.max], ['default', rule.default]] as const) {
        if (n === undefined || symmetric) continue;
        if (!mentions(entry, n)) missing.push(`${type}.${key} (${label}): the ${what} ${n} is not said: "${entry.slice(0, 160)}"`);
      }
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked >= 30, `settings checked: ${checked}`);
});

test('the check reads a range written with a typographic minus, grouped digits and a default', () => {
  const help = '<dl><dt>Height <span class="property-type">metres</span></dt><dd>From −100 to 1 000 m (default 4).</dd></dl>';
  const entry = entryOf(help, 'Height');
  assert.equal(entry, 'From -100 to 1000 m (default 4).');
  assert.ok(mentions(entry, -100) && mentions(entry, 1000) && mentions(entry, 4));
  assert.ok(!mentions(entry, 10) && !mentions(entry, 0) && !mentions(entry, 100), 'not a part of another number');
  assert.equal(entryOf(help, 'Heading'), '');
});
