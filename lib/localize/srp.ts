/**
 * Direction of arrival of one array: SRP-PHAT (steered response power, PHAT-weighted) over
 * an azimuth × elevation grid, refined around the coarse peak. It is applied to the first
 * tens of milliseconds after the event's onset (the direct sound, before facade echoes).
 *
 * Array frame (lib/localize/arrays.ts): +y along the heading, +x to the right, +z up;
 * azimuth clockwise from +y, so bearing = heading + azimuth.
 */
import { MicPosition } from './arrays';
import { GccResult, ccAt, gccPhatSpectra, nextPow2, powerSpectrum, spectrum } from './gccphat';
import { diffDeg, normDeg } from './geo';

const RAD = Math.PI / 180;

export interface DoaOptions {
  sampleRate: number;
  /** m/s (default 343). */
  speedOfSoundMs?: number;
  /** Sensor heading, degrees from true north (default 0). */
  headingDeg?: number;
  /** Frame of the onset inside the channels; found from the signal energy when omitted. */
  onsetFrame?: number;
  /** Analysis window after the onset, ms (default 20). */
  windowMs?: number;
  /** Start of the window before the onset, ms (default 2). */
  preMs?: number;
  /** Upsampling of the correlations (default 8). */
  interp?: number;
  /** Try longer windows when the first gives a weak answer (default true). */
  adaptiveWindow?: boolean;
  /**
   * Line arrays only (two microphones, or all in a line): they measure the angle from their
   * axis, nothing more, so the elevation is assumed and the bearing follows from it. The
   * assumed elevation and the range the source may be in, degrees (default 0, 0…0): the
   * bearings over that range widen bearingStd.
   */
  lineArrayElevation?: { assumedDeg: number; minDeg: number; maxDeg: number };
}

/**
 * A line array's bearing is one of two, mirror images across its axis (front/back): its
 * confidence is halved (a coin toss) and never reaches this, which is under the localizer's
 * default Min. confidence (0.3), so by default such a bearing is not passed on.
 */
export const LINE_ARRAY_MAX_CONFIDENCE = 0.25;

/** Microphones farther than this from the line through the two farthest apart are not in a line, m. */
const IN_LINE_TOLERANCE_M = 1e-3;

/** Unit axis (x, y, z) of microphones in a line (two always are), or null. */
export function lineAxis(mics: MicPosition[]): [number, number, number] | null {
  let a = mics[0];
  let b = mics[1] ?? mics[0];
  for (const p of mics) for (const q of mics) if (Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) > Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])) [a, b] = [p, q];
  const len = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
  if (len === 0) return null;
  const u: [number, number, number] = [(b[0] - a[0]) / len, (b[1] - a[1]) / len, (b[2] - a[2]) / len];
  for (const p of mics) {
    const d = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    const along = d[0] * u[0] + d[1] * u[1] + d[2] * u[2];
    if (Math.hypot(d[0] - along * u[0], d[1] - along * u[1], d[2] - along * u[2]) > IN_LINE_TOLERANCE_M) return null;
  }
  return u;
}

export interface DoaResult {
  /** Direction in the array frame, degrees clockwise from the heading. */
  azimuthDeg: number;
  /** Bearing from true north, degrees [0, 360). */
  bearingDeg: number;
  /**
   * Elevation, degrees (negative below the array). A planar array cannot tell up from down: below
   * is assumed. A line array measures none: this is the one assumed (lineArrayElevation).
   */
  elevationDeg: number;
  /**
   * Line arrays only: the mirror image of bearingDeg across the array's axis, as likely (a line
   * array cannot tell front from back). bearingDeg is the one on the side the heading points to.
   */
  mirrorBearingDeg?: number;
  /** 1-sigma bearing uncertainty estimate, degrees. */
  bearingStdDeg: number;
  /** 0..1 from the peak's dominance and the agreement of pairs. */
  confidence: number;
  /** Fraction of pairs whose own GCC peak agrees with the chosen direction. */
  pairAgreement: number;
  /**
   * How much of the window stands above the noise before the onset: the pairs' mean SNR weight
   * (GccResult.meanWeight) over what steady noise alone gives with the same reference (1: noise
   * only; a diffuse background gives less); absent without a noise reference. Under
   * EVENT_EVIDENCE_FULL, a window on the bearing its background gives alone has its confidence
   * lowered in proportion.
   */
  eventEvidence?: number;
  onsetFrame: number;
  /** Attack time from the onset to −6 dB of the peak, ms: a slow attack makes the onset time uncertain. */
  onsetRiseMs: number;
  /** Analysis window used, ms. */
  windowMs: number;
  /** Envelope contrast at the onset, dB (low: the onset time is unreliable). */
  onsetContrastDb: number;
  pairs: number;
}

