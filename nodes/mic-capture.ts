/**
 * mic-capture: streams a sensor's audio into its in-memory ring and emits audio block
 * references (output 1) and health / level reports (output 2). Never any samples in a
 * message (DESIGN §4). The work is done by lib/audio/capture.ts; this node wires settings,
 * status, input and close.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Capture, CAPTURE_SETTINGS, CaptureStatus, HealthEvent, LevelEvent } from '../lib/audio/capture';
import { parseChannelMap, PcmFormat, PCM_FORMATS } from '../lib/audio/channels';
import { createSource, describeSource, ffmpegInputProblem, InputSource, isPlainPath, parseArecordL, SourceConfig, SourceType, SOURCE_TYPES } from '../lib/audio/sources';
import { AudioBlock } from '../lib/contracts';
import { findBinary } from '../lib/util/binaries';
import { capturedSensorNodes } from '../lib/util/deployed-nodes';
import { hasCredentials, hasPassword } from '../lib/util/url-credentials';
import { clearNodeFailure, reportNodeFailure } from '../lib/util/health';
import { errorStatus, setStatus, shortText } from '../lib/util/status';
import { settingsReader } from '../lib/util/validate';
import { unsetEnvSettings, withUnsetEnv } from '../lib/util/env-refs';
import type { SensorInfo } from '../lib/sensor';

/** What a vigie-sensor config node exposes (nodes/vigie-sensor.ts). */
interface VigieSensorNode extends Node {
  sensor: SensorInfo | undefined;
  sensorError: string | undefined;
  /** The Sensor ID as typed, also when the configuration is invalid. */
  configuredId: string | undefined;
}

interface MicCaptureDef extends NodeDef {
  sensor?: string;
  source?: string;
  device?: string;
  sampleRate?: string | number;
  channels?: string | number;
  format?: string;
  url?: string;
  realtime?: boolean;
  file?: string;
  loop?: boolean;
  pace?: string;
  scene?: string;
  simSensor?: string;
  channelMap?: string;
  blockMs?: string | number;
  ringSeconds?: string | number;
  levelEveryMs?: string | number;
  calibrationDb?: string | number;
}

/** The node's credentials: the user and password of an ffmpeg source's stream. */
interface StreamCredentials {
  username?: string;
  password?: string;
}

/** What is wrong with how an ffmpeg source's credentials are given (each a warning; the stream is still tried). */
function credentialWarnings(url: string, c: StreamCredentials | undefined): string[] {
  const out: string[] = [];
  if (hasPassword(url)) out.push('url: the password in this URL is saved in plain text in the flows; put the user and password in the "Stream user" and "Stream password" fields instead');
  if (c?.password && !c.username) out.push('Stream password: it is ignored without a Stream user; expected both, or neither');
  else if (c?.username && hasCredentials(url)) out.push('Stream user: ignored, because the URL already carries a user; expected the credentials in one place');
  return out;
}

/**
 * An ffmpeg input: a relative file path (one without a protocol ffmpeg knows, `a:b.wav` too) is
 * taken from the user directory, as a WAV file's is.
 */
function ffmpegInputOf(url: string, userDir: string): string {
  return isPlainPath(url) && !path.isAbsolute(url) ? path.resolve(userDir, url) : url;
}

/** A bundled scene's name as it is; a scene JSON's relative path from the user directory. */
function sceneOf(scene: string, userDir: string): string {
  return /^[\w-]+$/.test(scene) ? scene : path.resolve(userDir, scene);
}

