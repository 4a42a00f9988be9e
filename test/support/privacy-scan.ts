/**
 * Looks for audio in anything that leaves the process: HTTP bodies, WebSocket messages, MQTT
 * payloads, files. What counts as audio here:
 * - audio containers and codecs by signature (RIFF/WAVE, Ogg, FLAC, ID3/MP3, AAC ADTS, and in
 *   MP4 an audio track: a `soun` handler or an `mp4a`/`Opus`/`ac-3` sample entry),
 * - an audio MIME type,
 * - in JSON: long runs of numbers (sample arrays), fields named like samples, and long base64
 *   strings that are not a known image,
 * - a canary: exact encodings (int16 LE, float32 LE, decimal text) of a known sample sequence.
 */

export interface Finding {
  where: string;
  what: string;
}

const AUDIO_KEYS = /^(samples?|pcm|waveform|audio(data)?|wav|buffer|channels?Data)$/i;

export function scanJson(value: unknown, where: string, out: Finding[], path = '$'): void {
  if (Array.isArray(value)) {
    let run = 0;
    for (const v of value) {
      run = typeof v === 'number' ? run + 1 : 0;
      if (run >= 256) {
        out.push({ where, what: `${path}: a run of ${run}+ numbers (sample-like array)` });
        break;
      }
    }
    value.forEach((v, i) => scanJson(v, where, out, `${path}[${i}]`));
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'Buffer' && Array.isArray(o.data) && o.data.length > 64) out.push({ where, what: `${path}: a serialised Buffer of ${o.data.length} bytes` });
    for (const [k, v] of Object.entries(o)) {
      if (AUDIO_KEYS.test(k) && (Array.isArray(v) || (typeof v === 'string' && v.length > 64) || ArrayBuffer.isView(v))) {
        out.push({ where, what: `${path}.${k}: a field that looks like audio data` });
      }
      scanJson(v, where, out, `${path}.${k}`);
    }
  } else if (typeof value === 'string' && value.length >= 4096 && /^[A-Za-z0-9+/=\r\n]+$/.test(value)) {
    const head = Buffer.from(value.slice(0, 64), 'base64');
    if (!isImage(head)) out.push({ where, what: `${path}: a ${value.length}-character base64 string that is not an image` });
    else scanBinary(Buffer.from(value, 'base64'), `${where} ${path}`, out);
  }
}

function isImage(b: Buffer): boolean {
  return (b[0] === 0xff && b[1] === 0xd8) || b.subarray(0, 4).toString('latin1') === '\x89PNG' || b.subarray(0, 4).toString('latin1') === 'GIF8';
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

/** Scan a body given its content type: JSON is parsed and walked, everything is signature-scanned. */
export function scanBody(body: Buffer, contentType: string | undefined, where: string, out: Finding[]): void {
  scanContentType(contentType, where, out);
  scanBinary(body, where, out);
  const text = /json|text\/plain/i.test(contentType ?? '') || looksLikeJson(body);
  if (text) {
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

/** Socket.IO / engine.io text frames: "42[...]" → the JSON part. */
export function scanSocketIoText(text: string, where: string, out: Finding[]): void {
  const m = /^\d+(?:\/[^,]*,)?(\d*)([[{][\s\S]*)$/.exec(text);
  if (!m) return;
  try {
    scanJson(JSON.parse(m[2]), where, out);
  } catch {
    /* not a JSON frame */
  }
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
