/**
 * Draws the virtual camera's picture as raw RGB24: a synthetic street panorama seen at the
 * current bearing, tilt and zoom, a compass scale along the top and the pan/tilt/zoom numbers
 * in a tiny bitmap font, so a viewer (or a test) can tell where the camera points.
 */

export interface ViewState {
  bearingDeg: number;
  tiltDeg: number;
  zoomX: number;
  panDeg: number;
  moving: boolean;
  name: string;
}

/** 3×5 glyphs, rows top to bottom, 3 bits per row (MSB = left). */
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], ' ': [0, 0, 0, 0, 0], ':': [0, 2, 0, 2, 0], '/': [1, 1, 2, 4, 4],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], C: [7, 4, 4, 4, 7], D: [6, 5, 5, 5, 6], E: [7, 4, 6, 4, 7], F: [7, 4, 6, 4, 4],
  G: [7, 4, 5, 5, 7], H: [5, 5, 7, 5, 5], I: [7, 2, 2, 2, 7], J: [1, 1, 1, 5, 7], K: [5, 5, 6, 5, 5], L: [4, 4, 4, 4, 7],
  M: [5, 7, 7, 5, 5], N: [6, 5, 5, 5, 5], O: [7, 5, 5, 5, 7], P: [7, 5, 7, 4, 4], Q: [7, 5, 5, 7, 1], R: [6, 5, 6, 5, 5],
  S: [7, 4, 7, 1, 7], T: [7, 2, 2, 2, 2], U: [5, 5, 5, 5, 7], V: [5, 5, 5, 5, 2], W: [5, 5, 7, 7, 5], X: [5, 5, 2, 5, 5],
  Y: [5, 5, 2, 2, 2], Z: [7, 1, 2, 4, 7],
};

export class FrameRenderer {
  readonly frame: Buffer;

  constructor(readonly width: number, readonly height: number) {
    this.frame = Buffer.alloc(width * height * 3);
  }

  render(v: ViewState): Buffer {
    const { width: w, height: h } = this;
    const hfovDeg = 2 * Math.atan(Math.tan((60 * Math.PI) / 360) / Math.max(1, v.zoomX)) * (180 / Math.PI);
    const degPerPx = hfovDeg / w;
    const vfovDeg = hfovDeg * (h / w);
    // Horizon row: at tilt 0 it is mid-picture; tilting down moves it up.
    const horizonY = h / 2 - (-v.tiltDeg / vfovDeg) * h;
    const f = this.frame;
    for (let x = 0; x < w; x++) {
      const bearing = (((v.bearingDeg + (x - w / 2) * degPerPx) % 360) + 360) % 360;
      const sector = Math.floor(bearing / 4);
      const rnd = hash(sector);
      const buildingTopDeg = 2 + (rnd % 9); // building heights above the horizon, degrees
      const topY = horizonY - (buildingTopDeg / vfovDeg) * h;
      const hue = (rnd >> 4) % 3;
      const windowCol = Math.floor((bearing * 10) / 1) % 7 < 2;
      for (let y = 0; y < h; y++) {
        let r: number, g: number, b: number;
        if (y < topY) {
          const t = Math.max(0, Math.min(1, y / Math.max(1, topY)));
          r = 90 + 60 * t; g = 140 + 50 * t; b = 210; // sky
        } else if (y < horizonY) {
          const lit = windowCol && Math.floor((y - topY) / 6) % 3 === 1;
          r = lit ? 230 : 110 + hue * 30; g = lit ? 210 : 100 + hue * 15; b = lit ? 120 : 95;
        } else {
          const road = ((y - horizonY) / h) * 255;
          r = 70 + road * 0.2; g = 72 + road * 0.2; b = 75 + road * 0.2; // road
          if (Math.floor(bearing) % 30 === 0) { r = 240; g = 240; b = 240; }
        }
        const i = (y * w + x) * 3;
        f[i] = r; f[i + 1] = g; f[i + 2] = b;
      }
    }
    this.streetObjects(v.bearingDeg, degPerPx, horizonY, vfovDeg);
    this.compass(v.bearingDeg, degPerPx);
    // Centre cross: where the camera points.
    this.rect(w / 2 - 10, h / 2, 21, 1, [255, 40, 40]);
    this.rect(w / 2, h / 2 - 10, 1, 21, [255, 40, 40]);
    this.rect(0, h - 26, w, 26, [0, 0, 0]);
    const text = `BRG ${v.bearingDeg.toFixed(1)} PAN ${v.panDeg.toFixed(1)} TILT ${v.tiltDeg.toFixed(1)} ZOOM ${v.zoomX.toFixed(1)}X${v.moving ? ' MOVING' : ''}`;
    this.text(6, h - 21, text, 3, [255, 255, 255]);
    this.text(6, 30, v.name.toUpperCase(), 2, [255, 255, 0]);
    return f;
  }

