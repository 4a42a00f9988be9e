/**
 * Writes the shipped flows (flows/street-demo.json, gateway.json, control-room.json) from one
 * description, so that node ids, positions of the demo sensors (from the street-demo scene)
 * and the demo cameras stay consistent. Run: `npx tsx scripts/make-flows.ts`.
 * The output is committed (test/unit/shipped-flows.test.ts checks that it matches); the build
 * copies it into examples/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_CALIBRATION } from '../lib/camera/geometry';
import { enuToGeodetic } from '../lib/localize/geo';
import { DEMO_CAMERAS, DemoCamera } from '../lib/sim/demo-cameras';
import { DEFAULT_MAX_AGE_S, DEFAULT_MAX_MESSAGES } from '../lib/util/outbox';

const root = path.resolve(__dirname, '..');
type N = Record<string, unknown>;

const scene = JSON.parse(fs.readFileSync(path.join(root, 'lib', 'sim', 'scenes', 'street-demo.json'), 'utf8'));
const origin = scene.origin as { lat: number; lon: number; alt: number };
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
const geo = (e: number, n: number) => {
  const g = enuToGeodetic([e, n, 0], origin);
  return { lat: round6(g.lat), lon: round6(g.lon) };
};

/** Score threshold of the demo's classifiers (see the comment at the classifier nodes). */
const DEMO_THRESHOLD = 0.12;

const ALERT_LABELS = ['gunshot', 'glass_break', 'scream', 'crash', 'explosion', 'tire_skid'];

function comment(id: string, z: string, name: string, info: string, x: number, y: number, g?: string): N {
  return { id, type: 'comment', z, ...(g ? { g } : {}), name, info, x, y, wires: [] };
}

function group(id: string, z: string, name: string, nodes: string[], color = '#e3f3d3'): N {
  // Bounds are computed from the members by layout().
  return { id, type: 'group', z, name, style: { label: true, stroke: '#999999', fill: color, 'fill-opacity': '0.35' }, nodes, x: 0, y: 0, w: 0, h: 0 };
}

/** Node positions (centres) by id: columns and rows that keep groups apart. */
type Place = Record<string, [number, number]>;

/** Estimated drawn width of a node in the editor (label text plus icon and ports). */
function nodeWidth(n: N): number {
  const label = String(n.name || n.type);
  return Math.max(100, Math.round(label.length * 7.6 + 56));
}

/** Put nodes where `place` says, then size every group around its members. */
function layout(nodes: N[], place: Place): N[] {
  for (const n of nodes) {
    const p = place[String(n.id)];
    if (p) [n.x, n.y] = p;
  }
  for (const g of nodes.filter((n) => n.type === 'group')) {
    const members = nodes.filter((n) => (g.nodes as string[]).includes(String(n.id)));
    const left = Math.min(...members.map((n) => (n.x as number) - nodeWidth(n) / 2));
    const right = Math.max(...members.map((n) => (n.x as number) + nodeWidth(n) / 2));
    const top = Math.min(...members.map((n) => (n.y as number) - 15));
    const bottom = Math.max(...members.map((n) => (n.y as number) + 15 + (n.type === 'comment' ? 0 : 18)));
    Object.assign(g, { x: Math.round(left - 20), y: Math.round(top - 35), w: Math.round(right - left + 40), h: Math.round(bottom - top + 55) });
  }
  return nodes;
}

/**
 * The shipped flows' `ui-base` settings (the browser tests serve the console with them too).
 * `allowInstall: false`: Dashboard 2.0 otherwise offers the dashboard as an installable app, and
 * on first opening shows a toast "App is offline ready" (its service worker has cached the page),
 * which operators read as "the app is offline". A control room's console is a page, not an app to
 * install; with it off, Dashboard also removes a service worker an earlier visit installed.
 */
export const UI_BASE_SETTINGS = {
  name: 'Vigie', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'],
  showPathInSidebar: false, navigationStyle: 'none', titleBarStyle: 'default', allowInstall: false,
} as const;

function dashboardConfig(prefix: string): { config: N[]; groupId: string } {
  const base = `${prefix}-ui-base`;
  const theme = `${prefix}-ui-theme`;
  const page = `${prefix}-ui-page`;
  const grp = `${prefix}-ui-group`;
  return {
    groupId: grp,
    config: [
      { id: base, type: 'ui-base', ...UI_BASE_SETTINGS },
      { id: theme, type: 'ui-theme', name: 'Vigie control room', colors: { surface: '#263238', primary: '#1565c0', bgPage: '#eceff1', groupBg: '#ffffff', groupOutline: '#cfd8dc' }, sizes: { density: 'default', pagePadding: '8px', groupGap: '8px', groupBorderRadius: '4px', widgetGap: '8px' } },
      { id: page, type: 'ui-page', name: 'Alerts', ui: base, path: '/alerts', icon: 'bell', layout: 'grid', theme, breakpoints: [{ name: 'Default', px: '0', cols: '12' }], order: 1, className: '', visible: 'true', disabled: 'false' },
      { id: grp, type: 'ui-group', name: 'Acoustic alerts', page, width: '12', height: '1', order: 1, showTitle: false, className: '', visible: 'true', disabled: 'false', groupType: 'default' },
    ],
  };
}

