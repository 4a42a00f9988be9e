/**
 * The classifier model (DESIGN §5): an ONNX file plus its model card (sidecar JSON), loaded
 * once, checked against Vigie's contract, and run on windows of mono waveform.
 *
 * Contract: input `float32 [batch, samples]` at the card's sample rate; output
 * `[batch, classes]` probabilities; the card names labels, which may alert, which are voice.
 * A YAMNet-style model may map its own labels onto Vigie's with `labelMap` (scores are
 * aggregated by max).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ALERT_LABELS, isPublishableLabel, isVoiceLabel } from '../contracts';
import { isObject } from '../util/validate';
import { jsonFaultAt, lineColumnAt } from '../util/json-fault';

export interface ModelCard {
  name: string;
  input: { name: string; shape?: (number | string)[]; sampleRate: number; windowSamples: number };
  output: { name: string; shape?: (number | string)[]; activation?: 'softmax' | 'sigmoid' };
  labels: string[];
  alertLabels: string[];
  voiceLabels: string[];
  backgroundLabels: string[];
  /** Model label → Vigie label (YAMNet-style models). Unmapped model labels are ignored. */
  labelMap?: Record<string, string>;
  /** Recommended per-class on-thresholds (measured by the training pipeline). */
  thresholds?: Record<string, number>;
  /** Size of the ONNX file the card was written for, bytes: a truncated or swapped file is refused. */
  fileBytes?: number;
  /** SHA-256 of that ONNX file, hex: a damaged or swapped file is refused. */
  sha256?: string;
}

export interface TensorInfo {
  name: string;
  shape: readonly (number | string)[];
  type?: string;
}

/** A model that does not fit the contract: every problem found, each one precise. */
export class ModelContractError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`model ${path.basename(file)} does not fit Vigie's model contract: ${problems.join('; ')}`);
    this.name = 'ModelContractError';
    this.problems = problems;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

const MIN_RATE_HZ = 8000;
const MAX_RATE_HZ = 96000;

function stringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
}

