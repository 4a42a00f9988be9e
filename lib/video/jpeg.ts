/**
 * Splits a stream of concatenated JPEG images (ffmpeg image2pipe) into whole images, following
 * the JPEG marker structure rather than searching for FFD9 blindly: marker segments carry a
 * length, and in entropy-coded data 0xFF is always stuffed (FF00) or a restart marker (FFD0-7).
 */

export const MAX_JPEG_BYTES = 8 * 1024 * 1024;

export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Scan position in buf and whether it is inside entropy-coded data. */
  private pos = 0;
  private inScan = false;
  private started = false;

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const end = this.scan();
      if (end < 0) break;
      out.push(Buffer.from(this.buf.subarray(0, end)));
      this.buf = this.buf.subarray(end);
      this.pos = 0;
      this.inScan = false;
      this.started = false;
    }
    if (this.buf.length > MAX_JPEG_BYTES) throw new Error(`JPEG frame larger than ${MAX_JPEG_BYTES} bytes`);
    return out;
  }

  /** Returns the end offset of a complete image at the start of buf, or -1 if more is needed. */
  private scan(): number {
    const b = this.buf;
    if (!this.started) {
      // Skip anything before a start-of-image marker.
      const soi = b.indexOf(Buffer.from([0xff, 0xd8]));
      if (soi < 0) {
        // Keep a trailing 0xFF that may begin the marker.
        this.buf = b.length && b[b.length - 1] === 0xff ? b.subarray(b.length - 1) : Buffer.alloc(0);
        return -1;
      }
      this.buf = b.subarray(soi);
      this.pos = 2;
      this.started = true;
      return this.scan();
    }
    let p = this.pos;
    for (;;) {
      if (this.inScan) {
        // Entropy-coded data: find FF xx with xx not 00 and not a restart marker.
        for (;;) {
          if (p + 1 >= b.length) {
            this.pos = p;
            return -1;
          }
          if (b[p] === 0xff) {
            const m = b[p + 1];
            if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
              p += m === 0xff ? 1 : 2;
              continue;
            }
            this.inScan = false;
            break;
          }
          p++;
        }
      }
      if (p + 2 > b.length) {
        this.pos = p;
        return -1;
      }
      if (b[p] !== 0xff) {
        p++; // tolerate garbage between segments
        continue;
      }
      const marker = b[p + 1];
      if (marker === 0xff) {
        p++; // fill byte
        continue;
      }
      if (marker === 0xd9) return p + 2; // end of image
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      if (p + 4 > b.length) {
        this.pos = p;
        return -1;
      }
      const len = b.readUInt16BE(p + 2);
      if (p + 2 + len > b.length) {
        this.pos = p;
        return -1;
      }
      p += 2 + len;
      if (marker === 0xda) this.inScan = true;
    }
  }
}

export function isJpeg(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}