/**
 * alert-dashboard's one output carries decisions (msg.topic "decision") and camera move
 * requests ("move-request"). ptz-steer takes both; the MQTT decision topic takes decisions only
 * (schemas/decision.schema.json has no room for a move request, which may carry a whole alert).
 */
function decisionsOnly(id: string, z: string, g: string, wires: string[]): N {
  return {
    id, type: 'switch', z, g, name: 'decisions only', property: 'topic', propertyType: 'msg',
    rules: [{ t: 'eq', v: 'decision', vt: 'str' }], checkall: 'true', repair: false, outputs: 1, x: 0, y: 0, wires: [wires],
  };
}

/**
 * Node-RED's mqtt out drops what it gets while its broker is unreachable (docs/mqtt.md): the
 * outbox before it keeps those messages and sends them, in order, when the broker is back.
 */
function outbox(id: string, z: string, g: string, broker: string, wires: string[]): N {
  return { id, type: 'vigie-outbox', z, g, name: 'keep while the broker is down', broker, maxMessages: DEFAULT_MAX_MESSAGES, maxAgeS: DEFAULT_MAX_AGE_S, persist: true, x: 0, y: 0, wires: [wires] };
}

/**
 * `persistentSession`: a fixed client id without a clean session, subscriptions kept when the
 * flow stops, so the broker keeps what the gateways send (QoS 1) while the control room is away
 * (restarting, or its link down) and delivers it when it is back.
 */
function mqttBroker(id: string, name: string, persistentSession = false): N {
  return {
    id,
    type: 'mqtt-broker',
    name,
    broker: '${VIGIE_MQTT_HOST}',
    port: '${VIGIE_MQTT_PORT}',
    clientid: persistentSession ? '${VIGIE_MQTT_CLIENT_ID}' : '',
    autoConnect: true,
    usetls: false,
    // A broker given as a URL (VIGIE_MQTT_HOST=mqtts://broker:8883) is reached over TLS without
    // a tls-config node; without this, Node-RED would then accept any server certificate.
    verifyservercert: true,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: !persistentSession,
    autoUnsubscribe: !persistentSession,
    birthTopic: '',
    closeTopic: '',
    willTopic: '',
    userProps: '',
    sessionExpiry: '',
    credentials: { user: '$(VIGIE_MQTT_USER)', password: '$(VIGIE_MQTT_PASSWORD)' },
  };
}

function cameraConfig(c: DemoCamera | { id: string; name: string; host: string; port: string; lat: string | number; lon: string | number; heightM: number | string; mountHeadingDeg: number | string }): N {
  const pos = 'enu' in c ? geo(c.enu[0], c.enu[1]) : { lat: c.lat, lon: c.lon };
  return {
    id: `cfg-${c.id}`,
    type: 'vigie-camera',
    name: c.name,
    cameraId: c.id,
    host: 'host' in c ? c.host : '127.0.0.1',
    port: 'portEnv' in c ? `\${${c.portEnv}}` : c.port,
    profileToken: '',
    lat: pos.lat,
    lon: pos.lon,
    heightM: c.heightM,
    mountHeadingDeg: c.mountHeadingDeg,
    tiltOffsetDeg: 0,
    // The calibration of the virtual camera (the demo's) and the vigie-camera form's defaults.
    space: DEFAULT_CALIBRATION.space,
    panDirection: String(DEFAULT_CALIBRATION.panDirection),
    panMinDeg: DEFAULT_CALIBRATION.panMinDeg,
    panMaxDeg: DEFAULT_CALIBRATION.panMaxDeg,
    tiltMinDeg: DEFAULT_CALIBRATION.tiltMinDeg,
    tiltMaxDeg: DEFAULT_CALIBRATION.tiltMaxDeg,
    hfovWideDeg: DEFAULT_CALIBRATION.hfovWideDeg,
    hfovTeleDeg: DEFAULT_CALIBRATION.hfovTeleDeg,
    maxRangeM: 250,
    blindSectors: '',
    homePreset: '',
    sensorId: '',
    streamUrl: '',
    snapshotUrl: '',
    // Names of environment variables, never secrets (Node-RED substitutes $(VAR) in credentials).
    credentials: { username: '$(VIGIE_CAMERA_USER)', password: '$(VIGIE_CAMERA_PASSWORD)' },
  };
}