/** Check a parsed card; returns the problems (empty when it is usable). */
export function checkCard(card: unknown): string[] {
  const p: string[] = [];
  if (!isObject(card)) return ['model card: expected a JSON object'];
  if (typeof card.name !== 'string' || !card.name) p.push('card.name: expected a non-empty string');
  const input = card.input;
  if (!isObject(input)) p.push('card.input: expected an object {name, sampleRate, windowSamples}');
  else {
    if (typeof input.name !== 'string' || !input.name) p.push('card.input.name: expected a non-empty string');
    const sr = input.sampleRate;
    if (typeof sr !== 'number' || !Number.isInteger(sr) || sr < MIN_RATE_HZ || sr > MAX_RATE_HZ) {
      p.push(`card.input.sampleRate: expected an integer ${MIN_RATE_HZ}..${MAX_RATE_HZ} Hz, got ${JSON.stringify(sr)}`);
    }
    const ws = input.windowSamples;
    if (typeof ws !== 'number' || !Number.isInteger(ws) || ws < 1) p.push(`card.input.windowSamples: expected a positive integer, got ${JSON.stringify(ws)}`);
    else if (typeof sr === 'number' && sr > 0) {
      const s = ws / sr;
      if (s < 0.1 || s > 10) p.push(`card.input.windowSamples: ${ws} samples at ${sr} Hz is ${s.toFixed(3)} s, expected a window of 0.1..10 s`);
    }
    if (input.shape !== undefined && (!Array.isArray(input.shape) || input.shape.length !== 2)) {
      p.push(`card.input.shape: expected rank 2 [batch, samples], got ${JSON.stringify(input.shape)}`);
    }
  }
  const output = card.output;
  if (!isObject(output)) p.push('card.output: expected an object {name}');
  else {
    if (typeof output.name !== 'string' || !output.name) p.push('card.output.name: expected a non-empty string');
    if (output.activation !== undefined && output.activation !== 'softmax' && output.activation !== 'sigmoid') {
      p.push(`card.output.activation: expected "softmax" or "sigmoid", got ${JSON.stringify(output.activation)}`);
    }
  }
  if (!stringArray(card.labels) || card.labels.length < 2) p.push('card.labels: expected an array of at least 2 label strings');
  else if (new Set(card.labels).size !== card.labels.length) p.push('card.labels: labels must be unique');
  for (const k of ['alertLabels', 'voiceLabels', 'backgroundLabels']) {
    if (!stringArray(card[k])) p.push(`card.${k}: expected an array of label strings`);
  }
  if (card.thresholds !== undefined) {
    if (!isObject(card.thresholds) || !Object.values(card.thresholds).every((v) => typeof v === 'number' && v > 0 && v <= 1)) {
      p.push('card.thresholds: expected an object {label: number in (0, 1]}');
    }
  }
  if (card.fileBytes !== undefined && !(typeof card.fileBytes === 'number' && Number.isInteger(card.fileBytes) && card.fileBytes > 0)) {
    p.push(`card.fileBytes: expected the ONNX file's size, a whole number of bytes above 0, got ${JSON.stringify(card.fileBytes)}`);
  }
  if (card.sha256 !== undefined && !(typeof card.sha256 === 'string' && SHA256_HEX.test(card.sha256))) {
    p.push(`card.sha256: expected the ONNX file's SHA-256, 64 hexadecimal digits, got ${JSON.stringify(card.sha256)}`);
  }
  if (card.labelMap !== undefined) {
    if (!isObject(card.labelMap) || !Object.values(card.labelMap).every((v) => typeof v === 'string' && v)) {
      p.push('card.labelMap: expected an object {model label: Vigie label}');
    }
  }
  if (p.length) return p;

  const c = card as unknown as ModelCard;
  const map = c.labelMap;
  if (map) {
    for (const k of Object.keys(map)) if (!c.labels.includes(k)) p.push(`card.labelMap: "${k}" is not one of card.labels`);
  }
  const vigieLabels = map ? [...new Set(Object.values(map))] : c.labels;
  const voice = new Set([...c.voiceLabels, ...vigieLabels.filter(isVoiceLabel)]);
  for (const a of c.alertLabels) {
    if (!vigieLabels.includes(a)) p.push(`card.alertLabels: "${a}" is not one of the labels${map ? ' (after labelMap)' : ''}`);
    if (voice.has(a) || isVoiceLabel(a)) p.push(`card.alertLabels: "${a}" is a voice label and can never alert (DESIGN §4.3)`);
    // A detection's label is one of Vigie's alert classes (the localizer, the console and the
    // editor's ticked classes know no other): a model's own name is mapped onto one.
    else if (!(ALERT_LABELS as readonly string[]).includes(a)) {
      p.push(`card.alertLabels: "${a}" is not one of Vigie's alert classes (${ALERT_LABELS.join(', ')}); map the model's label onto one with labelMap`);
    }
  }
  // Thresholds are read per Vigie label: one keyed by another name would be ignored, silently.
  for (const k of Object.keys(c.thresholds ?? {})) {
    if (vigieLabels.includes(k)) continue;
    const to = map?.[k];
    p.push(`card.thresholds: "${k}" is not one of the labels${map ? ' (after labelMap)' : ''}${to ? `; thresholds are per Vigie label: write it under "${to}"` : ''}`);
  }
  if (map) {
    for (const [from, to] of Object.entries(map)) {
      if ((c.voiceLabels.includes(from) || isVoiceLabel(from)) && c.alertLabels.includes(to)) {
        p.push(`card.labelMap: voice label "${from}" is mapped to alert label "${to}"`);
      }
    }
  }
  for (const k of ['voiceLabels', 'backgroundLabels'] as const) {
    for (const l of c[k]) if (!vigieLabels.includes(l) && !c.labels.includes(l)) p.push(`card.${k}: "${l}" is not one of the labels`);
  }
  if (c.output.shape !== undefined) {
    const s = c.output.shape;
    if (!Array.isArray(s) || s.length !== 2) p.push(`card.output.shape: expected rank 2 [batch, classes], got ${JSON.stringify(s)}`);
    else if (typeof s[1] === 'number' && s[1] !== c.labels.length) {
      p.push(`card.output.shape: ${s[1]} classes but card.labels has ${c.labels.length}`);
    }
  }
  return p;
}

/**
 * Check the ONNX file's bytes against the card's `fileBytes` and `sha256`, those it has in a
 * usable form (checkCard names the others): a truncated, damaged or swapped file would
 * otherwise load as another model than the card describes, or fail in onnxruntime with a
 * message that says nothing of the card.
 */
export function checkFile(card: unknown, bytes: Uint8Array): string[] {
  return [sizeProblem(card, bytes.length), digestProblem(card, bytes)].filter((p): p is string => p !== undefined);
}

