/**
 * Fragmented MP4 parsing for the live relay: split ffmpeg's stdout (any chunking) into
 * ISO-BMFF boxes, group them into the init segment (ftyp+moov) and media fragments
 * (moof+mdat), and read what a player and a late joiner need: the codec string (from avcC),
 * the track timescale, each fragment's decode time (tfdt) and whether it starts on a keyframe.
 */

export interface Box {
  type: string;
  /** The whole box, header included. */
  data: Buffer;
}

/** Upper bound of one box: a camera fragment is a GOP, a few MB at most; protects memory. */
export const MAX_BOX_BYTES = 32 * 1024 * 1024;

/**
 * Incremental box splitter: push chunks as they arrive, get back every box that is now
 * complete. Boxes may be split across chunks and a chunk may hold many boxes.
 */
export class BoxSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Box[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Box[] = [];
    for (;;) {
      if (this.buffered < 8) break;
      const head = this.peek(16);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) {
        if (head.length < 16) break;
        const large = head.readBigUInt64BE(8);
        if (large > BigInt(MAX_BOX_BYTES)) throw new Error(`MP4 box "${type}" of ${large} bytes exceeds ${MAX_BOX_BYTES}`);
        size = Number(large);
      } else if (size === 0) {
        throw new Error(`MP4 box "${type}" extends to the end of the stream; expected a fragmented MP4 with sized boxes`);
      }
      if (size < 8) throw new Error(`MP4 box "${type}" has an invalid size ${size}`);
      if (size > MAX_BOX_BYTES) throw new Error(`MP4 box "${type}" of ${size} bytes exceeds ${MAX_BOX_BYTES}`);
      if (this.buffered < size) break;
      out.push({ type, data: this.take(size) });
    }
    return out;
  }

  /** Bytes held waiting for the rest of a box. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n || this.chunks.length === 1) return this.chunks[0].subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    // Copy so that a kept box (init segment, latest keyframe) does not pin a large pipe chunk.
    return Buffer.from(out);
  }
}

/** Children of a box (or of a region), as [type, start, end, payloadStart]. */
export function* childBoxes(buf: Buffer, start: number, end: number): Generator<{ type: string; start: number; end: number; body: number }> {
  let p = start;
  while (p + 8 <= end) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let header = 8;
    if (size === 1) {
      if (p + 16 > end) return;
      size = Number(buf.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) {
      size = end - p;
    }
    if (size < header || p + size > end) return;
    yield { type, start: p, end: p + size, body: p + header };
    p += size;
  }
}

/** The first box at a path of types below [start, end), e.g. ['trak', 'mdia', 'mdhd']. */
export function findBox(buf: Buffer, path: string[], start = 0, end = buf.length): { start: number; end: number; body: number } | undefined {
  let region = { start, end, body: start };
  for (const type of path) {
    let found: typeof region | undefined;
    for (const c of childBoxes(buf, region.body, region.end)) {
      if (c.type === type) {
        found = c;
        break;
      }
    }
    if (!found) return undefined;
    region = found;
  }
  return region;
}

