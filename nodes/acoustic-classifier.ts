/**
 * acoustic-classifier: audio blocks in (references into a sensor's ring, DESIGN §2),
 * detections out (output 1, only the alert classes ticked) and optional per-window scores
 * (output 2, for monitoring). The work is done by lib/detect/detector.ts, the same code the
 * `vigie eval detect` command runs; this node reads the config, the spans and wires events.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { readSpan, spanReadError } from '../lib/audio/registry';
import { ALERT_LABELS, AudioBlock, Detection, validateAudioBlock } from '../lib/contracts';
import { Detector, DetectorOptions, SETTING_RANGES } from '../lib/detect/detector';
import { ClassifierModel } from '../lib/detect/model';
import { ModelSource } from '../lib/detect/model-source';
import { ScoresPacer } from '../lib/detect/scores-pacer';
import { releaseAfterMs, SensorDetectors } from '../lib/detect/sensor-detectors';
import { SENSOR_SETTINGS, sensorAltOf, type SensorInfo } from '../lib/sensor';
import { isPlausibleWallTime, monotonicMs } from '../lib/util/clock';
import { clearNodeFailure, reportNodeFailure } from '../lib/util/health';
import { errorStatus, setStatus, shortText } from '../lib/util/status';
import { ContractError, isObject, settingInRange, settingsReader } from '../lib/util/validate';

interface ClassifierDef extends NodeDef {
  model: string;
  sensor?: string;
  labels?: string[];
  thresholds?: unknown;
  threshold?: number | string;
  hysteresis?: number | string;
  hopMs?: number | string;
  windowMs?: number | string;
  minAboveBackgroundDb?: number | string;
  minLevelDba?: number | string;
  minDurationMs?: number | string;
  coolDownMs?: number | string;
  channel?: string;
  scores?: boolean;
}

interface ModelConfigNode extends Node {
  source: ModelSource;
  modelPath: string;
}

interface SensorConfigNode extends Node {
  /** Undefined when the sensor's configuration is invalid (the config node says why). */
  readonly sensor: SensorInfo | undefined;
  /** Why the configuration is invalid, when it is. */
  readonly sensorError?: string;
  /** The Sensor ID as typed, also when the configuration is invalid. */
  readonly configuredId?: string;
}

/** No block for this long: the status stops showing the last level (the source stopped). */
const NO_AUDIO_STATUS_MS = 5000;

/** The clock error a detection states while its gateway's wall clock is not set: the most a sensor may state (its form's limit). */
const UNSET_CLOCK_ERROR_MS = SENSOR_SETTINGS.clockErrorMs.max;

/** "−80 dB(A)" with a real minus sign, as mic-capture shows its levels. */
function dbaText(db: number): string {
  const r = Math.round(db);
  return `${r < 0 ? '\u2212' : ''}${Math.abs(r)} dB(A)`;
}

function clock(t: number): string {
  return new Date(t * 1000).toISOString().slice(11, 19);
}