/** The card's `fileBytes` (when usable) against the file's size in bytes. */
function sizeProblem(card: unknown, size: number): string | undefined {
  const expected = isObject(card) ? card.fileBytes : undefined;
  if (typeof expected === 'number' && Number.isInteger(expected) && expected > 0 && expected !== size) {
    return `card.fileBytes: the card expects ${expected} bytes, the file has ${size} (a truncated or another model file)`;
  }
  return undefined;
}

/** The card's `sha256` (when usable) against the file's bytes. */
function digestProblem(card: unknown, bytes: Uint8Array): string | undefined {
  const sha = isObject(card) ? card.sha256 : undefined;
  if (typeof sha !== 'string' || !SHA256_HEX.test(sha)) return undefined;
  const found = createHash('sha256').update(bytes).digest('hex');
  return found === sha.toLowerCase() ? undefined : `card.sha256: the card expects ${sha.toLowerCase()}, the file has ${found} (a damaged or another model file)`;
}

/**
 * The editor's summary says what the node will load: a file the card does not describe (its
 * size, else its digest, else its metadata) is named there, not only once deployed. The size
 * comes from a stat; the digest and the metadata read the file, which this does only up to
 * SUMMARY_DIGEST_MAX_BYTES so that an editor request never holds the runtime's event loop on a
 * huge file (the load checks it).
 */
function checkFileOnDisk(card: ModelCard, file: string): string[] {
  const size = fs.statSync(file).size;
  const wrongSize = sizeProblem(card, size);
  if (wrongSize) return [wrongSize];
  if (size > SUMMARY_DIGEST_MAX_BYTES) return [];
  const bytes = fs.readFileSync(file);
  const wrongDigest = digestProblem(card, bytes);
  if (wrongDigest) return [wrongDigest];
  // What the file's metadata says (its rate, window and labels in order), as the load checks
  // it: a card the form shows as fine would otherwise be refused only once deployed.
  let metadata: Record<string, string> = {};
  try {
    metadata = readOnnxMetadata(bytes);
  } catch {
    // Not a readable ONNX file: the load says why.
  }
  return checkMetadata(card, metadata);
}

/** Largest model file whose digest and metadata the editor's card summary checks (the contract allows 5 MB). */
export const SUMMARY_DIGEST_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Largest model file loaded. The file is read whole and onnxruntime makes its own copy: a wrong
 * path (a video, an archive) or a model far too big for a gateway would take Node-RED down with
 * it on a small board. The contract's model is 5 MB at most; a YAMNet-class export is tens of MB.
 */
export const MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

/** Check the ONNX graph's inputs/outputs (and metadata) against a valid card. */
export function checkGraph(card: ModelCard, inputs: TensorInfo[], outputs: TensorInfo[], metadata: Record<string, string> = {}): string[] {
  const p: string[] = [];
  const input = inputs.find((i) => i.name === card.input.name);
  if (!input) p.push(`input "${card.input.name}" (card.input.name) not found in the model, which has inputs ${JSON.stringify(inputs.map((i) => i.name))}`);
  else {
    if (input.type && input.type !== 'float32') p.push(`input "${input.name}": expected float32, got ${input.type}`);
    if (input.shape.length !== 2) p.push(`input "${input.name}": expected rank 2 [batch, samples], got rank ${input.shape.length} ${JSON.stringify(input.shape)}`);
    else if (typeof input.shape[1] === 'number' && input.shape[1] !== card.input.windowSamples) {
      p.push(`input "${input.name}": the model takes ${input.shape[1]} samples but card.input.windowSamples is ${card.input.windowSamples}`);
    }
  }
  if (inputs.length > 1) p.push(`the model has ${inputs.length} inputs; expected exactly one (the waveform)`);
  const output = outputs.find((o) => o.name === card.output.name);
  if (!output) p.push(`output "${card.output.name}" (card.output.name) not found in the model, which has outputs ${JSON.stringify(outputs.map((o) => o.name))}`);
  else {
    if (output.type && output.type !== 'float32') p.push(`output "${output.name}": expected float32, got ${output.type}`);
    if (output.shape.length !== 2) p.push(`output "${output.name}": expected rank 2 [batch, classes], got rank ${output.shape.length} ${JSON.stringify(output.shape)}`);
    else if (typeof output.shape[1] === 'number' && output.shape[1] !== card.labels.length) {
      p.push(`output "${output.name}": the model gives ${output.shape[1]} classes but card.labels has ${card.labels.length} labels`);
    }
  }
  p.push(...checkMetadata(card, metadata));
  return p;
}