/** Turn the editor's fields into a source config; errors name the setting ("setting url: expected …"). */
function sourceConfigFrom(config: MicCaptureDef, ctx: { userDir: string; sensorId: string; blockMs: number; credentials?: StreamCredentials }): SourceConfig {
  const setting = settingsReader(config, CAPTURE_SETTINGS);
  const type = (config.source || 'alsa') as SourceType;
  if (!SOURCE_TYPES.includes(type)) throw new Error(`setting source: expected one of ${SOURCE_TYPES.join(', ')}, got ${JSON.stringify(config.source)}`);
  switch (type) {
    case 'alsa': {
      const format = (config.format || 'S16_LE') as PcmFormat;
      if (!PCM_FORMATS.includes(format)) throw new Error(`setting format: expected one of ${PCM_FORMATS.join(', ')}, got ${JSON.stringify(config.format)}`);
      return {
        type,
        device: (config.device || 'default').trim(),
        sampleRate: setting('sampleRate'),
        channels: setting('channels'),
        format,
      };
    }
    case 'ffmpeg': {
      const url = config.url?.trim();
      if (!url) throw new Error('setting url: expected an ffmpeg input URL (rtsp://…, http://…, or a file path)');
      const urlProblem = ffmpegInputProblem(url);
      if (urlProblem) throw new Error(`setting ${urlProblem}`);
      return {
        type,
        url: ffmpegInputOf(url, ctx.userDir),
        username: ctx.credentials?.username || undefined,
        password: ctx.credentials?.password || undefined,
        sampleRate: setting('sampleRate'),
        channels: setting('channels'),
        realtime: !!config.realtime,
      };
    }
    case 'wav':
      if (!config.file || !config.file.trim()) throw new Error('setting file: expected the path of a WAV file (absolute, or relative to the Node-RED user directory)');
      return { type, file: config.file.trim(), baseDir: ctx.userDir, loop: config.loop !== false, pace: config.pace === 'fast' ? 'fast' : 'realtime' };
    case 'input':
      return { type };
    case 'simulated':
      return { type, scene: sceneOf((config.scene || 'street-demo').trim(), ctx.userDir), sensorId: (config.simSensor || '').trim() || ctx.sensorId, realtime: config.pace !== 'fast', blockMs: ctx.blockMs };
  }
}

/** Red ring = fault, yellow ring = a first start in progress (a source restarting after a fault is a fault). */
const STATUS_FILL: Record<string, 'red' | 'green' | 'yellow' | 'grey' | 'blue'> = {
  running: 'green',
  starting: 'yellow',
  waiting: 'yellow',
  restarting: 'red',
  failed: 'red',
  ended: 'grey',
  stopped: 'grey',
};

/** "−32 dBFS" with a real minus sign. */
function levelText(db: number): string {
  const r = Math.round(db);
  return `${r < 0 ? '\u2212' : ''}${Math.abs(r)} dBFS`;
}