function stripPrivate(nodes: N[]): N[] {
  return nodes.map((n) => Object.fromEntries(Object.entries(n).filter(([k]) => !k.startsWith('_'))));
}

// ---------------------------------------------------------------------------------------------
function streetDemo(): N[] {
  const z = 'tab-street-demo';
  const nodes: N[] = [{ id: z, type: 'tab', label: 'Street demo', disabled: false, info: 'The whole Vigie chain on a simulated crossroads: three gateways with 4-mic arrays hear the street; an alert event plays every 20–40 s. Detections are fused into a position, the nearest virtual PTZ camera turns to it, its live picture is relayed without sound, and the operators\' console shows the alert. Alerts are also published as JSON on the embedded MQTT broker (topic vigie/v1/demo/alert).\n\nStarted by `npm run demo` (or `vigie start --flow street-demo`), which also runs the virtual cameras and the broker.' }];
  const model = { id: 'cfg-model', type: 'vigie-model', name: 'Shipped street model', path: '' };
  nodes.push(model);

  const sensorIds: string[] = [];
  const captureIds: string[] = [];
  const classifierIds: string[] = [];
  (scene.sensors as Array<{ id: string; name: string; position: number[]; heightM: number; headingDeg: number; array: string; clock: string; clockErrorMs: number }>).forEach((s, i) => {
    const g = geo(s.position[0], s.position[1]);
    const cfg = `cfg-sensor-${s.id}`;
    nodes.push({ id: cfg, type: 'vigie-sensor', name: s.name, sensorId: s.id, lat: g.lat, lon: g.lon, heightM: s.heightM, headingDeg: s.headingDeg, array: s.array, mics: '', clock: s.clock, clockErrorMs: s.clockErrorMs });
    const y = 120 + i * 80;
    const cap = `capture-${s.id}`;
    const cls = `classify-${s.id}`;
    captureIds.push(cap);
    classifierIds.push(cls);
    sensorIds.push(cfg);
    nodes.push({
      id: cap, type: 'mic-capture', z, g: 'grp-hear', name: s.name, sensor: cfg, source: 'simulated', device: 'default', sampleRate: 48000, channels: 4, format: 'S16_LE', url: '', realtime: false, file: '', loop: true, pace: 'realtime',
      scene: 'street-demo', simSensor: s.id, channelMap: '', blockMs: 100, ringSeconds: 5, levelEveryMs: 0, calibrationDb: '', x: 200, y, wires: [[cls], ['health-debug']],
    });
    nodes.push({
      // The shipped baseline model scores the simulated street's events low (see its card): the
      // demo trades a low score threshold for a strict level gate (20 dB above the street's
      // background), in place of the card's recommended thresholds; a hysteresis below the
      // threshold (with the default 0.15 an event would last while it scores 0.01) and a 250 ms hop.
      id: cls, type: 'acoustic-classifier', z, g: 'grp-hear', name: `classify ${s.id}`, model: 'cfg-model', sensor: cfg, labels: ALERT_LABELS,
      thresholds: {}, threshold: DEMO_THRESHOLD, hysteresis: 0.04, hopMs: 250, windowMs: '',
      minAboveBackgroundDb: 20, minLevelDba: '', minDurationMs: 0, coolDownMs: 2000, channel: 'mix', scores: false, outputs: 2, x: 440, y, wires: [['fuse'], []],
    });
  });
  nodes.push({ id: 'health-debug', type: 'debug', z, g: 'grp-hear', name: 'capture health', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 450, y: 360, wires: [] });
  nodes.push(comment('c-hear', z, 'Hear: capture → classify', `Each mic-capture reads one gateway of the simulated street (a 4-mic array at 48 kHz) into that sensor's in-memory ring; only references travel in messages. The classifiers share one model and emit detections for the ticked alert classes.\n\nThe shipped model is a weak baseline (see models/vigie-street-v1.json): here it runs with a low default threshold (${DEMO_THRESHOLD} for every class, in place of the card's recommended ones; hysteresis 0.04, since the default 0.15 is more than that) behind a strict level gate (20 dB above the background), with a window every 250 ms (the default hop is 500 ms), so every loud event is caught, sometimes under a wrong or a second label. Do not copy these settings to a real street: use the defaults and a model trained on your own recordings.`, 200, 60, 'grp-hear'));
  nodes.push(group('grp-hear', z, 'Three gateways on the crossroads', [...captureIds, ...classifierIds, 'health-debug', 'c-hear']));

  nodes.push({ id: 'fuse', type: 'localizer', z, g: 'grp-where', name: 'where? (3 sensors)', mode: 'fusion', sensor: '', temperatureC: scene.temperatureC ?? 15, windowMs: 20, minConfidence: 0.3, minSensors: 3, timeoutMs: 1500, onsetToleranceMs: 20, maxClockErrorMs: 10, sourceHeightM: 1.5, continuationS: 4, x: 720, y: 200, wires: [['steer']] });
  nodes.push(comment('c-where', z, 'Locate', 'Direction of arrival at each array and time differences between the synchronised gateways give one position per incident.', 720, 140, 'grp-where'));
  nodes.push(group('grp-where', z, 'Where did it come from?', ['fuse', 'c-where'], '#ffefbf'));

  const cams = DEMO_CAMERAS.map((c) => cameraConfig(c));
  nodes.push(...cams);
  nodes.push({ id: 'steer', type: 'ptz-steer', z, g: 'grp-look', name: 'turn the nearest camera', cameras: cams.map((c) => c.id), mode: 'automatic', toleranceDeg: 1, moveTimeoutS: 15, returnHomeS: 120, waitForCameraS: 300, assumedDistanceM: 40, frameWidthM: 10, emitOnStart: false, x: 950, y: 200, wires: [['video'], ['camera-errors', 'console']] });
  nodes.push({ id: 'video', type: 'video-forward', z, g: 'grp-look', name: 'live picture (no sound)', ffmpegPath: '', transport: 'tcp', keepForS: 120, idleStopS: 30, maxRelays: 2, mjpegFps: 5, mjpegWidth: 640, fragmentMs: 0, snapshot: true, x: 1170, y: 200, wires: [['console', 'alert-mqtt']] });
  nodes.push({ id: 'camera-errors', type: 'debug', z, g: 'grp-look', name: 'camera problems', active: true, tosidebar: true, console: false, tostatus: false, complete: 'true', targetType: 'full', statusVal: '', statusType: 'auto', x: 1170, y: 260, wires: [] });
  nodes.push(comment('c-look', z, 'Look', 'ptz-steer picks the nearest camera that covers the place and moves it with ONVIF; on a camera fault the alert still goes to the console (second output). video-forward relays the live picture to the console, always without audio.', 950, 140, 'grp-look'));
  nodes.push(group('grp-look', z, 'Turn a camera and relay its picture', ['steer', 'video', 'camera-errors', 'c-look'], '#bfdbef'));

  const dash = dashboardConfig('demo');
  nodes.push(...dash.config);
  nodes.push({
    id: 'console', type: 'alert-dashboard', z, g: 'grp-operators', group: dash.groupId, name: "Operators' console", order: 1, width: '12', height: '10', chime: true, tileUrl: '', siteLat: String(origin.lat), siteLon: String(origin.lon),
    alertRetentionDays: 7, maxAlerts: 500, persist: true, auditDir: '', auditRetentionDays: 90, auditRotateMB: 10, x: 1180, y: 400, wires: [['decisions', 'steer', 'decisions-only']],
  });
  nodes.push(decisionsOnly('decisions-only', z, 'grp-operators', ['decision-mqtt']));
  nodes.push({ id: 'decisions', type: 'debug', z, g: 'grp-operators', name: 'decisions and move requests', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 1410, y: 400, wires: [] });
  nodes.push(comment('c-operators', z, 'Decide', 'The console at /dashboard: alert queue, live video, site plan, confirm / dismiss / escalate. Decisions and "move camera" requests come out here and go to ptz-steer; "decisions only" (a switch on msg.topic) lets only decisions through to the MQTT decision topic, whose schema has no room for a move request. Every camera move, live view and decision is appended to the audit log in the user directory (vigie-audit/).', 1180, 340, 'grp-operators'));
  nodes.push(group('grp-operators', z, 'Operators', ['console', 'decisions', 'decisions-only', 'c-operators'], '#f3d3d3'));

  nodes.push(mqttBroker('cfg-broker', 'embedded demo broker'));
  nodes.push({ id: 'alert-mqtt', type: 'mqtt out', z, g: 'grp-publish', name: 'publish alert', topic: 'vigie/v1/demo/alert', qos: '1', retain: 'false', respTopic: '', contentType: 'application/json', userProps: '', correl: '', expiry: '', broker: 'cfg-broker', x: 1420, y: 520, wires: [] });
  nodes.push({ id: 'decision-mqtt', type: 'mqtt out', z, g: 'grp-publish', name: 'publish decision', topic: 'vigie/v1/demo/decision', qos: '1', retain: 'false', respTopic: '', contentType: 'application/json', userProps: '', correl: '', expiry: '', broker: 'cfg-broker', x: 1420, y: 580, wires: [] });
  nodes.push(comment('c-publish', z, 'Publish', 'Alerts and decisions as JSON (schemas/alert.schema.json, decision.schema.json) for other systems. No audio is ever published.', 1420, 460, 'grp-publish'));
  nodes.push(group('grp-publish', z, 'MQTT', ['alert-mqtt', 'decision-mqtt', 'c-publish'], '#d1d1d1'));
  const place: Place = {
    'c-hear': [200, 100], 'health-debug': [460, 340],
    'c-where': [740, 160], fuse: [740, 220],
    'c-look': [1010, 160], steer: [1010, 220], video: [1270, 220], 'camera-errors': [1270, 280],
    'c-operators': [1010, 420], console: [1010, 480], decisions: [1270, 480], 'decisions-only': [1270, 540],
    'c-publish': [1550, 160], 'alert-mqtt': [1550, 220], 'decision-mqtt': [1550, 280],
  };
  captureIds.forEach((id, i) => (place[id] = [200, 160 + i * 60]));
  classifierIds.forEach((id, i) => (place[id] = [460, 160 + i * 60]));
  return stripPrivate(layout(nodes, place));
}