/** The ONNX file's metadata_props (rate, window, labels in order) against a valid card. */
export function checkMetadata(card: ModelCard, metadata: Record<string, string>): string[] {
  const p: string[] = [];
  const mdRate = metadata.sample_rate ?? metadata.sampleRate ?? metadata.sample_rate_hz;
  if (mdRate !== undefined && Number(mdRate) !== card.input.sampleRate) {
    p.push(`card.input.sampleRate is ${card.input.sampleRate} Hz but the ONNX file says it was built for ${mdRate} Hz`);
  }
  // The card's label order says which output column is which class: a card with the model's
  // labels in another order would read its speech column as a gunshot, raise alerts on voices
  // and publish a voice's probability under an alert label (DESIGN §4, guarantee 3).
  const mdLabels = metadata.labels;
  const labelsDiffer = mdLabels === undefined ? undefined : labelsDifference(mdLabels, card.labels);
  if (labelsDiffer) p.push(`card.labels: not the ONNX file's labels in its order (${labelsDiffer}); the card must list the model's outputs in order`);
  const mdWindow = metadata.window_samples ?? metadata.windowSamples;
  if (mdWindow !== undefined && Number(mdWindow) !== card.input.windowSamples) {
    p.push(`card.input.windowSamples is ${card.input.windowSamples} but the ONNX file says ${mdWindow}`);
  }
  return p;
}

/**
 * Where the ONNX metadata's `labels` and the card's differ (undefined: they agree). The
 * metadata is a JSON array of strings, or the labels joined by commas (the project's exports).
 * AudioSet's names hold commas themselves ("Gunshot, gunfire"): a comma-joined list is compared
 * as text, with the card's labels joined the same way and spaces around commas ignored, not
 * split into labels.
 */
export function labelsDifference(metadataLabels: string, cardLabels: readonly string[]): string | undefined {
  let fileList: unknown;
  try {
    fileList = metadataLabels.trim().startsWith('[') ? JSON.parse(metadataLabels) : undefined;
  } catch {
    fileList = undefined;
  }
  if (stringArray(fileList)) {
    for (let i = 0; i < Math.max(fileList.length, cardLabels.length); i++) {
      if (fileList[i] === cardLabels[i]) continue;
      if (i >= fileList.length || i >= cardLabels.length) return `it has ${fileList.length} labels, the card ${cardLabels.length}`;
      return `output ${i} is "${fileList[i]}" in the file, "${cardLabels[i]}" in the card`;
    }
    return undefined;
  }
  const norm = (s: string): string => s.split(',').map((l) => l.trim()).join(',');
  const file = norm(metadataLabels);
  if (file === norm(cardLabels.join(','))) return undefined;
  if (!cardLabels.some((l) => l.includes(','))) {
    const fileLabels = file.split(',');
    const at = fileLabels.findIndex((l, i) => l !== cardLabels[i]);
    return at < 0 ? `it has ${fileLabels.length} labels, the card ${cardLabels.length}` : `output ${at} is "${fileLabels[at]}" in the file, "${cardLabels[at] ?? '(none)'}" in the card`;
  }
  // The first card label the file's text does not go on with.
  let prefix = '';
  for (let i = 0; i < cardLabels.length; i++) {
    const next = prefix + (i ? ',' : '') + norm(cardLabels[i]);
    if (!(file === next || file.startsWith(next + ','))) {
      const rest = file.slice(prefix.length + (i ? 1 : 0));
      const shown = rest.length > 40 ? rest.slice(0, 40) + '…' : rest;
      return rest ? `output ${i} is "${cardLabels[i]}" in the card, the file goes on with "${shown}"` : `the file's labels end before output ${i} ("${cardLabels[i]}"), the card has ${cardLabels.length}`;
    }
    prefix = next;
  }
  return `the file has more labels than the card's ${cardLabels.length}`;
}