  /**
   * Parked cars and kiosks on the ground around the mast (6 m up), one per 6° sector at a
   * pseudo-random distance, so panning and zooming visibly change the picture.
   */
  private streetObjects(bearingDeg: number, degPerPx: number, horizonY: number, vfovDeg: number): void {
    const { width: w, height: h } = this;
    const eyeM = 6;
    const halfSpanDeg = (w / 2) * degPerPx + 6;
    const first = Math.floor((bearingDeg - halfSpanDeg) / 6);
    const last = Math.ceil((bearingDeg + halfSpanDeg) / 6);
    // Far objects first, so near ones are drawn over them.
    const objs: Array<{ brg: number; d: number; c: [number, number, number]; hM: number }> = [];
    for (let k = first; k <= last; k++) {
      const r = hash(((k % 60) + 60) % 60 + 1000);
      const d = 12 + (r % 70);
      const palette: Array<[number, number, number]> = [[200, 40, 40], [40, 90, 200], [230, 200, 40], [240, 240, 240], [40, 160, 80]];
      objs.push({ brg: k * 6 + ((r >>> 8) % 3), d, c: palette[(r >>> 12) % palette.length], hM: 1.2 + ((r >>> 16) % 3) * 0.4 });
    }
    objs.sort((a, b) => b.d - a.d);
    for (const o of objs) {
      const x = w / 2 + (o.brg - bearingDeg) / degPerPx;
      const widthDeg = (2 * Math.atan(2 / o.d) * 180) / Math.PI;
      const baseDeg = (Math.atan(eyeM / o.d) * 180) / Math.PI; // below the horizon
      const topDeg = (Math.atan((eyeM - o.hM) / o.d) * 180) / Math.PI;
      const yBase = horizonY + (baseDeg / vfovDeg) * h;
      const yTop = horizonY + (topDeg / vfovDeg) * h;
      const pw = widthDeg / degPerPx;
      this.rect(x - pw / 2, yTop, pw, Math.max(1, yBase - yTop), o.c);
      this.rect(x - pw / 2, yTop, pw, Math.max(1, (yBase - yTop) * 0.3), [30, 30, 40]); // roof / windows
    }
  }

  private compass(bearingDeg: number, degPerPx: number): void {
    const w = this.width;
    this.rect(0, 0, w, 22, [20, 20, 20]);
    const labels: Record<number, string> = { 0: 'N', 90: 'E', 180: 'S', 270: 'W' };
    const left = bearingDeg - (w / 2) * degPerPx;
    const step = degPerPx > 0.05 ? 10 : 1;
    for (let d = Math.ceil(left / step) * step; d <= left + w * degPerPx; d += step) {
      const x = Math.round((d - left) / degPerPx);
      const deg = ((d % 360) + 360) % 360;
      const major = deg % (step * 3) === 0;
      this.rect(x, 0, 1, major ? 8 : 4, [255, 255, 255]);
      if (major) this.text(x - 6, 10, labels[deg] ?? String(deg), 2, [255, 255, 255]);
    }
  }

  private rect(x0: number, y0: number, rw: number, rh: number, c: [number, number, number]): void {
    const { width: w, height: h } = this;
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(h, y0 + rh); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x < Math.min(w, x0 + rw); x++) {
        const i = (y * w + x) * 3;
        this.frame[i] = c[0]; this.frame[i + 1] = c[1]; this.frame[i + 2] = c[2];
      }
    }
  }

  private text(x: number, y: number, s: string, scale: number, c: [number, number, number]): void {
    let cx = x;
    for (const ch of s) {
      const g = GLYPHS[ch] ?? GLYPHS[' '];
      for (let row = 0; row < 5; row++) {
        for (let col = 0; col < 3; col++) {
          if (g[row] & (4 >> col)) this.rect(cx + col * scale, y + row * scale, scale, scale, c);
        }
      }
      cx += 4 * scale;
    }
  }
}

function hash(n: number): number {
  let x = (n * 2654435761) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0x5bd1e995) >>> 0;
  return (x ^ (x >>> 15)) >>> 0;
}