export = function (RED: NodeAPI) {
  function AcousticClassifierNode(this: Node, config: ClassifierDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const modelNode = RED.nodes.getNode(config.model) as ModelConfigNode | null;
    const sensorNode = config.sensor ? (RED.nodes.getNode(config.sensor) as SensorConfigNode | null) : null;
    /** Blocks whose samples were overwritten before their turn, by sensor (told when it catches up). */
    const expiredBlocks = new Map<string, number>();
    /** Sensors whose blocks lack the channel set in Channel, with when the last such block came (ms). */
    const channelMisfits = new Map<string, number>();
    let lastSetupError = '';
    let closed = false;
    // A sensor whose configuration is invalid: blocks are still classified, but detections go
    // out without its position (sensorInfo), so the status stays red rather than "ready".
    const sensorFault = sensorNode && !sensorNode.sensor ? `sensor: ${sensorNode.sensorError ?? 'invalid configuration'}` : '';
    if (sensorFault) node.error(`${sensorFault}; detections go out without the sensor's position (sensorInfo)`);
    let lastModelError = '';
    let lastDetection = '';
    let options: Omit<DetectorOptions, 'model' | 'sensor'>;
    /** This node cannot classify anything (settings, no model, a model that cannot be loaded): the health report says so. */
    const reportFailed = (reason: string): void =>
      reportNodeFailure(node, { node: 'acoustic-classifier', id: node.id, name: config.name, sensor: sensorNode?.sensor?.id ?? sensorNode?.configuredId, reason });
    /** The close handler of a node that stops at its setup: a closed node no longer fails. */
    const clearFailureOnClose = (): void => {
      node.on('close', (_removed: boolean, done: () => void) => {
        clearNodeFailure(node);
        done();
      });
    };

    try {
      // empty: the model's own value (the ranges have no defaults)
      const setting = settingsReader(config, SETTING_RANGES);
      const labels = Array.isArray(config.labels) ? config.labels.filter((l) => typeof l === 'string') : [...ALERT_LABELS];
      const thresholds: Record<string, number> = {};
      const perClass = config.thresholds ?? {};
      if (!isObject(perClass)) throw new ContractError('setting thresholds', 'an object of per-class thresholds', perClass);
      for (const l of labels) {
        const t = settingInRange(perClass[l], `setting thresholds.${l}`, SETTING_RANGES.threshold, undefined);
        if (t !== undefined) thresholds[l] = t;
      }
      const channel = (config.channel ?? 'mix').trim();
      const channelIndex = channel === 'mix' || channel === '' ? 'mix' : Number(channel) - 1;
      if (channelIndex !== 'mix' && !(Number.isInteger(channelIndex) && channelIndex >= 0)) throw new ContractError('setting channel', '"mix" or a channel number from 1', channel);
      options = {
        labels,
        thresholds,
        threshold: setting('threshold'),
        hysteresis: setting('hysteresis'),
        hopMs: setting('hopMs'),
        windowMs: setting('windowMs'),
        minAboveBackgroundDb: setting('minAboveBackgroundDb'),
        minLevelDba: setting('minLevelDba'),
        minDurationMs: setting('minDurationMs'),
        coolDownMs: setting('coolDownMs'),
        channel: channelIndex,
      };
      if (!labels.length) throw new ContractError('setting labels', 'at least one alert class ticked', 'none');
    } catch (e) {
      setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(e) });
      node.error(`settings: ${(e as Error).message}`);
      reportFailed(`settings: ${(e as Error).message}`);
      clearFailureOnClose();
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(`settings: ${(e as Error).message}`)));
      return;
    }

    if (!modelNode || !modelNode.source) {
      setStatus(node, { fill: 'red', shape: 'ring', text: 'no model configured' });
      reportFailed('model: no vigie-model config node selected');
      clearFailureOnClose();
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error('model: no vigie-model config node selected')));
      return;
    }
    const source = modelNode.source;
    source.register();
    /** The text of the status shown by showStatus, showFault or the idle check (the last one wins; '' once another status replaced it). */
    let statusText = '';
    let statusAt = 0;
    const showModelState = (): void => {
      const s = source.state;
      if (s.state === 'loading') setStatus(node, { fill: 'yellow', shape: 'ring', text: 'loading model' });
      else if (s.state === 'failed') setStatus(node, { fill: 'red', shape: 'ring', text: shortText(`model failed: ${s.error.message}`) });
      else if (s.state === 'ready' && !lastDetection) setStatus(node, sensorFault ? { fill: 'red', shape: 'ring', text: errorStatus(new Error(sensorFault)) } : { fill: 'green', shape: 'dot', text: `ready (${s.model.card.name})` });
      else return;
      // What was shown is replaced: the idle check (or the next block) shows its own again.
      statusText = '';
    };
    /** Failed while the model cannot be loaded; well again once it loads (the file is watched and reloaded when it changes). */
    const reportModelHealth = (): void => {
      const s = source.state;
      if (s.state === 'failed') reportFailed(`model: ${s.error.message}`);
      else if (s.state === 'ready') {
        clearNodeFailure(node);
        // A setup fault is the model's and the settings' together: with a new model it is
        // looked at afresh at the next block, and told (and reported) again if it remains.
        lastSetupError = '';
      }
    };
    const onState = (): void => {
      if (closed) return;
      showModelState();
      reportModelHealth();
    };
    source.on('state', onState);
    showModelState();
    reportModelHealth();

    // One detector per sensor heard; a sensor silent for minutes has its detector released
    // (its window of audio zeroed), and gets a fresh one if it comes back.
    const detectors = new SensorDetectors(releaseAfterMs(options.coolDownMs));
    // Output 2 speaks of a sensor at most 4 times a second, whatever the hop (DESIGN §4).
    const scoresPacer = new ScoresPacer();
    let warnedModel: ClassifierModel | undefined;
    function detectorFor(sensor: string, model: ClassifierModel): Detector {
      let d = detectors.get(sensor);
      if (d && d.model === model) detectors.heard(sensor, monotonicMs());
      else {
        // Ticked classes the model cannot recognise are said once per model, not fatal.
        const ticked = options.labels ?? [];
        const usable = ticked.filter((l) => model.alertLabels.includes(l));
        if (warnedModel !== model) {
          warnedModel = model;
          const missing = ticked.filter((l) => !usable.includes(l));
          if (missing.length) node.warn(`model ${model.card.name} cannot report ${missing.join(', ')}, ticked on this node (its alert classes are ${model.alertLabels.join(', ') || 'none'}); reporting only ${usable.join(', ') || 'nothing'}`);
        }
        if (!usable.length) throw new ContractError('setting labels', `at least one of the model's alert classes (${model.alertLabels.join(', ')})`, ticked.join(', '));
        try {
          d = new Detector({ ...options, labels: usable, model, sensor });
        } catch (e) {
          // hopMs or windowMs that do not fit this model's window: a setting of this node
          if (e instanceof ContractError && (e.field === 'hopMs' || e.field === 'windowMs')) throw new ContractError(`setting ${e.field}`, e.expected, e.got);
          throw e;
        }
        detectors.set(sensor, d, monotonicMs());
      }
      return d;
    }

    function sensorInfo(): Detection['sensorInfo'] | undefined {
      const s = sensorNode?.sensor;
      if (!s) return undefined;
      return { lat: s.lat, lon: s.lon, ...sensorAltOf(s), heading: s.headingDeg, clock: s.clock, clockErrorMs: s.clockErrorMs };
    }

    async function handle(msg: NodeMessage, send: (msgs: Array<NodeMessage | NodeMessage[] | null>) => void): Promise<void> {
      const block: AudioBlock = validateAudioBlock(msg.payload);
      if (sensorNode) {
        const want = sensorNode.sensor?.id;
        if (want && want !== block.sensor) throw new ContractError('payload.sensor', `"${want}" (the sensor configured on this classifier)`, block.sensor);
      }
      let model: ClassifierModel;
      try {
        model = await source.get();
        lastModelError = '';
        if (closed) return;
      } catch (e) {
        const m = `model: ${(e as Error).message}`;
        showModelState();
        if (m === lastModelError) return; // said once; the status keeps saying it
        lastModelError = m;
        throw new Error(m);
      }
      // A waiting block holds no samples: its span is read from the ring when its turn comes,
      // so a classifier slower than its audio is bounded by the ring, not by a queue of copies.
      await inTurn(block.sensor, () => classify(block, model, send));
    }

    /** Blocks of one sensor are classified one at a time, in order of arrival. */
    const turns = new Map<string, Promise<void>>();
    function inTurn(sensor: string, work: () => Promise<void>): Promise<void> {
      const job = (turns.get(sensor) ?? Promise.resolve()).then(work);
      const tail = job.catch(() => undefined);
      turns.set(sensor, tail);
      void tail.then(() => {
        if (turns.get(sensor) === tail) turns.delete(sensor);
      });
      return job;
    }

    async function classify(block: AudioBlock, model: ClassifierModel, send: (msgs: Array<NodeMessage | NodeMessage[] | null>) => void): Promise<void> {
      if (closed) return;
      const r = readSpan({ sensor: block.sensor, start: block.start, frames: block.frames });
      if (!r.ok) {
        if (r.reason === 'unknown-sensor') throw new ContractError('payload.sensor', 'a sensor whose audio ring is open in this Node-RED (is its mic-capture running?)', block.sensor);
        if (r.reason === 'expired') {
          // Behind by more than the ring: the first block is an error, the rest of the episode
          // is counted and told when the classifier catches up (not one error per block).
          const skipped = (expiredBlocks.get(block.sensor) ?? 0) + 1;
          expiredBlocks.set(block.sensor, skipped);
          statusText = `falling behind: audio of ${block.sensor} overwritten`;
          setStatus(node, { fill: 'yellow', shape: 'ring', text: statusText });
          if (skipped > 1) return;
          throw new Error(`payload.start: the block's samples were already overwritten (${r.message}); the classifier is falling behind or the block is stale; skipping such blocks of sensor "${block.sensor}" until it catches up`);
        }
        throw spanReadError({ sensor: block.sensor, start: block.start, frames: block.frames }, r);
      }
      try {
        if (r.channels.length !== block.channels) throw new ContractError('payload.channels', `${r.channels.length} (the channels of sensor "${block.sensor}"'s ring)`, block.channels);
        if (r.sampleRate !== block.sampleRate) throw new ContractError('payload.sampleRate', `${r.sampleRate} (the rate of sensor "${block.sensor}"'s ring)`, block.sampleRate);
        const channel = options.channel ?? 'mix';
        if (channel !== 'mix' && channel >= r.channels.length) {
          // Every block of this sensor would fail alike, ten a second: said once per episode,
          // the red status keeps saying it until a block fits (its capture restarted with more
          // channels, or a redeploy with another channel). The detector checks it too, as a
          // bare "channel" that would read like a fault of payload.channels.
          const err = new ContractError('setting channel', `a channel from 1 to ${r.channels.length} (the channel count of sensor "${block.sensor}")`, channel + 1);
          const told = channelMisfits.has(block.sensor);
          channelMisfits.set(block.sensor, monotonicMs());
          if (!told) throw err;
          showFault(errorStatus(err));
          return;
        }
        if (channelMisfits.delete(block.sensor)) node.log(`sensor "${block.sensor}": its blocks have the chosen channel again; classifying`);
        let det: Detector;
        try {
          det = detectorFor(block.sensor, model);
          if (lastSetupError) {
            lastSetupError = '';
            clearNodeFailure(node);
          }
        } catch (e) {
          // A model without any ticked class, or a hop or window that do not fit its window,
          // fails every block: said once, the status keeps saying it, and so does the health report.
          const m = (e as Error).message;
          if (m === lastSetupError) return;
          lastSetupError = m;
          reportFailed(m);
          throw e;
        }
        const out = await det.process({ start: block.start, time: block.time, sampleRate: block.sampleRate, channels: r.channels });
        if (closed) return;
        const skipped = expiredBlocks.get(block.sensor);
        if (skipped) {
          expiredBlocks.delete(block.sensor);
          node.warn(`sensor "${block.sensor}": caught up after ${skipped} block(s) whose samples were overwritten (${((skipped * block.frames) / block.sampleRate).toFixed(1)} s of audio not classified)`);
        }
        lastBlockAtMs = Date.now();
        lastBlockAtMonotonicMs = monotonicMs();
        const info = sensorInfo();
        const detections: NodeMessage[] = out.detections.map((d) => {
          // A wall clock not set yet (a gateway without a battery clock, before NTP answers) is
          // no synchronised clock, whatever the sensor's form says: the onset says so, and the
          // control room neither compares it with other sensors' nor trusts its time.
          const unset = info && !isPlausibleWallTime(d.onset * 1000);
          const payload: Detection = info ? { ...d, sensorInfo: unset ? { ...info, clock: 'local', clockErrorMs: UNSET_CLOCK_ERROR_MS } : info } : d;
          return { topic: `${d.sensor}/${d.label}`, payload } as NodeMessage;
        });
        const windows: NodeMessage[] = config.scores ? out.windows.filter((w) => scoresPacer.admit(w)).map((w) => ({ topic: `${w.sensor}/scores`, payload: w }) as NodeMessage) : [];
        if (detections.length || windows.length) send([detections.length ? detections : null, windows.length ? windows : null]);
        const last = out.detections[out.detections.length - 1];
        if (last) lastDetection = `${last.label} ${clock(last.onset)}`;
        const lvl = det.lastLevel;
        showStatus(`${lvl ? dbaText(lvl.dba) : '…'}${lastDetection ? ` · last: ${lastDetection}` : ''}`, last !== undefined);
      } finally {
        // The copies read from the ring are zeroed once used (DESIGN §4.2).
        for (const ch of r.channels) ch.fill(0);
      }
    }

    // The level changes with every block; the editor needs it about once a second, not ten
    // times per sensor (each status is a message to every open editor).
    function showStatus(text: string, now: boolean): void {
      // A sensor without the chosen channel: its fault stays shown over the others' levels.
      if (channelMisfits.size) return;
      const t = monotonicMs();
      // Only the drift of an already shown level waits; anything else shows at once.
      const levelDrift = /dB\(A\)/.test(text) && /dB\(A\)/.test(statusText);
      if (text === statusText || (!now && levelDrift && t - statusAt < 1000)) return;
      statusText = text;
      statusAt = t;
      setStatus(node, { fill: 'green', shape: 'dot', text });
    }

    /** A red status that lasts (a fault every block of a sensor has), set when not already shown. */
    function showFault(text: string): void {
      if (text === statusText) return;
      statusText = text;
      setStatus(node, { fill: 'red', shape: 'ring', text });
    }

    // A source that stops sends nothing: without this check the last level would stay shown
    // as if the street were still heard. Said once, with the time of the last block: the wall
    // clock time is shown, the monotonic one times the silence (durations do not follow NTP steps).
    let lastBlockAtMs = 0;
    let lastBlockAtMonotonicMs = 0;
    // A capture that never delivers (ffmpeg failing from the start) must not leave "ready" shown.
    const startedAtMs = Date.now();
    const startedAtMonotonicMs = monotonicMs();
    let anyInput = false;
    const idleTimer = setInterval(() => {
      if (closed) return;
      for (const sensor of detectors.releaseIdle(monotonicMs(), (s) => turns.has(s))) {
        scoresPacer.forget(sensor);
        node.log(`sensor "${sensor}": no audio for ${Math.round(detectors.idleMs / 60_000)} min; its detection state is released (its next block starts afresh)`);
      }
      // A sensor without the chosen channel that went away no longer holds the fault shown.
      for (const [sensor, atMs] of channelMisfits) if (monotonicMs() - atMs >= detectors.idleMs) channelMisfits.delete(sensor);
      if (channelMisfits.size) return;
      let text: string;
      if (lastBlockAtMs === 0) {
        // Nothing at all since the start: said over "ready" only (a model or sensor fault, or a
        // refused message, says more), once the model is loaded.
        if (anyInput || sensorFault || source.state.state !== 'ready' || monotonicMs() - startedAtMonotonicMs < NO_AUDIO_STATUS_MS) return;
        text = `no audio since the start (${clock(startedAtMs / 1000)})`;
      } else {
        if (monotonicMs() - lastBlockAtMonotonicMs < NO_AUDIO_STATUS_MS) return;
        text = `no audio since ${clock(lastBlockAtMs / 1000)}${lastDetection ? ` · last: ${lastDetection}` : ''}`;
      }
      if (text === statusText) return;
      statusText = text;
      setStatus(node, { fill: 'yellow', shape: 'ring', text });
    }, 1000);

    node.on('input', (msg: NodeMessage, send: (msgs: Array<NodeMessage | NodeMessage[] | null>) => void, done: (err?: Error) => void) => {
      anyInput = true;
      handle(msg, send).then(
        () => done(),
        (err: Error) => {
          // A block still in flight when the node closes (model released) is not an error.
          if (closed) return done();
          statusText = errorStatus(err);
          setStatus(node, { fill: 'red', shape: 'ring', text: statusText });
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearNodeFailure(node);
      clearInterval(idleTimer);
      source.off('state', onState);
      detectors.clear();
      scoresPacer.clear();
      source
        .deregister()
        .catch((err: Error) => node.warn(`releasing the model: ${err.message}`))
        .finally(() => done());
    });
  }
  RED.nodes.registerType('acoustic-classifier', AcousticClassifierNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