export interface InitInfo {
  /** RFC 6381 codec string, e.g. "avc1.42c01e". */
  codec: string;
  /** The MIME type a MediaSource SourceBuffer is created with. */
  mime: string;
  /** Video track timescale (ticks per second), from mdhd. */
  timescale: number;
  width?: number;
  height?: number;
  /** Default sample flags from moov/mvex/trex, used when a fragment does not say. */
  trexDefaultSampleFlags?: number;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** Reads codec, timescale and size from an init segment (ftyp+moov or moov alone). */
export function parseInit(init: Buffer): InitInfo {
  const moov = findBox(init, ['moov']);
  if (!moov) throw new Error('MP4 init segment has no moov box');
  let trak: { start: number; end: number; body: number } | undefined;
  let codec = '';
  let width: number | undefined;
  let height: number | undefined;
  let timescale = 0;
  for (const t of childBoxes(init, moov.body, moov.end)) {
    if (t.type !== 'trak') continue;
    const hdlr = findBox(init, ['mdia', 'hdlr'], t.body, t.end);
    // hdlr: version/flags(4) pre_defined(4) handler_type(4)
    const handler = hdlr ? init.toString('latin1', hdlr.body + 8, hdlr.body + 12) : 'vide';
    // The relay maps the video stream alone (-map 0:v:0 -an); a stream that carries anything
    // else, audio above all, is refused here too rather than sent to a browser (DESIGN §4.4).
    if (handler !== 'vide') throw new Error(`MP4 init segment has a "${handler.replace(/[^\x20-\x7e]/g, '?')}" track beside the video: only video is relayed (privacy guarantee 4)`);
    trak ??= t;
  }
  if (!trak) throw new Error('MP4 init segment has no video track');
  const mdhd = findBox(init, ['mdia', 'mdhd'], trak.body, trak.end);
  if (mdhd) {
    const version = init[mdhd.body];
    timescale = init.readUInt32BE(mdhd.body + (version === 1 ? 20 : 12));
  }
  const stsd = findBox(init, ['mdia', 'minf', 'stbl', 'stsd'], trak.body, trak.end);
  if (stsd) {
    // stsd: version/flags(4) entry_count(4), then sample entries.
    for (const entry of childBoxes(init, stsd.body + 8, stsd.end)) {
      // Visual sample entry: 78 bytes of fields before its child boxes; width/height at +24/+26.
      width = init.readUInt16BE(entry.body + 24);
      height = init.readUInt16BE(entry.body + 26);
      if (entry.type === 'avc1' || entry.type === 'avc3') {
        const avcC = findBox(init, ['avcC'], entry.body + 78, entry.end);
        if (avcC && avcC.body + 4 <= avcC.end) {
          codec = `${entry.type}.${hex2(init[avcC.body + 1])}${hex2(init[avcC.body + 2])}${hex2(init[avcC.body + 3])}`;
        } else codec = entry.type;
      } else {
        codec = entry.type;
      }
      break;
    }
  }
  if (!codec) throw new Error('MP4 init segment has no video sample description (stsd)');
  let trexDefaultSampleFlags: number | undefined;
  const trex = findBox(init, ['mvex', 'trex'], moov.body, moov.end);
  // trex: version/flags(4) track_ID(4) default_sample_description_index(4) duration(4) size(4) flags(4)
  if (trex && trex.body + 24 <= trex.end) trexDefaultSampleFlags = init.readUInt32BE(trex.body + 20);
  return { codec, mime: `video/mp4; codecs="${codec}"`, timescale, width, height, trexDefaultSampleFlags };
}

export interface FragmentInfo {
  /** tfdt baseMediaDecodeTime of the first track fragment, in the track's timescale. */
  baseMediaDecodeTime: number;
  /** The fragment's first sample is a sync sample (can start decoding here). */
  keyframe: boolean;
  sampleCount: number;
  /** Sum of sample durations, in timescale units (0 when the fragment does not say). */
  duration: number;
}

/** Reads decode time, keyframe flag and duration from a moof (alone or followed by its mdat). */
export function parseFragment(moofOrFragment: Buffer, trexDefaultSampleFlags?: number): FragmentInfo {
  const buf = moofOrFragment;
  const moof = findBox(buf, ['moof']);
  if (!moof) throw new Error('MP4 fragment has no moof box');
  const traf = findBox(buf, ['traf'], moof.body, moof.end);
  if (!traf) throw new Error('MP4 fragment has no traf box');
  let baseMediaDecodeTime = 0;
  let defaultFlags = trexDefaultSampleFlags;
  let defaultDuration = 0;
  let firstFlags: number | undefined;
  let sampleCount = 0;
  let duration = 0;
  for (const c of childBoxes(buf, traf.body, traf.end)) {
    const version = buf[c.body];
    const flags = buf.readUIntBE(c.body + 1, 3);
    if (c.type === 'tfhd') {
      let p = c.body + 8; // version/flags, track_ID
      if (flags & 0x1) p += 8;
      if (flags & 0x2) p += 4;
      if (flags & 0x8) {
        defaultDuration = buf.readUInt32BE(p);
        p += 4;
      }
      if (flags & 0x10) p += 4;
      if (flags & 0x20) defaultFlags = buf.readUInt32BE(p);
    } else if (c.type === 'tfdt') {
      baseMediaDecodeTime = version === 1 ? Number(buf.readBigUInt64BE(c.body + 4)) : buf.readUInt32BE(c.body + 4);
    } else if (c.type === 'trun') {
      const count = buf.readUInt32BE(c.body + 4);
      let p = c.body + 8;
      if (flags & 0x1) p += 4;
      let first: number | undefined;
      if (flags & 0x4) {
        first = buf.readUInt32BE(p);
        p += 4;
      }
      for (let i = 0; i < count; i++) {
        let d = defaultDuration;
        if (flags & 0x100) {
          d = buf.readUInt32BE(p);
          p += 4;
        }
        if (flags & 0x200) p += 4;
        if (flags & 0x400) {
          if (i === 0 && first === undefined) first = buf.readUInt32BE(p);
          p += 4;
        }
        if (flags & 0x800) p += 4;
        duration += d;
      }
      if (sampleCount === 0 && firstFlags === undefined) firstFlags = first;
      sampleCount += count;
    }
  }
  const f = firstFlags ?? defaultFlags;
  // sample_is_non_sync_sample is bit 16 of the sample flags; unknown flags: assume a keyframe
  // (ffmpeg's frag_keyframe starts every fragment on one).
  const keyframe = f === undefined ? true : ((f >>> 16) & 1) === 0;
  return { baseMediaDecodeTime, keyframe, sampleCount, duration };
}

export interface InitSegment {
  data: Buffer;
  info: InitInfo;
}

export interface MediaSegment {
  /** moof+mdat, ready to append to a SourceBuffer. */
  data: Buffer;
  info: FragmentInfo;
  seq: number;
}

/**
 * Turns a stream of boxes into one init segment and then media segments. Boxes other than
 * ftyp/moov/moof/mdat (styp, sidx, free, mfra...) are dropped: a live player does not need them.
 */
export class Fmp4Segmenter {
  private readonly splitter = new BoxSplitter();
  private ftyp?: Buffer;
  private moof?: Buffer;
  private seq = 0;
  init?: InitSegment;

  constructor(
    private readonly onInit: (init: InitSegment) => void,
    private readonly onSegment: (seg: MediaSegment) => void,
  ) {}

  push(chunk: Buffer): void {
    for (const box of this.splitter.push(chunk)) this.box(box);
  }

  private box(box: Box): void {
    switch (box.type) {
      case 'ftyp':
        this.ftyp = box.data;
        break;
      case 'moov': {
        const data = this.ftyp ? Buffer.concat([this.ftyp, box.data]) : box.data;
        this.init = { data, info: parseInit(data) };
        this.onInit(this.init);
        break;
      }
      case 'moof':
        this.moof = box.data;
        break;
      case 'mdat': {
        if (!this.moof || !this.init) break; // media before its header cannot be played
        const data = Buffer.concat([this.moof, box.data]);
        this.moof = undefined;
        const info = parseFragment(data, this.init.info.trexDefaultSampleFlags);
        this.onSegment({ data, info, seq: this.seq++ });
        break;
      }
      default:
        break;
    }
  }
}