/** Check a probe run: `rows` × `cols` outputs must be finite probabilities (softmax: rows sum to 1). */
export function checkProbabilities(data: ArrayLike<number>, dims: readonly number[], card: ModelCard, rows: number): string[] {
  const p: string[] = [];
  const name = card.output.name;
  if (dims.length !== 2 || dims[0] !== rows) {
    return [`output "${name}": a batch of ${rows} gave shape ${JSON.stringify(dims)}, expected [${rows}, ${card.labels.length}]`];
  }
  const cols = dims[1];
  if (cols !== card.labels.length) return [`output "${name}": the model gives ${cols} classes but card.labels has ${card.labels.length} labels`];
  const softmax = (card.output.activation ?? 'softmax') === 'softmax';
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (!Number.isFinite(v)) return [`output "${name}": non-finite value ${v} (row ${r}, class "${card.labels[c]}")`];
      if (v < -1e-4 || v > 1 + 1e-4) {
        return [`output "${name}": value ${v.toFixed(4)} for "${card.labels[c]}" is outside [0, 1]; expected probabilities (logits? add a softmax/sigmoid to the graph)`];
      }
      sum += v;
    }
    if (softmax && Math.abs(sum - 1) > 0.02) {
      p.push(`output "${name}": probabilities of a row sum to ${sum.toFixed(4)}, expected 1 (softmax); set card.output.activation to "sigmoid" for multi-label models`);
      break;
    }
  }
  return p;
}

/** Read the metadata_props of an ONNX file (ModelProto field 14) without a protobuf library. */
export function readOnnxMetadata(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  const varint = (pos: number): [number, number] => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated');
      const b = buf[pos++];
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return [v, pos];
      mul *= 128;
      if (mul > 2 ** 63) throw new Error('bad varint');
    }
  };
  const fields = (start: number, end: number, fn: (field: number, s: number, e: number) => void): void => {
    let pos = start;
    while (pos < end) {
      const [key, p1] = varint(pos);
      const field = Math.floor(key / 8);
      const wire = key & 7;
      pos = p1;
      if (wire === 0) pos = varint(pos)[1];
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const [len, p2] = varint(pos);
        if (p2 + len > end) throw new Error('truncated');
        fn(field, p2, p2 + len);
        pos = p2 + len;
      } else throw new Error(`unsupported wire type ${wire}`);
    }
  };
  fields(0, buf.length, (field, s, e) => {
    if (field !== 14) return;
    let k = '';
    let v = '';
    fields(s, e, (f2, s2, e2) => {
      if (f2 === 1) k = dec.decode(buf.subarray(s2, e2));
      if (f2 === 2) v = dec.decode(buf.subarray(s2, e2));
    });
    if (k) out[k] = v;
  });
  return out;
}

/** The card beside an ONNX file: `name.json`, else `name.onnx.json`. */
export function cardPathFor(onnxPath: string): string {
  const a = onnxPath.replace(/\.onnx$/i, '') + '.json';
  if (fs.existsSync(a)) return a;
  const b = onnxPath + '.json';
  return fs.existsSync(b) ? b : a;
}

/** What the node editor shows of a model: its name, its window and the thresholds its card recommends. */
export interface CardSummary {
  name: string;
  version?: string;
  /** The model's sample rate (Hz) and window (samples): the classifier form checks its hop and window against them. */
  sampleRate: number;
  windowSamples: number;
  /** Alert labels in Vigie's label space (voice labels are never alert labels). */
  alertLabels: string[];
  /** Recommended on-threshold per alert label (labels without one use 0.5). */
  thresholds: Record<string, number>;
}

/**
 * The card's JSON, parsed but not checked; unreadable or malformed JSON is a contract error of
 * `file`. Its words never quote the file: JSON.parse's own error text does ("Unexpected token
 * 'x', "{…" is not valid JSON"), and the editor's summary may be asked for any path.
 */
function readCardJson(file: string, cardPath: string): unknown {
  const name = path.basename(cardPath);
  let text: string;
  try {
    text = fs.readFileSync(cardPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file beside the model file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'read error');
    // The card itself chosen as the model file: said as such, not as a card missing beside it.
    if (code === 'ENOENT' && /\.json$/i.test(file)) throw new ModelContractError(file, [`${path.basename(file)} is a model card (JSON), not the ONNX model: choose the .onnx file beside it`]);
    throw new ModelContractError(file, [`model card ${name} cannot be read: ${why}`]);
  }
  try {
    // A byte order mark (some editors write one) is no fault of the JSON.
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new ModelContractError(file, [`model card ${name} cannot be read as JSON: ${jsonFaultWords(text.replace(/^\uFEFF/, ''), (e as Error).message)}`]);
  }
}