export interface OnsetEstimate {
  frame: number;
  /** Time from the onset to the envelope reaching −6 dB of its peak, ms (how sharp the attack is). */
  riseMs: number;
  /** Peak of the envelope over its 20th percentile, dB: how clearly the event stands out. */
  contrastDb: number;
}

/**
 * Onset from the energy rise of the first-differenced signal (which tilts away low-frequency
 * traffic rumble): the first 1 ms frame, sustained for 3 ms, that is 12 dB above the
 * span's 20th-percentile energy and within 20 dB of its peak. A threshold tied to the peak
 * keeps picks consistent between sensors hearing the event at different levels.
 */
export function findOnset(channels: Float32Array[], sampleRate: number): OnsetEstimate {
  const n = channels[0].length;
  const hop = Math.max(1, Math.round(0.001 * sampleRate));
  const frames = Math.floor(n / hop);
  if (frames === 0) return { frame: 0, riseMs: 0, contrastDb: 0 };
  // Envelopes of the raw and the first-differenced signal: use the one where the event stands out more.
  const envOf = (diff: boolean): Float64Array => {
    const e = new Float64Array(frames);
    for (const ch of channels) {
      for (let f = 0; f < frames; f++) {
        let s = 0;
        for (let i = Math.max(1, f * hop); i < (f + 1) * hop; i++) {
          const d = diff ? ch[i] - ch[i - 1] : ch[i];
          s += d * d;
        }
        e[f] += s;
      }
    }
    return e;
  };
  const stats = (e: Float64Array) => {
    let peak = 0;
    let peakFrame = 0;
    e.forEach((v, f) => {
      if (v > peak) {
        peak = v;
        peakFrame = f;
      }
    });
    const sorted = Float64Array.from(e).sort();
    const floor = Math.max(sorted[Math.floor(0.2 * (sorted.length - 1))], 1e-30);
    return { peak, peakFrame, floor };
  };
  const eDiff = envOf(true);
  const eRaw = envOf(false);
  const sDiff = stats(eDiff);
  const sRaw = stats(eRaw);
  const useDiff = sDiff.peak / sDiff.floor >= sRaw.peak / sRaw.floor;
  const e = useDiff ? eDiff : eRaw;
  const { peak, peakFrame, floor } = useDiff ? sDiff : sRaw;
  // 12 dB over the floor, or halfway (in dB) to the peak for weak events; never below −20 dB of the peak.
  const thr = Math.max(Math.min(floor * 15.85, Math.sqrt(floor * peak)), peak * 0.01);
  let onsetFrame = 0;
  for (let f = 0; f < frames; f++) {
    if (e[f] < thr) continue;
    let m = 0;
    const k = Math.min(frames, f + 3);
    for (let g = f; g < k; g++) m += e[g];
    if (m / (k - f) >= thr) {
      onsetFrame = f;
      break;
    }
  }
  let rise = onsetFrame;
  while (rise < peakFrame && e[rise] < peak / 4) rise++;
  // Inside the frame: first sample whose (differenced) amplitude exceeds a quarter of the frame's largest.
  const val = (ch: Float32Array, i: number) => Math.abs(useDiff ? ch[i] - ch[i - 1] : ch[i]);
  let first = onsetFrame * hop;
  let maxAbs = 0;
  const lo = Math.max(1, onsetFrame * hop);
  const hi = Math.min(n, (onsetFrame + 1) * hop);
  for (const ch of channels) for (let i = lo; i < hi; i++) maxAbs = Math.max(maxAbs, val(ch, i));
  outer: for (let i = lo; i < hi; i++) {
    for (const ch of channels) {
      if (val(ch, i) >= maxAbs * 0.25) {
        first = i;
        break outer;
      }
    }
  }
  return { frame: first, riseMs: ((rise - onsetFrame) * hop * 1000) / sampleRate, contrastDb: 10 * Math.log10(peak / floor) };
}

