/**
 * Looks for audio in anything that leaves the process: HTTP bodies, WebSocket messages, MQTT
 * payloads, log text, files. What counts as audio here:
 * - audio containers and codecs by signature (RIFF/WAVE, Ogg, FLAC, ID3/MP3, AAC ADTS, and in
 *   MP4 an audio track: a `soun` handler or an `mp4a`/`Opus`/`ac-3` sample entry),
 * - an audio MIME type,
 * - in JSON: long runs of numbers (sample arrays, also typed arrays that JSON.stringify turned
 *   into {"0":…,"1":…}, and numbers listed in a string), fields named like samples, and long
 *   base64 strings that are not a known image,
 * - binary that is not an image, a font or MP4 video: raw PCM has no signature, so any other
 *   binary body, WebSocket frame or Socket.IO attachment is a finding. Binary WebSocket frames
 *   are expected only on the live-video route, and there they must parse as MP4 boxes,
 * - in logs: long runs of numbers (integers too) and printed Buffers,
 * - a canary: exact encodings (int16 LE, float32 LE, decimal text) of a known sample sequence.
 * Whatever the scanner cannot read (a truncated recording, an unknown content encoding, a
 * Socket.IO frame it cannot parse) is a finding too: unread is not clean.
 */
import * as zlib from 'zlib';

export interface Finding {
  where: string;
  what: string;
}

/** This many numbers in a row look like samples (a 100 ms block at 16 kHz is 1600). */
const SAMPLE_RUN = 256;
/** In log text and strings, where numbers are printed: util.inspect shows up to 100 array items. */
const PRINTED_RUN = 64;
const AUDIO_KEYS = /^(samples?|pcm|waveform|audio(data)?|wav|buffer|channels?Data)$/i;
/** PRINTED_RUN numbers (integers or decimals) separated by commas, semicolons or white space. */
// Each number and separator can match only one way (no catastrophic backtracking on long logs).
const NUMBER_RUN = new RegExp(`(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:e[-+]?\\d+)?[,;\\s]+){${PRINTED_RUN},}`, 'i');

export function scanJson(value: unknown, where: string, out: Finding[], path = '$'): void {
  if (Array.isArray(value)) {
    let run = 0;
    for (const v of value) {
      run = typeof v === 'number' ? run + 1 : 0;
      if (run >= SAMPLE_RUN) {
        out.push({ where, what: `${path}: a run of ${run}+ numbers (sample-like array)` });
        break;
      }
    }
    value.forEach((v, i) => scanJson(v, where, out, `${path}[${i}]`));
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'Buffer' && Array.isArray(o.data) && o.data.length > 64) out.push({ where, what: `${path}: a serialised Buffer of ${o.data.length} bytes` });
    const indexed = indexedNumbers(o);
    if (indexed >= SAMPLE_RUN) out.push({ where, what: `${path}: an object of ${indexed} numbers keyed "0", "1", … (a serialised typed array)` });
    for (const [k, v] of Object.entries(o)) {
      if (AUDIO_KEYS.test(k) && (Array.isArray(v) || (typeof v === 'string' && v.length > 64) || ArrayBuffer.isView(v))) {
        out.push({ where, what: `${path}.${k}: a field that looks like audio data` });
      }
      // Typed arrays walked here would be reported once per element; the object check above has them.
      if (indexed < SAMPLE_RUN) scanJson(v, where, out, `${path}.${k}`);
    }
  } else if (typeof value === 'string') {
    if (value.length >= 4096 && /^[A-Za-z0-9+/=\r\n]+$/.test(value)) {
      const head = Buffer.from(value.slice(0, 64), 'base64');
      if (!isImage(head)) out.push({ where, what: `${path}: a ${value.length}-character base64 string that is not an image` });
      else scanBinary(Buffer.from(value, 'base64'), `${where} ${path}`, out);
    } else if (value.length >= PRINTED_RUN * 2 && NUMBER_RUN.test(value)) {
      out.push({ where, what: `${path}: a string listing ${PRINTED_RUN}+ numbers (sample-like)` });
    }
  }
}

/** How many of the object's keys are "0", "1", … "n-1" with number values (0 when not all are). */
function indexedNumbers(o: Record<string, unknown>): number {
  const keys = Object.keys(o);
  if (keys.length < 2) return 0;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== String(i) || typeof o[keys[i]] !== 'number') return 0;
  return keys.length;
}

function isImage(b: Buffer): boolean {
  return imageType(b) !== undefined;
}