export = function (RED: NodeAPI) {
  function MicCaptureNode(this: Node, config: MicCaptureDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let capture: Capture | null = null;
    let statusTimer: NodeJS.Timeout | null = null;
    let lastState: CaptureStatus = { state: 'starting', text: 'starting' };
    const reported = new Set<string>();
    /** The status of the last input block refused, kept over the level until a block is taken. */
    let inputFault = '';

    /** A failure: a short status naming the field (see errorStatus), the whole message in the log (once). */
    const fail = (err: Error) => {
      const message = err.message;
      setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err) });
      if (!reported.has(message)) {
        reported.add(message);
        node.error(message);
      }
    };

    const sensorNode = config.sensor ? (RED.nodes.getNode(config.sensor) as VigieSensorNode | null) : null;
    let releaseSensor = (): void => undefined;
    /** Shows the level at once (set once the capture runs). */
    let showLevelNow = (): void => undefined;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();

    try {
      if (!sensorNode) throw new Error('sensor: expected a vigie-sensor configuration node');
      if (!sensorNode.sensor) throw new Error(`sensor: ${sensorNode.sensorError ?? 'invalid configuration'}`);
      const sensor = sensorNode.sensor;
      const setting = settingsReader(config, CAPTURE_SETTINGS);
      const blockMs = setting('blockMs');
      const ringSeconds = setting('ringSeconds');
      const levelEveryMs = setting('levelEveryMs');
      const calibrationDb = setting('calibrationDb');
      // A setting left as "${VIGIE_ALSA_DEVICE}" names a variable set nowhere (a palette install
      // without the flows' variables): say so, rather than let arecord fail on the literal text.
      const unset = unsetEnvSettings(config as unknown as Record<string, unknown>);
      if (unset.length) throw new Error(withUnsetEnv(`setting ${unset[0].field}: expected a value, got ${JSON.stringify((config as unknown as Record<string, unknown>)[unset[0].field])}`, config as unknown as Record<string, unknown>));
      const credentials = (node as unknown as { credentials?: StreamCredentials }).credentials;
      if (config.source === 'ffmpeg') for (const w of credentialWarnings(config.url ?? '', credentials)) node.warn(w);
      const srcCfg = sourceConfigFrom(config, { userDir, sensorId: sensor.id, blockMs, credentials });
      const knownChannels = srcCfg.type === 'alsa' || srcCfg.type === 'ffmpeg' ? srcCfg.channels : undefined;
      const channelMap = parseChannelMap(config.channelMap, knownChannels, 'setting channelMap');
      const source = createSource(srcCfg);
      capture = new Capture({
        sensor: sensor.id,
        owner: `mic-capture "${config.name || node.id}" (node ${node.id})`,
        clock: sensor.clock,
        blockMs,
        ringSeconds,
        channelMap,
        source,
        levelEveryMs,
        calibrationDb,
        expectedChannels: sensor.mics.length,
      });
      const label = describeSource(srcCfg);
      capture.on('block', (b: AudioBlock) => node.send([{ topic: sensor.id, payload: b }, null]));
      capture.on('health', (h: HealthEvent) => {
        node.send([null, { topic: 'health', payload: h }]);
        if (h.condition === 'restart') node.warn(`capture restarted: ${h.detail}`);
      });
      capture.on('level', (l: LevelEvent) => node.send([null, { topic: 'level', payload: l }]));
      capture.on('fault', (err: Error) => fail(err));
      capture.on('warning', (message: string) => node.warn(message));
      capture.on('status', (s: CaptureStatus) => {
        lastState = s;
        // Running again: a fault that comes back later is a new fault, and is said again.
        if (s.state === 'running' && reported.size) {
          node.log(`sensor "${sensor.id}": capturing again`);
          reported.clear();
        }
        if (s.state !== 'running') setStatus(node, { fill: STATUS_FILL[s.state] ?? 'grey', shape: s.state === 'ended' || s.state === 'stopped' ? 'dot' : 'ring', text: shortText(s.text) });
        else showLevel();
      });
      const showLevel = () => {
        // A refused input block stays said (red) until a block is taken: the level, shown every
        // second, would hide it within a second.
        if (!capture || lastState.state !== 'running' || inputFault) return;
        const db = capture.levelDbfs;
        setStatus(node, { fill: 'green', shape: 'dot', text: db === undefined ? `${sensor.id}: running` : `${sensor.id}: ${levelText(db)}` });
      };
      statusTimer = setInterval(showLevel, 1000);
      showLevelNow = showLevel;
      setStatus(node, { fill: 'yellow', shape: 'ring', text: `starting ${srcCfg.type}` });
      node.log(`sensor "${sensor.id}": capturing from ${label}`);
      capture.start();
      // The localizer takes this sensor node's position and heading for detections of this sensor id.
      const owner = sensorNode;
      capturedSensorNodes.set(sensor.id, owner);
      releaseSensor = () => {
        if (capturedSensorNodes.get(sensor.id) === owner) capturedSensorNodes.delete(sensor.id);
      };
    } catch (err) {
      fail(err as Error);
      // No capture runs, so the health report's noAudio cannot see it: it is reported as failed.
      reportNodeFailure(node, { node: 'mic-capture', id: node.id, name: config.name, sensor: sensorNode?.sensor?.id ?? sensorNode?.configuredId, reason: (err as Error).message });
    }

    node.on('input', (msg: NodeMessageInFlow, _send: (m: NodeMessage | (NodeMessage | null)[]) => void, done: (err?: Error) => void) => {
      try {
        if (!capture) throw new Error('mic-capture is not running: see its configuration error');
        if (!(capture.source instanceof InputSource)) {
          throw new Error(`setting source: this mic-capture reads from "${capture.source.kind}"; only the "input" source takes audio blocks on its input`);
        }
        capture.source.push(msg.payload, capture.sensor);
        if (inputFault) {
          inputFault = '';
          showLevelNow();
        }
        done();
      } catch (err) {
        const e = err as Error;
        inputFault = errorStatus(e);
        setStatus(node, { fill: 'red', shape: 'ring', text: inputFault });
        done(e);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearNodeFailure(node);
      releaseSensor();
      if (statusTimer) clearInterval(statusTimer);
      statusTimer = null;
      const c = capture;
      capture = null;
      (c ? c.stop() : Promise.resolve())
        .catch((err: Error) => node.warn(`closing capture: ${err.message}`))
        .finally(() => {
          setStatus(node, {});
          done();
        });
    });
  }
  RED.nodes.registerType('mic-capture', MicCaptureNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  // ALSA capture devices for the editor's device menu.
  RED.httpAdmin.get('/vigie/alsa-devices', RED.auth.needsPermission('mic-capture.read'), (_req, res) => {
    const bin = findBinary('arecord', { envVar: 'VIGIE_ARECORD' });
    if (!bin) {
      res.status(503).json({ error: 'arecord not found: install alsa-utils or set VIGIE_ARECORD', devices: [] });
      return;
    }
    execFile(bin, ['-L'], { timeout: 5000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err && !stdout) {
        res.status(500).json({ error: `arecord -L failed: ${err.message}`, devices: [] });
        return;
      }
      res.json({ devices: parseArecordL(String(stdout)) });
    });
  });
};