/** Onset frame only (see findOnset). */
export function findOnsetFrame(channels: Float32Array[], sampleRate: number): number {
  return findOnset(channels, sampleRate).frame;
}

function isPlanar(mics: MicPosition[]): boolean {
  return mics.every((m) => Math.abs(m[2] - mics[0][2]) < 1e-3);
}

/**
 * Estimate the direction of arrival of the event in `channels` (one per mic, same order as
 * `mics`). Throws when there are fewer than two microphones.
 *
 * The first `windowMs` after the onset hold the direct sound only. When that gives a weak
 * answer (confidence < 0.5: a slow or quiet attack, e.g. a scream), longer windows (60 and
 * 150 ms) are tried and the most confident answer is kept: more of the event outweighs the
 * echoes that come with it.
 */
export function estimateDoa(channels: Float32Array[], mics: MicPosition[], opts: DoaOptions): DoaResult {
  if (mics.length < 2) throw new Error(`mics: direction finding needs at least 2 microphones, got ${mics.length}`);
  if (channels.length !== mics.length) throw new Error(`channels: expected ${mics.length} (one per microphone), got ${channels.length}`);
  const found = opts.onsetFrame === undefined ? findOnset(channels, opts.sampleRate) : { frame: opts.onsetFrame, riseMs: 0, contrastDb: 40 };
  const first = opts.windowMs ?? 20;
  let best = doaInWindow(channels, mics, opts, found, first);
  if (best.confidence < 0.5 && opts.adaptiveWindow !== false) {
    for (const w of [60, 150]) {
      if (w <= first) continue;
      const avail = ((channels[0].length - found.frame) / opts.sampleRate) * 1000;
      if (avail < w * 0.6) break;
      const r = doaInWindow(channels, mics, opts, found, w);
      if (r.confidence > best.confidence) best = r;
    }
  }
  return best;
}

/** Most segments averaged into a noise reference: 8 window lengths look back no farther than 4 FFT sizes. */
export const NOISE_MAX_SEGMENTS = 8;

/**
 * The mean SNR weight (GccResult.meanWeight) of a window of steady noise alone, by the number of
 * segments its noise reference averages (index 1..NOISE_MAX_SEGMENTS): a bin's power over the
 * reference is Exp(1) over Gamma(S, 1/S), and passes NOISE_MARGIN by chance more often the
 * fewer segments the reference has (computed by sampling 4 million bins; one channel, the
 * worst case: a steady sound heard alike by both microphones of a pair).
 */
const NOISE_ONLY_MEAN_WEIGHT = [NaN, 0.137, 0.0675, 0.0455, 0.0353, 0.0296, 0.026, 0.0235, 0.0216];

/**
 * Event evidence (DoaResult.eventEvidence, times what steady noise alone gives) from which a
 * window on its background's own bearing keeps its confidence. A steady sound from elsewhere
 * that is louder than the first milliseconds of a slowly rising event leaves, in the bins that
 * pass the margin by chance, a sharp and agreed peak in its own direction: without this the first
 * 20 ms window was kept with full confidence on that sound's bearing, and the longer windows,
 * where the event is heard, were never tried (test/unit/doa-plane-wave.test.ts). Only a window
 * on the background's bearing is lowered: the evidence of a real event under a diffuse
 * background (traffic) is as low, and its bearing is good (docs/localization.md).
 */
export const EVENT_EVIDENCE_FULL = 3;

/** A window's bearing this close to the one its background gives alone is taken for the background's, degrees. */
export const BACKGROUND_SAME_BEARING_DEG = 5;