function imageType(b: Buffer): string | undefined {
  const s = b.subarray(0, 12).toString('latin1');
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (s.startsWith('\x89PNG')) return 'png';
  if (s.startsWith('GIF8')) return 'gif';
  if (s.startsWith('RIFF') && s.slice(8, 12) === 'WEBP') return 'webp';
  if (s.startsWith('\x00\x00\x01\x00')) return 'ico';
  if (s.startsWith('BM')) return 'bmp';
  return undefined;
}

function isFont(b: Buffer): boolean {
  const s = b.subarray(0, 4).toString('latin1');
  // WOFF, WOFF2, TrueType, OpenType (CFF), TrueType collection; EOT has "LP" at byte 34.
  return ['wOFF', 'wOF2', '\x00\x01\x00\x00', 'OTTO', 'true', 'ttcf'].includes(s) || b.subarray(34, 36).toString('latin1') === 'LP';
}

/** Top-level boxes of an ISO BMFF (MP4) file or fragment. */
const MP4_TOP_BOXES = new Set(['ftyp', 'styp', 'moov', 'moof', 'mdat', 'sidx', 'ssix', 'prft', 'emsg', 'free', 'skip', 'meta', 'mfra', 'uuid', 'pdin', 'wide']);

/** Why `b` is not a sequence of whole MP4 boxes (size + type), or undefined when it is one. */
export function mp4BoxProblem(b: Buffer): string | undefined {
  let off = 0;
  if (b.length === 0) return 'empty';
  while (off < b.length) {
    if (b.length - off < 8) return `${b.length - off} byte(s) after the last box`;
    let size = b.readUInt32BE(off);
    const type = b.subarray(off + 4, off + 8).toString('latin1');
    if (!MP4_TOP_BOXES.has(type)) return `no MP4 box at byte ${off} (type ${JSON.stringify(type)})`;
    if (size === 1) {
      if (b.length - off < 16) return `box ${type} at byte ${off}: truncated 64-bit size`;
      size = Number(b.readBigUInt64BE(off + 8));
    } else if (size === 0) size = b.length - off; // to the end
    if (size < 8 || off + size > b.length) return `box ${type} at byte ${off}: size ${size} does not fit the ${b.length - off} byte(s) left`;
    off += size;
  }
  return undefined;
}