// ---------------------------------------------------------------------------------------------
function gateway(): N[] {
  const z = 'tab-gateway';
  const nodes: N[] = [{ id: z, type: 'tab', label: 'Street gateway', disabled: false, info: 'A street gateway: a USB microphone array on ALSA → classifier → direction of arrival → detections as JSON over MQTT. Audio never leaves this machine.\n\nConfigured from the environment: VIGIE_SITE, VIGIE_SENSOR, VIGIE_SENSOR_LAT, VIGIE_SENSOR_LON, VIGIE_SENSOR_HEADING, VIGIE_ALSA_DEVICE, VIGIE_MQTT_HOST, VIGIE_MQTT_PORT, VIGIE_MQTT_USER, VIGIE_MQTT_PASSWORD (see docs/install.md).' }];
  nodes.push({ id: 'gw-sensor', type: 'vigie-sensor', name: 'this gateway', sensorId: '${VIGIE_SENSOR}', lat: '${VIGIE_SENSOR_LAT}', lon: '${VIGIE_SENSOR_LON}', heightM: 4, headingDeg: '${VIGIE_SENSOR_HEADING}', array: 'respeaker-usb-4', mics: '', clock: 'ntp', clockErrorMs: 2 });
  nodes.push({ id: 'gw-model', type: 'vigie-model', name: 'Shipped street model', path: '' });
  nodes.push({
    id: 'gw-capture', type: 'mic-capture', z, g: 'gw-grp', name: 'USB mic array', sensor: 'gw-sensor', source: 'alsa', device: '${VIGIE_ALSA_DEVICE}', sampleRate: 48000, channels: 4, format: 'S16_LE', url: '', realtime: false, file: '', loop: true, pace: 'realtime',
    scene: 'street-demo', simSensor: '', channelMap: '', blockMs: 100, ringSeconds: 5, levelEveryMs: 1000, calibrationDb: '', x: 180, y: 140, wires: [['gw-classify'], ['gw-health-only']],
  });
  nodes.push({
    id: 'gw-classify', type: 'acoustic-classifier', z, g: 'gw-grp', name: 'classify', model: 'gw-model', sensor: 'gw-sensor', labels: ALERT_LABELS, thresholds: {}, threshold: '', hysteresis: 0.15, hopMs: 500, windowMs: '',
    minAboveBackgroundDb: 6, minLevelDba: '', minDurationMs: 0, coolDownMs: 2000, channel: 'mix', scores: false, outputs: 2, x: 390, y: 140, wires: [['gw-doa'], []],
  });
  nodes.push({ id: 'gw-doa', type: 'localizer', z, g: 'gw-grp', name: 'direction of arrival', mode: 'single', sensor: 'gw-sensor', temperatureC: 15, windowMs: 20, minConfidence: 0.3, minSensors: 3, timeoutMs: 1500, onsetToleranceMs: 20, maxClockErrorMs: 10, sourceHeightM: 1.5, continuationS: 4, x: 600, y: 140, wires: [['gw-topic']] });
  nodes.push({
    id: 'gw-topic', type: 'change', z, g: 'gw-grp', name: 'topic vigie/v1/<site>/<sensor>/detection', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: '"vigie/v1/" & $env("VIGIE_SITE") & "/" & payload.sensor & "/detection"', tot: 'jsonata' }],
    x: 820, y: 140, wires: [['gw-outbox']],
  });
  nodes.push(mqttBroker('gw-broker', 'city broker'));
  nodes.push(outbox('gw-outbox', z, 'gw-grp', 'gw-broker', ['gw-mqtt']));
  nodes.push({ id: 'gw-mqtt', type: 'mqtt out', z, g: 'gw-grp', name: 'detections', topic: '', qos: '1', retain: 'false', respTopic: '', contentType: 'application/json', userProps: '', correl: '', expiry: '', broker: 'gw-broker', x: 1040, y: 140, wires: [] });
  // Health events only reach the log (docker logs): level reports, one a second, would fill a gateway's SD card (about 100 MB a day in Docker's default log).
  nodes.push({
    id: 'gw-health-only', type: 'switch', z, g: 'gw-grp', name: 'health events only', property: 'topic', propertyType: 'msg', rules: [{ t: 'eq', v: 'health', vt: 'str' }], checkall: 'true', repair: false, outputs: 1,
    x: 390, y: 200, wires: [['gw-health']],
  });
  nodes.push({ id: 'gw-health', type: 'debug', z, g: 'gw-grp', name: 'capture health', active: true, tosidebar: true, console: true, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 390, y: 200, wires: [] });
  nodes.push(comment('gw-c', z, 'Only detection JSON leaves the gateway', 'The ring of samples stays in this process (5 s, zeroed on close). What is published: the detection (id, label, confidence, onset and offset, level, the scores of the non-voice classes, and its span: which sensor and which frames, a reference that only this process\'s ring can resolve, never samples), its bearing, the sensor\'s position and clock quality. While the broker is unreachable the outbox keeps the detections (up to ' + DEFAULT_MAX_MESSAGES + ' or ' + DEFAULT_MAX_AGE_S / 3600 + ' h, also across a restart) and sends them, in order, when it is back. See docs/mqtt.md.', 180, 80, 'gw-grp'));
  const gwPlace: Place = { 'gw-c': [200, 80], 'gw-capture': [200, 140], 'gw-classify': [430, 140], 'gw-doa': [660, 140], 'gw-topic': [960, 140], 'gw-outbox': [1300, 140], 'gw-mqtt': [1530, 140], 'gw-health-only': [430, 200], 'gw-health': [660, 200] };
  nodes.push(group('gw-grp', z, 'Gateway: hear, classify, find the direction, publish', ['gw-capture', 'gw-classify', 'gw-doa', 'gw-topic', 'gw-outbox', 'gw-mqtt', 'gw-health-only', 'gw-health', 'gw-c']));
  return stripPrivate(layout(nodes, gwPlace));
}