/**
 * Where and what a JSON syntax error is, in words of its own: JSON.parse's message quotes the
 * text around the fault, and names no position for the most common ones (a stray character, a
 * trailing comma), so the place is found by reading the text (jsonFaultAt), JSON.parse's
 * position taken only where that finds none.
 */
export function jsonFaultWords(text: string, parseMessage: string): string {
  if (!text.trim()) return 'the file is empty';
  const at = jsonFaultAt(text, parseMessage);
  // A fault found past the last character: the text stops short ("…, " with nothing after).
  if ((at === undefined && /Unexpected end of JSON input/i.test(parseMessage)) || (at !== undefined && at >= text.trimEnd().length)) return 'the text ends before the JSON is complete (a cut file, or a missing closing bracket)';
  if (at !== undefined) {
    const { line, column } = lineColumnAt(text, at);
    return `not valid JSON at line ${line}, column ${column}`;
  }
  return 'not valid JSON (an unexpected character: check the quotes, commas and brackets)';
}

/** Alert labels that may alert: never a voice label (DESIGN §4.3), whatever the card says. */
function alertLabelsOf(card: ModelCard): string[] {
  const voice = new Set(card.voiceLabels);
  return card.alertLabels.filter((l) => !voice.has(l) && !isVoiceLabel(l));
}

/** Read and check the card of a model file without loading the model (no inference session). */
export function readCardSummary(onnxPath: string): CardSummary {
  const file = path.resolve(onnxPath);
  if (!fs.existsSync(file)) throw new Error(`model file ${path.basename(file)} does not exist`);
  const cardPath = cardPathFor(file);
  const raw = readCardJson(file, cardPath);
  const problems = checkCard(raw);
  if (!problems.length) problems.push(...checkFileOnDisk(raw as ModelCard, file));
  if (problems.length) throw new ModelContractError(file, problems);
  const card = raw as ModelCard & { version?: unknown };
  const alertLabels = alertLabelsOf(card);
  const thresholds: Record<string, number> = {};
  for (const l of alertLabels) if (typeof card.thresholds?.[l] === 'number') thresholds[l] = card.thresholds[l];
  const out: CardSummary = { name: card.name, sampleRate: card.input.sampleRate, windowSamples: card.input.windowSamples, alertLabels, thresholds };
  if (typeof card.version === 'string') out.version = card.version;
  return out;
}

/** Session options for a small model on a gateway: one thread, no spinning (FIELD-NOTES). */
export const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential' as const,
  graphOptimizationLevel: 'all' as const,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | undefined;
function ort(): Ort {
  // Loaded on first use so that requiring lib/detect does not load the native addon.
  if (!ortModule) ortModule = require('onnxruntime-node') as Ort;
  return ortModule;
}

/** What the detector needs from a model (ClassifierModel; fakes in unit tests). */
export interface ScoringModel {
  readonly card: { name: string };
  readonly labels: string[];
  readonly alertLabels: string[];
  readonly sampleRateHz: number;
  readonly windowSamples: number;
  /** Per-class on-thresholds recommended by the model card, if any. */
  readonly recommendedThresholds?: Record<string, number>;
  infer(windows: Float32Array[]): Promise<Float32Array[]>;
  publicScores(scores: Float32Array): Record<string, number>;
  isVoice(label: string): boolean;
}

/** A loaded, validated classifier. Scores come out in Vigie's label space. */
export class ClassifierModel implements ScoringModel {
  readonly file: string;
  readonly card: ModelCard;
  /** Vigie labels (after labelMap), in score order. */
  readonly labels: string[];
  readonly alertLabels: string[];
  /**
   * Labels whose scores may be published (DESIGN §4.3): never a voice label; for a softmax
   * model the alert labels only, for a sigmoid (multi-label) model its labels that are Vigie's
   * (alert classes and STREET_LABELS), at most 18 whatever its card maps.
   */
  readonly publicLabels: readonly string[];
  readonly sampleRateHz: number;
  readonly windowSamples: number;
  readonly recommendedThresholds: Record<string, number> | undefined;
  private readonly voice: Set<string>;
  private readonly mapIndex: Int32Array | undefined;
  private session: import('onnxruntime-node').InferenceSession | undefined;
  private running: Promise<unknown> = Promise.resolve();