/** Binary signatures of audio. `b` may be a whole file, an HTTP body or a stream capture. */
export function scanBinary(b: Buffer, where: string, out: Finding[]): void {
  const s = b.toString('latin1');
  const sig = (re: RegExp, what: string) => {
    if (re.test(s)) out.push({ where, what });
  };
  sig(/RIFF[\s\S]{4}WAVE/, 'a RIFF/WAVE header');
  sig(/OggS\x00/, 'an Ogg page');
  sig(/^fLaC/, 'a FLAC stream');
  sig(/^ID3[\x02-\x04]/, 'an ID3 tag (MP3)');
  sig(/hdlr[\s\S]{8}soun/, 'an MP4 audio track (soun handler)');
  sig(/stsd[\s\S]{8,16}(mp4a|Opus|ac-3|ec-3|alac|fLaC)/, 'an MP4 audio sample entry');
  sig(/#EXTM3U[\s\S]*TYPE=AUDIO/, 'an HLS audio rendition');
}

export function scanContentType(ct: string | undefined, where: string, out: Finding[]): void {
  if (ct && /^audio\//i.test(ct.trim())) out.push({ where, what: `content-type ${ct}` });
}

/** Valid UTF-8 without NUL bytes: what a text body looks like, and raw PCM practically never does. */
function isText(b: Buffer): boolean {
  if (b.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * Scan a body given its content type. Text is signature-scanned and, when JSON, parsed and
 * walked. Binary must be what its type says among images, fonts, MP4 video and MJPEG (the type
 * is guessed from the bytes when none is given); any other binary is a finding.
 */
export function scanBody(body: Buffer, contentType: string | undefined, where: string, out: Finding[]): void {
  scanContentType(contentType, where, out);
  if (body.length === 0) return;
  scanBinary(body, where, out);
  const ct = (contentType ?? '').toLowerCase();
  if (/^multipart\/x-mixed-replace/.test(ct)) return scanMjpeg(body, ct, where, out);
  if (/^video\/mp4|^video\/iso\.segment/.test(ct) || (!ct && body.subarray(4, 8).toString('latin1') === 'ftyp')) {
    const problem = mp4BoxProblem(body);
    if (problem) out.push({ where, what: `an MP4 body that is not MP4 boxes (${problem})` });
    return;
  }
  if (/^image\/(?!svg)/.test(ct) || (!ct && isImage(body))) {
    if (!isImage(body)) out.push({ where, what: `a ${contentType} body (${body.length} bytes) that is not an image` });
    return;
  }
  if (/^font\/|^application\/(x-)?font|^application\/vnd\.ms-fontobject/.test(ct) || (!ct && isFont(body))) {
    if (!isFont(body)) out.push({ where, what: `a ${contentType} body (${body.length} bytes) that is not a font` });
    return;
  }
  if (!isText(body)) {
    out.push({ where, what: `a binary body (${contentType ?? 'no content type'}, ${body.length} bytes) that is not an image, a font or MP4 video` });
    return;
  }
  if (/json|text\/plain/.test(ct) || looksLikeJson(body)) {
    try {
      scanJson(JSON.parse(body.toString('utf8')), where, out);
    } catch {
      /* not JSON after all */
    }
  }
}

function looksLikeJson(b: Buffer): boolean {
  const c = b.subarray(0, 1).toString();
  return c === '{' || c === '[';
}

/** MJPEG (multipart/x-mixed-replace): every part is a JPEG. The last part may be cut short by the viewer leaving. */
function scanMjpeg(body: Buffer, ct: string, where: string, out: Finding[]): void {
  const boundary = /boundary="?([^";]+)"?/.exec(ct)?.[1];
  if (!boundary) return void out.push({ where, what: `${ct}: no boundary, parts not checked` });
  const sep = Buffer.from(`--${boundary.replace(/^--/, '')}`);
  let at = body.indexOf(sep);
  while (at >= 0) {
    const next = body.indexOf(sep, at + sep.length);
    const part = body.subarray(at + sep.length, next < 0 ? body.length : next);
    const headEnd = part.indexOf('\r\n\r\n');
    const data = headEnd < 0 ? Buffer.alloc(0) : part.subarray(headEnd + 4);
    if (data.length > 0 && !isImage(data)) out.push({ where, what: `an MJPEG part at byte ${at} that is not an image` });
    at = next;
  }
}

/** Socket.IO over Engine.IO v4: one packet (a WebSocket text frame, or one packet of a polling body). */
export function scanSocketIoText(text: string, where: string, out: Finding[]): void {
  // Engine.IO control packets carry nothing: ping, pong (with "probe"), upgrade, noop, close.
  if (/^[1-6](probe)?$/.test(text)) return;
  // Engine.IO "open" (0{…}), or a message (4) holding a Socket.IO packet: its type, the number
  // of binary attachments ("451-" = binary event with one), a namespace, an ack id, then JSON.
  const m = /^(?:0|4[0-6](?:\d+-)?(?:\/[^,[{]*,)?\d*)([[{][\s\S]*)?$/.exec(text);
  if (!m) return void out.push({ where, what: `a Socket.IO frame the scanner cannot parse (${text.length} characters: ${JSON.stringify(text.slice(0, 40))}…)` });
  if (m[1] === undefined) return; // e.g. "40" connect, "41" disconnect
  try {
    scanJson(JSON.parse(m[1]), where, out);
  } catch {
    out.push({ where, what: `a Socket.IO frame whose JSON does not parse (${text.length} characters)` });
  }
}

/** An Engine.IO v4 long-polling body: packets joined by \x1e; "b…" is a base64 binary attachment. */
export function scanEngineIoPolling(text: string, where: string, out: Finding[]): void {
  for (const packet of text.split('\x1e')) {
    if (packet.startsWith('b')) {
      const data = Buffer.from(packet.slice(1), 'base64');
      out.push({ where, what: `a binary Socket.IO attachment of ${data.length} bytes` });
      scanBinary(data, where, out);
    } else scanSocketIoText(packet, where, out);
  }
}

/** The live-video WebSocket route, the only place binary frames belong (MP4 boxes). */
const LIVE_VIDEO_ROUTE = /\/vigie\/video\/[^/?]+\/live(\?|$)/;

export interface WsMessageRecord {
  url: string;
  opcode: number; // 1 text, 2 binary
  data: Buffer;
}

/** One WebSocket message from the server. */
export function scanWsMessage(w: WsMessageRecord, out: Finding[]): void {
  const where = `ws ${w.url}`;
  if (w.opcode === 2) {
    if (!LIVE_VIDEO_ROUTE.test(w.url)) out.push({ where, what: `a binary frame of ${w.data.length} bytes outside the live-video route` });
    else {
      const problem = mp4BoxProblem(w.data);
      if (problem) out.push({ where, what: `a binary frame of ${w.data.length} bytes that is not MP4 boxes (${problem})` });
    }
    scanBinary(w.data, where, out);
    return;
  }
  const text = w.data.toString('utf8');
  if (/\/socket\.io\//.test(w.url)) return scanSocketIoText(text, where, out);
  scanBody(w.data, looksLikeJson(w.data) ? 'application/json' : 'text/plain', where, out);
}

export interface HttpResponseRecord {
  method?: string;
  url: string;
  contentType?: string;
  contentEncoding?: string;
  body: Buffer;
  /** The recorder kept only the start of the body. */
  truncated?: boolean;
}

/** One HTTP response as recorded (body as sent: still compressed when it was). */
export function scanHttpResponse(h: HttpResponseRecord, out: Finding[]): void {
  const where = `http ${h.method ?? 'GET'} ${h.url}`;
  if (h.truncated) out.push({ where, what: `the recording kept only ${h.body.length} bytes of the body: the rest was not scanned` });
  let body: Buffer;
  try {
    body = decodeContent(h.body, h.contentEncoding);
  } catch (err) {
    // A truncated compressed body cannot be decoded to the end; the truncation is already reported.
    if (!h.truncated) out.push({ where, what: `a ${h.contentEncoding} body that does not decode (${(err as Error).message})` });
    return;
  }
  if (/\/socket\.io\/.*transport=polling/.test(h.url) && isText(body)) {
    const text = body.toString('utf8');
    // The server answers a client's POST of packets with "ok"; GET bodies carry the packets.
    if (!(h.method === 'POST' && text === 'ok')) scanEngineIoPolling(text, where, out);
  } else scanBody(body, h.contentType, where, out);
}

/** Undo Content-Encoding (gzip, deflate, br; several in the order applied). */
export function decodeContent(body: Buffer, encoding: string | undefined): Buffer {
  const codings = (encoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  let b = body;
  for (const c of codings.reverse()) {
    if (c === 'gzip' || c === 'x-gzip') b = zlib.gunzipSync(b);
    else if (c === 'deflate') b = b[0] === 0x78 ? zlib.inflateSync(b) : zlib.inflateRawSync(b);
    else if (c === 'br') b = zlib.brotliDecompressSync(b);
    else throw new Error(`unknown content encoding ${c}`);
  }
  return b;
}

/** Everything a recording proxy saw (see recording-proxy.ts), truncations included. */
export function scanRecording(rec: { http: HttpResponseRecord[]; ws: WsMessageRecord[]; wsTruncated: Array<{ url: string; recordedBytes: number }> }, out: Finding[]): void {
  for (const h of rec.http) scanHttpResponse(h, out);
  for (const w of rec.ws) scanWsMessage(w, out);
  for (const t of rec.wsTruncated) out.push({ where: `ws ${t.url}`, what: `the recording stopped after ${t.recordedBytes} bytes of this connection: the rest was not scanned` });
}

/** Log text: printed sample lists (integers or decimals) and printed Buffers. */
export function scanLog(text: string, where: string, out: Finding[]): void {
  const run = NUMBER_RUN.exec(text);
  if (run) out.push({ where, what: `a run of ${PRINTED_RUN}+ numbers (sample-like): ${JSON.stringify(run[0].slice(0, 60))}…` });
  const buf = /<Buffer(?: [0-9a-f]{2}){32,}/.exec(text);
  if (buf) out.push({ where, what: `a printed Buffer: ${JSON.stringify(buf[0].slice(0, 60))}…` });
}

/** Encodings of a known sample sequence whose presence anywhere means samples leaked. */
export function canaryPatterns(samples: Float32Array, count = 16): Buffer[] {
  const n = Math.min(count, samples.length);
  const i16 = Buffer.alloc(n * 2);
  const f32 = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    i16.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))), i * 2);
    f32.writeFloatLE(samples[i], i * 4);
  }
  const text = Buffer.from(Array.from(samples.subarray(0, 8), (v) => String(Math.fround(v))).join(','));
  return [i16, f32, text];
}

export function scanCanary(b: Buffer, patterns: Buffer[], where: string, out: Finding[]): void {
  for (const p of patterns) if (p.length && b.includes(p)) out.push({ where, what: `contains the canary samples (${p.length} bytes)` });
}