// ---------------------------------------------------------------------------------------------
function controlRoom(): N[] {
  const z = 'tab-control-room';
  const nodes: N[] = [{ id: z, type: 'tab', label: 'Control room', disabled: false, info: "The control room: detections from this site's gateways (VIGIE_SITE) arrive over MQTT, are fused into incidents with a position, the best camera turns to it, its live picture is relayed without sound, and operators decide in the console at /dashboard. Decisions and alerts are published back over MQTT and appended to the audit log.\n\nEdit the camera config nodes for your cameras (ONVIF host, port, position, calibration; 'test connection' lists profiles and presets). Broker from VIGIE_MQTT_HOST, VIGIE_MQTT_PORT, VIGIE_MQTT_USER, VIGIE_MQTT_PASSWORD, with the fixed client id VIGIE_MQTT_CLIENT_ID (a persistent session: the broker keeps the gateways' detections while the control room is away); site from VIGIE_SITE; the first camera from VIGIE_CAMERA_HOST, VIGIE_CAMERA_PORT, VIGIE_CAMERA_USER, VIGIE_CAMERA_PASSWORD, VIGIE_CAMERA_LAT, VIGIE_CAMERA_LON (see docs/install.md)." }];
  nodes.push(mqttBroker('cr-broker', 'city broker', true));
  nodes.push({ id: 'cr-in', type: 'mqtt in', z, g: 'cr-grp-in', name: 'detections from gateways', topic: 'vigie/v1/+/+/detection', qos: '1', datatype: 'utf8', broker: 'cr-broker', nl: false, rap: true, rh: 0, inputs: 0, x: 180, y: 140, wires: [['cr-this-site']] });
  // Node-RED substitutes ${VIGIE_SITE} only in a property that is wholly that reference, so the
  // subscription cannot name the site; this switch keeps the detections of VIGIE_SITE (the third
  // topic level), under `vigie start` and in a plain Node-RED alike. A broker shared with other
  // sites would otherwise have this control room fuse their detections into its own alerts.
  // Gateways never retain; a retained detection (a test publish, a misconfigured tool) would
  // be handed again at every subscribe, so at every start or deploy: an old alert again. With
  // MQTT 3.1.1 only those replays carry the retain flag (live deliveries never do).
  nodes.push({
    id: 'cr-this-site', type: 'switch', z, g: 'cr-grp-in', name: 'only this site (VIGIE_SITE), live', property: 'topic', propertyType: 'msg',
    rules: [{ t: 'jsonata_exp', v: '$split(topic, "/")[2] = $env("VIGIE_SITE") and $not(retain = true)', vt: 'jsonata' }], checkall: 'true', repair: false, outputs: 1, x: 0, y: 0, wires: [['cr-not-empty']],
  });
  // An empty payload is how a retained copy is cleared (mosquitto_pub -r -n); the broker hands
  // that to the subscribers too, without the retain flag. It is no detection: dropped here,
  // before the JSON parse, which would log it as an error. Anything else that is not JSON is
  // still one, in the log.
  nodes.push({
    id: 'cr-not-empty', type: 'switch', z, g: 'cr-grp-in', name: 'drop empty (cleared retained)', property: 'payload', propertyType: 'msg',
    rules: [{ t: 'nempty' }], checkall: 'true', repair: false, outputs: 1, x: 0, y: 0, wires: [['cr-parse']],
  });
  nodes.push({ id: 'cr-parse', type: 'json', z, g: 'cr-grp-in', name: 'parse JSON', property: 'payload', action: 'obj', pretty: false, x: 0, y: 0, wires: [['cr-fuse']] });
  nodes.push({ id: 'cr-fuse', type: 'localizer', z, g: 'cr-grp-in', name: 'fuse gateways', mode: 'fusion', sensor: '', temperatureC: 15, windowMs: 20, minConfidence: 0.3, minSensors: 2, timeoutMs: 2000, onsetToleranceMs: 50, maxClockErrorMs: 10, sourceHeightM: 1.5, continuationS: 4, x: 400, y: 140, wires: [['cr-steer']] });
  nodes.push(comment('cr-c-in', z, 'Incidents', "Detections of this site only: the broker may carry other sites' too, and \"only this site\" passes those whose topic (vigie/v1/<site>/<sensor>/detection) names VIGIE_SITE, so that another site's gateways never become this control room's alerts. It also drops a retained copy (gateways never retain; one left on the broker would come back at every start), and \"drop empty\" the empty message that clears one, before the JSON parse. One located event per incident once enough gateways reported (or after the timeout); late duplicates do not alert again. Events that cannot be located still reach the operators.", 180, 80, 'cr-grp-in'));
  nodes.push(group('cr-grp-in', z, "From this site's gateways", ['cr-in', 'cr-this-site', 'cr-not-empty', 'cr-parse', 'cr-fuse', 'cr-c-in'], '#ffefbf'));

  nodes.push(
    cameraConfig({ id: 'cam-1', name: 'Camera 1 (edit me)', host: '${VIGIE_CAMERA_HOST}', port: '${VIGIE_CAMERA_PORT}', lat: '${VIGIE_CAMERA_LAT}', lon: '${VIGIE_CAMERA_LON}', heightM: 6, mountHeadingDeg: 0 }),
  );
  nodes.push({ id: 'cr-steer', type: 'ptz-steer', z, g: 'cr-grp-look', name: 'turn the best camera', cameras: [], mode: 'confirm', toleranceDeg: 1, moveTimeoutS: 15, returnHomeS: 300, waitForCameraS: 300, assumedDistanceM: 40, frameWidthM: 10, emitOnStart: true, x: 650, y: 140, wires: [['cr-video'], ['cr-camera-errors', 'cr-console']] });
  nodes.push({ id: 'cr-video', type: 'video-forward', z, g: 'cr-grp-look', name: 'live picture (no sound)', ffmpegPath: '', transport: 'tcp', keepForS: 300, idleStopS: 60, maxRelays: 4, mjpegFps: 5, mjpegWidth: 640, fragmentMs: 0, snapshot: true, x: 870, y: 140, wires: [['cr-console', 'cr-alert-topic']] });
  nodes.push({ id: 'cr-camera-errors', type: 'debug', z, g: 'cr-grp-look', name: 'camera problems', active: true, tosidebar: true, console: true, tostatus: false, complete: 'true', targetType: 'full', statusVal: '', statusType: 'auto', x: 870, y: 200, wires: [] });
  nodes.push(comment('cr-c-look', z, 'Cameras move after an operator confirms', "ptz-steer is in 'operator confirms first' mode here: the alert reaches the console with the proposed move, and the camera turns when an operator presses 'move camera' (or confirms). Switch it to automatic in its form if your policy allows.", 650, 80, 'cr-grp-look'));
  nodes.push(group('cr-grp-look', z, 'Cameras and video', ['cr-steer', 'cr-video', 'cr-camera-errors', 'cr-c-look'], '#bfdbef'));

  const dash = dashboardConfig('cr');
  nodes.push(...dash.config);
  nodes.push({
    id: 'cr-console', type: 'alert-dashboard', z, g: 'cr-grp-ops', group: dash.groupId, name: "Operators' console", order: 1, width: '12', height: '10', chime: true, tileUrl: '', siteLat: '', siteLon: '',
    alertRetentionDays: 7, maxAlerts: 500, persist: true, auditDir: '', auditRetentionDays: 365, auditRotateMB: 10, x: 880, y: 320, wires: [['cr-steer', 'cr-decisions-only']],
  });
  nodes.push(decisionsOnly('cr-decisions-only', z, 'cr-grp-ops', ['cr-decision-topic']));
  nodes.push({
    id: 'cr-alert-topic', type: 'change', z, g: 'cr-grp-ops', name: 'topic vigie/v1/<site>/alert', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: '"vigie/v1/" & $env("VIGIE_SITE") & "/alert"', tot: 'jsonata' }],
    x: 1120, y: 260, wires: [['cr-outbox']],
  });
  nodes.push({
    id: 'cr-decision-topic', type: 'change', z, g: 'cr-grp-ops', name: 'topic vigie/v1/<site>/decision', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: '"vigie/v1/" & $env("VIGIE_SITE") & "/decision"', tot: 'jsonata' }],
    x: 1120, y: 320, wires: [['cr-outbox']],
  });
  // One outbox for both: a decision never overtakes the alert it is about.
  nodes.push(outbox('cr-outbox', z, 'cr-grp-ops', 'cr-broker', ['cr-out']));
  nodes.push({ id: 'cr-out', type: 'mqtt out', z, g: 'cr-grp-ops', name: 'alerts and decisions', topic: '', qos: '1', retain: 'false', respTopic: '', contentType: 'application/json', userProps: '', correl: '', expiry: '', broker: 'cr-broker', x: 1340, y: 290, wires: [] });
  nodes.push(comment('cr-c-ops', z, 'Operators decide', 'The console at /dashboard. Decisions and "move camera" requests go to ptz-steer; "decisions only" (a switch on msg.topic) lets only decisions through to the MQTT decision topic, whose schema has no room for a move request. Every camera move, live view and decision goes to the tamper-evident audit log (vigie-audit/ in the user directory; check it with `vigie audit verify`). While the broker is unreachable the outbox keeps alerts and decisions (up to ' + DEFAULT_MAX_MESSAGES + ' or ' + DEFAULT_MAX_AGE_S / 3600 + ' h, also across a restart) and sends them, in order, when it is back.', 880, 260, 'cr-grp-ops'));
  nodes.push(group('cr-grp-ops', z, 'Operators and publication', ['cr-console', 'cr-decisions-only', 'cr-alert-topic', 'cr-decision-topic', 'cr-outbox', 'cr-out', 'cr-c-ops'], '#f3d3d3'));
  const crPlace: Place = {
    'cr-c-in': [200, 80], 'cr-in': [200, 140], 'cr-this-site': [470, 140], 'cr-not-empty': [790, 140], 'cr-parse': [1030, 140], 'cr-fuse': [1210, 140],
    // The look column starts far enough right that its long comment keeps the groups apart.
    'cr-c-look': [1540, 80], 'cr-steer': [1540, 140], 'cr-video': [1800, 140], 'cr-camera-errors': [1800, 200],
    'cr-c-ops': [1540, 320], 'cr-console': [1540, 380], 'cr-decisions-only': [1760, 440],
    'cr-alert-topic': [2010, 350], 'cr-decision-topic': [2010, 440], 'cr-outbox': [2320, 395], 'cr-out': [2580, 395],
  };
  return stripPrivate(layout(nodes, crPlace));
}

/** The shipped flows as written: file name → file text (a test checks the committed ones match). */
export function shippedFlows(): Record<string, string> {
  const flows = { 'street-demo': streetDemo(), gateway: gateway(), 'control-room': controlRoom() };
  return Object.fromEntries(Object.entries(flows).map(([name, flow]) => [`${name}.json`, JSON.stringify(flow, null, 2) + '\n']));
}

if (require.main === module) {
  const out = path.join(root, 'flows');
  fs.mkdirSync(out, { recursive: true });
  for (const [file, text] of Object.entries(shippedFlows())) {
    fs.writeFileSync(path.join(out, file), text);
    process.stdout.write(`flows/${file}: ${JSON.parse(text).length} nodes\n`);
  }
}