  private constructor(file: string, card: ModelCard, session: import('onnxruntime-node').InferenceSession) {
    this.file = file;
    this.card = card;
    this.session = session;
    this.sampleRateHz = card.input.sampleRate;
    this.windowSamples = card.input.windowSamples;
    this.recommendedThresholds = card.thresholds ? { ...card.thresholds } : undefined;
    if (card.labelMap) {
      this.labels = [...new Set(Object.values(card.labelMap))];
      this.mapIndex = new Int32Array(card.labels.length).fill(-1);
      const voiceInCard = (l: string): boolean => card.voiceLabels.includes(l) || isVoiceLabel(l);
      card.labels.forEach((l, i) => {
        const to = card.labelMap![l];
        // A voice class folded into another label ("Speech" → "other") would be published
        // under that name: it is left out, as an unmapped label is.
        if (to !== undefined && (!voiceInCard(l) || voiceInCard(to))) this.mapIndex![i] = this.labels.indexOf(to);
      });
    } else this.labels = card.labels.slice();
    this.voice = new Set([...card.voiceLabels, ...this.labels.filter(isVoiceLabel)]);
    this.alertLabels = alertLabelsOf(card);
    // Softmax scores sum to 1: every non-voice score published would give the voice classes'
    // share as what is missing. Only the alert labels' scores go out then, whose remainder
    // is every other sound at once. Independent (sigmoid) scores say nothing of each other:
    // those of Vigie's labels go out, in Vigie's words; a label of the model's own (a card may
    // map all 521 AudioSet names onto themselves) stays in the classifier.
    this.publicLabels = (card.output.activation ?? 'softmax') === 'softmax' ? this.alertLabels.slice() : this.labels.filter((l) => !this.isVoice(l) && isPublishableLabel(l));
  }