/** Shortest lead-in a noise reference is taken from, ms: below it a segment's bins are too coarse to match the window's. */
export const NOISE_MIN_LEAD_MS = 10;

/** A noise reference: one power spectrum per channel, and how many segments each averages. */
export interface NoiseReference {
  power: Float64Array[];
  segments: number;
}

/**
 * Noise power spectra (one per channel) for the SNR weighting of a window of `windowLen` samples
 * zero-padded to n: the sound before the onset, up to 5 ms before it, in segments of the
 * window's own length (see powerSpectrum), the nearest NOISE_MAX_SEGMENTS of them. With less
 * than one window length before the onset (a longer window tried after a weak first one, or a
 * short lead-in), the whole lead-in is one shorter segment, its power scaled by windowLen over
 * its length (steady noise in a tapered segment zero-padded to n has power per bin in proportion
 * to the segment's length) and its bins coarser; null under NOISE_MIN_LEAD_MS. One segment, noisy
 * as it is per bin, still takes most of the weight off the bins only the background reaches.
 */
export function noiseReference(channels: Float32Array[], onset: number, windowLen: number, n: number, sampleRate: number): NoiseReference | null {
  const noiseEnd = Math.max(0, onset - Math.round(0.005 * sampleRate));
  if (noiseEnd >= windowLen) {
    const segments = Math.min(NOISE_MAX_SEGMENTS, Math.floor(noiseEnd / windowLen));
    return { power: channels.map((ch) => powerSpectrum(ch.subarray(noiseEnd - segments * windowLen, noiseEnd), n, windowLen, segments)), segments };
  }
  if (noiseEnd < Math.round((NOISE_MIN_LEAD_MS / 1000) * sampleRate)) return null;
  const scale = windowLen / noiseEnd;
  return { power: channels.map((ch) => powerSpectrum(ch.subarray(0, noiseEnd), n, noiseEnd, 1).map((p) => p * scale)), segments: 1 };
}

/**
 * The window's bearing, or with `background` the bearing of that span before the onset (the
 * background's own, unweighted: no noise reference and no check of the background).
 */