  /** Load and validate; throws ModelContractError listing every problem, or a plain Error for unreadable files. */
  static async load(onnxPath: string, opts: { cardPath?: string } = {}): Promise<ClassifierModel> {
    const file = path.resolve(onnxPath);
    const unreadable = (e: unknown) => new Error(`model file ${file} cannot be read: ${(e as Error).message}`);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch (e) {
      throw unreadable(e);
    }
    if (size > MAX_MODEL_FILE_BYTES) {
      throw new Error(`model file ${file}: expected at most ${MAX_MODEL_FILE_BYTES / 1024 / 1024} MB, it has ${Math.round(size / 1024 / 1024)} MB (not loaded: is it the right file? A model for a gateway is a few MB)`);
    }
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw unreadable(e);
    }
    const raw = readCardJson(file, opts.cardPath ?? cardPathFor(file));
    const cardProblems = checkCard(raw);
    // With names and labels readable, also check the graph so every problem is told at once.
    const basics = isObject(raw) && isObject(raw.input) && isObject(raw.output) && typeof raw.input.name === 'string' && typeof raw.output.name === 'string' && stringArray(raw.labels);
    if (cardProblems.length && !basics) throw new ModelContractError(file, cardProblems);
    // Before onnxruntime: a truncated file would fail there without naming the card.
    const fileProblems = checkFile(raw, bytes);
    if (fileProblems.length) throw new ModelContractError(file, [...cardProblems, ...fileProblems]);
    const card = raw as ModelCard;
    let metadata: Record<string, string> = {};
    try {
      metadata = readOnnxMetadata(bytes);
    } catch {
      // Not fatal here: onnxruntime below says precisely why the file is not a model.
    }
    let session: import('onnxruntime-node').InferenceSession;
    try {
      session = await ort().InferenceSession.create(bytes, SESSION_OPTIONS);
    } catch (e) {
      const msg = `model file ${path.basename(file)} is not a loadable ONNX model: ${(e as Error).message}`;
      if (cardProblems.length) throw new ModelContractError(file, [...cardProblems, msg]);
      throw new Error(msg);
    }
    const info = (meta: readonly unknown[], names: readonly string[]): TensorInfo[] =>
      names.map((n, i) => {
        const m = meta[i] as { isTensor?: boolean; shape?: (number | string)[]; type?: string } | undefined;
        return { name: n, shape: m?.shape ?? [], type: m?.type };
      });
    const graphProblems = [...cardProblems, ...checkGraph(card, info(session.inputMetadata, session.inputNames), info(session.outputMetadata, session.outputNames), metadata)];
    if (graphProblems.length) {
      await session.release().catch(() => undefined);
      throw new ModelContractError(file, graphProblems);
    }
    const model = new ClassifierModel(file, card, session);
    // Probe: silence and a noise burst must give probabilities.
    const probe = [new Float32Array(card.input.windowSamples), probeSignal(card.input.windowSamples)];
    let probeProblems: string[];
    try {
      const { data, dims } = await model.runRaw(probe);
      probeProblems = checkProbabilities(data, dims, card, probe.length);
    } catch (e) {
      probeProblems = [`running the model on a [2, ${card.input.windowSamples}] waveform failed: ${(e as Error).message}`];
    }
    if (probeProblems.length) {
      await model.release();
      throw new ModelContractError(file, probeProblems);
    }
    return model;
  }

  get isReleased(): boolean {
    return this.session === undefined;
  }

  /** True for labels that must never be published (DESIGN §4.3). */
  isVoice(label: string): boolean {
    return this.voice.has(label) || isVoiceLabel(label);
  }

  /** Run a batch of windows (each windowSamples long); raw model output. Calls are serialised. */
  private runRaw(windows: Float32Array[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const job = this.running.then(async () => {
      const s = this.session;
      if (!s) throw new Error(`model ${path.basename(this.file)} was released`);
      const n = this.windowSamples;
      const batch = new Float32Array(windows.length * n);
      let out: Awaited<ReturnType<typeof s.run>>;
      try {
        windows.forEach((w, i) => {
          if (w.length !== n) throw new Error(`window ${i}: expected ${n} samples, got ${w.length}`);
          batch.set(w, i * n);
        });
        const feeds = { [this.card.input.name]: new (ort().Tensor)('float32', batch, [windows.length, n]) };
        out = await s.run(feeds, [this.card.output.name]);
      } finally {
        // The batch is a copy of the windows' audio: zeroed once the model has run (DESIGN §4.2).
        batch.fill(0);
      }
      const t = out[this.card.output.name];
      const data = t.data as Float32Array;
      const dims = t.dims;
      for (const v of Object.values(out)) v.dispose?.();
      return { data: Float32Array.from(data), dims };
    });
    this.running = job.catch(() => undefined);
    return job;
  }

  /** Scores per window in Vigie's label order (labelMap aggregated by max). */
  async infer(windows: Float32Array[]): Promise<Float32Array[]> {
    const { data, dims } = await this.runRaw(windows);
    const cols = dims[1];
    const out: Float32Array[] = [];
    for (let r = 0; r < windows.length; r++) {
      const row = data.subarray(r * cols, (r + 1) * cols);
      if (!this.mapIndex) out.push(Float32Array.from(row));
      else {
        const agg = new Float32Array(this.labels.length);
        for (let c = 0; c < cols; c++) {
          const j = this.mapIndex[c];
          if (j >= 0 && row[c] > agg[j]) agg[j] = row[c];
        }
        out.push(agg);
      }
    }
    return out;
  }

  /**
   * Scores as an object of the public labels only (see publicLabels): the only form that ever
   * leaves the detector.
   */
  publicScores(scores: Float32Array, digits = 4): Record<string, number> {
    const o: Record<string, number> = {};
    const f = 10 ** digits;
    for (const l of this.publicLabels) o[l] = Math.round(scores[this.labels.indexOf(l)] * f) / f;
    return o;
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) {
      await this.running;
      await s.release();
    }
  }
}

/**
 * What a loaded model is, in a line of the log: its labels (a drop-in's outputs and the labels
 * its labelMap makes of them), its window and rate, its activation.
 */
export function describeModel(m: ClassifierModel): string {
  const outputs = m.card.labelMap ? `${m.card.labels.length} outputs onto ${m.labels.length} labels by its labelMap` : `${m.labels.length} labels`;
  const seconds = Math.round((m.windowSamples / m.sampleRateHz) * 1000) / 1000;
  return `${outputs}, ${m.windowSamples} samples (${seconds} s) at ${m.sampleRateHz} Hz, ${m.card.output.activation ?? 'softmax'}`;
}

function probeSignal(n: number): Float32Array {
  // Deterministic pseudo-noise burst (LCG), so the probe never depends on Math.random.
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const env = i > n / 4 && i < n / 2 ? 0.5 : 0.02;
    x[i] = env * ((s / 2 ** 32) * 2 - 1);
  }
  return x;
}