function doaInWindow(channels: Float32Array[], mics: MicPosition[], opts: DoaOptions, found: OnsetEstimate, windowMs: number, background?: { start: number; end: number }): DoaResult {
  const fs = opts.sampleRate;
  const c = opts.speedOfSoundMs ?? 343;
  const onset = found.frame;
  const pre = Math.round(((opts.preMs ?? 2) / 1000) * fs);
  const len = Math.round((windowMs / 1000) * fs);
  const start = background ? background.start : Math.max(0, onset - pre);
  const end = background ? background.end : Math.min(channels[0].length, start + len);
  if (end - start < Math.round(0.004 * fs)) throw new Error(`span: too short after the onset (${end - start} frames; need ≥ 4 ms)`);
  const n = nextPow2(2 * (end - start));
  const specs: Float64Array[] = [];
  const pairs: { i: number; j: number; r: GccResult; d: number[] }[] = [];
  let noise: NoiseReference | null = null;
  try {
    for (const ch of channels) specs.push(spectrum(ch.subarray(start, end), n));
    noise = background ? null : noiseReference(channels, onset, end - start, n, fs);
    for (let i = 0; i < mics.length; i++) {
      for (let j = i + 1; j < mics.length; j++) {
        const d = [mics[i][0] - mics[j][0], mics[i][1] - mics[j][1], mics[i][2] - mics[j][2]];
        const maxLag = (Math.hypot(d[0], d[1], d[2]) / c) * fs + 2;
        const r = gccPhatSpectra(specs[i], specs[j], n, {
          maxLagSamples: maxLag,
          interp: opts.interp ?? 8,
          sampleRate: fs,
          noiseA: noise?.power[i],
          noiseB: noise?.power[j],
        });
        pairs.push({ i, j, r, d });
      }
    }
  } finally {
    // The channels' spectra give their samples back: zeroed once the pairs are correlated, or
    // when correlating them failed (DESIGN §4.2).
    for (const s of specs) s.fill(0);
  }
  const axis = lineAxis(mics);
  // Within 6° of vertical, a line of microphones hears every azimuth alike.
  if (axis && Math.hypot(axis[0], axis[1]) < 0.1) throw new Error('mics: a vertical line of microphones gives no bearing');
  const planar = isPlanar(mics);
  const k = fs / c;
  // lag of j relative to i for unit direction u = (p_i − p_j)·u / c.
  const srp = (azDeg: number, elDeg: number): number => {
    const az = azDeg * RAD;
    const el = elDeg * RAD;
    const ux = Math.cos(el) * Math.sin(az);
    const uy = Math.cos(el) * Math.cos(az);
    const uz = Math.sin(el);
    let s = 0;
    for (const p of pairs) s += ccAt(p.r, (p.d[0] * ux + p.d[1] * uy + p.d[2] * uz) * k);
    return s;
  };
  // A line array hears every direction on a cone around its axis alike: searched over elevation
  // too, it traded azimuth for elevation along that cone (bearings wrong by up to 170°). Its
  // elevation is assumed, and of the two azimuths left (mirror images across the axis) the one
  // on the side the heading points to is searched.
  const lineEl = opts.lineArrayElevation ?? { assumedDeg: 0, minDeg: 0, maxDeg: 0 };
  const axisAzDeg = axis ? Math.atan2(axis[0], axis[1]) / RAD : 0;
  const mirrorOf = (azDeg: number) => normDeg(2 * axisAzDeg - azDeg);
  // The front: the horizontal normal to the axis nearest the heading (+y), or +x when the axis is along it.
  const front = axis ? (Math.abs(axis[0]) > 1e-9 ? [axis[1], -axis[0]].map((v) => v * Math.sign(-axis[0])) : [1, 0]) : [0, 0];
  const inFront = (azDeg: number) => !axis || Math.sin(azDeg * RAD) * front[0] + Math.cos(azDeg * RAD) * front[1] >= -1e-9;
  const elMin = axis ? lineEl.assumedDeg : planar ? 0 : -80;
  const elMax = axis ? lineEl.assumedDeg : 80;
  const azStep = 1;
  const elStep = 5;
  let best = { az: 0, el: elMin, v: -Infinity };
  const coarse: number[] = [];
  for (let az = 0; az < 360; az += azStep) {
    let rowBest = -Infinity;
    for (let el = elMin; el <= elMax; el += elStep) {
      const v = srp(az, el);
      rowBest = Math.max(rowBest, v);
      if (v > best.v && inFront(az)) best = { az, el, v };
    }
    coarse.push(rowBest);
  }
  // Fine search: 0.05° in azimuth, 0.5° in elevation, around the coarse peak.
  let fine = best;
  for (let az = best.az - 1.5; az <= best.az + 1.5; az += 0.05) {
    for (let el = Math.max(elMin, best.el - elStep); el <= Math.min(elMax, best.el + elStep); el += 0.5) {
      const v = srp(az, el);
      if (v > fine.v) fine = { az, el, v };
    }
  }
  if (!inFront(fine.az)) fine = { ...fine, az: mirrorOf(fine.az) };
  // Confidence: peak dominance over the best azimuth ≥ 25° away (and from its mirror image, for a line array), and pairs that agree.
  const sorted = [...coarse].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  let second = -Infinity;
  const apart = (a: number, b: number) => Math.abs(((a - b + 540) % 360) - 180);
  coarse.forEach((v, az) => {
    if (apart(az, fine.az) >= 25 && (!axis || apart(az, mirrorOf(fine.az)) >= 25)) second = Math.max(second, v);
  });
  const dominance = fine.v > median ? Math.max(0, Math.min(1, (fine.v - second) / (fine.v - median))) : 0;
  const az = fine.az * RAD;
  const el = fine.el * RAD;
  const u = [Math.cos(el) * Math.sin(az), Math.cos(el) * Math.cos(az), Math.sin(el)];
  let agree = 0;
  for (const p of pairs) {
    const expected = (p.d[0] * u[0] + p.d[1] * u[1] + p.d[2] * u[2]) * k;
    if (Math.abs(p.r.lagSamples - expected) <= 0.5) agree++;
  }
  const pairAgreement = agree / pairs.length;
  // Width of the azimuth peak at half height above the median, converted to a 1-sigma spread.
  const half = median + 0.5 * (fine.v - median);
  let lo = 0;
  let hi = 0;
  while (lo < 90 && srp(fine.az - lo - 0.25, fine.el) > half) lo += 0.25;
  while (hi < 90 && srp(fine.az + hi + 0.25, fine.el) > half) hi += 0.25;
  const widthStd = (lo + hi) / 2.355;
  // A sharp, agreed peak is a good bearing; the width alone overstates the error of broadband events.
  // Scaled so that |error|/std behaves like a unit Gaussian on the canyon evaluation (docs/localization.md).
  let bearingStdDeg = Math.max(0.3, ((widthStd / Math.sqrt(pairs.length)) * (2 - pairAgreement) * (1.5 - dominance)) / 4);
  const azimuthDeg = normDeg(fine.az);
  let confidence = Math.max(0, Math.min(1, 0.5 * dominance + 0.5 * pairAgreement));
  const weights = pairs.map((p) => p.r.meanWeight ?? 0);
  const eventEvidence = noise ? weights.reduce((a, b) => a + b, 0) / weights.length / NOISE_ONLY_MEAN_WEIGHT[noise.segments] : undefined;
  if (eventEvidence !== undefined && eventEvidence < EVENT_EVIDENCE_FULL) {
    // Little above the noise, on the bearing a steady background gives alone: the window hears
    // the background, whose bins pass the margin by chance (a diffuse background, like traffic
    // in a street, gives no confident bearing of its own and its windows are left as they are).
    const noiseEnd = Math.max(0, onset - Math.round(0.005 * fs));
    const bg = doaInWindow(channels, mics, opts, found, windowMs, { start: Math.max(0, noiseEnd - (end - start)), end: noiseEnd });
    if (bg.confidence >= 0.5 && Math.abs(diffDeg(bg.azimuthDeg, normDeg(fine.az))) <= BACKGROUND_SAME_BEARING_DEG) confidence *= eventEvidence / EVENT_EVIDENCE_FULL;
  }
  if (axis) {
    // The elevation is not measured: the azimuths the same cone gives over the elevations the
    // source may be at widen the bearing's spread (the farthest of them at 2 std).
    const cosCone = u[0] * axis[0] + u[1] * axis[1] + u[2] * axis[2];
    const h = Math.hypot(axis[0], axis[1]);
    const side = Math.sign(Math.sin((fine.az - axisAzDeg) * RAD)) || 1;
    const azAt = (elDeg: number) => {
      const x = (cosCone - axis[2] * Math.sin(elDeg * RAD)) / (h * Math.cos(elDeg * RAD));
      return axisAzDeg + side * (Math.acos(Math.max(-1, Math.min(1, x))) / RAD);
    };
    const farthestDeg = Math.max(...[lineEl.minDeg, lineEl.maxDeg].map((el) => Math.abs(diffDeg(azAt(el), fine.az))));
    bearingStdDeg = Math.hypot(bearingStdDeg, farthestDeg / 2);
    confidence = Math.min(LINE_ARRAY_MAX_CONFIDENCE, confidence / 2);
  }
  return {
    azimuthDeg,
    bearingDeg: normDeg((opts.headingDeg ?? 0) + azimuthDeg),
    elevationDeg: axis ? lineEl.assumedDeg : planar ? -Math.abs(fine.el) : fine.el,
    ...(axis ? { mirrorBearingDeg: normDeg((opts.headingDeg ?? 0) + mirrorOf(azimuthDeg)) } : {}),
    bearingStdDeg,
    confidence,
    pairAgreement,
    ...(eventEvidence !== undefined ? { eventEvidence } : {}),
    onsetFrame: onset,
    onsetRiseMs: found.riseMs,
    windowMs,
    onsetContrastDb: found.contrastDb,
    pairs: pairs.length,
  };
}
