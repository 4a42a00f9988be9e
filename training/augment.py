"""Builds labelled 1 s training windows: an event (or a background sound) cropped around its
energy, reverberated, mixed into a street bed at a random event-to-background ratio, with
gain, band-limiting, wind bursts, clipping and a microphone noise floor."""
import numpy as np

import synth
from data import ALERT_LABELS, LABELS, event_centres, mix_extents
from synth import rms

WIN = 16000
SR = 16000

BED_LABELS = ['traffic', 'weather', 'construction', 'crowd', 'siren', 'speech', 'music', 'footsteps', 'dog_bark']
# Share of each label in a batch (normalised below). Hard negatives (fireworks, bangs in
# "other") and the street bed get more than their data would give them.
LABEL_WEIGHTS = {
    'gunshot': 1.3, 'glass_break': 1.3, 'scream': 1.3, 'crash': 0.9, 'explosion': 0.9, 'tire_skid': 0.8,
    'car_horn': 0.7, 'construction': 0.5, 'crowd': 0.5, 'dog_bark': 0.5, 'fireworks': 0.9, 'footsteps': 0.5,
    'music': 0.6, 'other': 1.2, 'siren': 0.8, 'speech': 0.8, 'traffic': 0.6, 'weather': 0.5, 'street': 1.2,
}
HARD_NEGATIVES = {'fireworks', 'other'}
# Where an alert's loud frame lands in its 1 s training window (fractions), in the shipped recipe.
DEFAULT_EVENT_POS = (0.1, 0.85)
# Range of a training window's peak level and of the microphone noise floor, dBFS.
DEFAULT_PEAK_DB = (-60.0, -1.0)
DEFAULT_NOISE_FLOOR_DB = (-90.0, -65.0)
# Share of the beds under foreground sounds that are synthetic (the rest: training recordings).
DEFAULT_SYNTHETIC_BED_SHARE = 0.55
# Probability that a background label's window is synthesised rather than a real clip.
SYNTH_SHARE = {'siren': 0.4, 'car_horn': 0.5, 'music': 0.8, 'speech': 0.3, 'crowd': 0.6, 'other': 0.25, 'street': 1.0}


class Source:
    def __init__(self, x, label, name, kind, extent=None):
        self.x = x
        self.label = label
        self.name = name
        self.kind = kind
        self.centres = event_centres(x, extent=extent) if label in ALERT_LABELS else None


def crop(src, rng, event_pos=DEFAULT_EVENT_POS):
    """A 1 s window of a source. Alert sources are cropped so that one of their loud frames
    (the weakly-labelled event) lands inside the window, at a position drawn from `event_pos`
    (fractions of the window); others anywhere."""
    x = src.x
    out = np.zeros(WIN, dtype=np.float32)
    if len(x) <= WIN:
        # short clip: random time shift, may cut its tail off when it starts late
        start = int(rng.integers(0, WIN - len(x) + 1)) if rng.random() < 0.7 else int(rng.integers(0, WIN - min(len(x), WIN // 4) + 1))
        seg = x[:WIN - start]
        out[start:start + len(seg)] = seg
        return out
    if src.centres is not None and len(src.centres):
        c = int(rng.choice(src.centres))
        pos_in_win = int(rng.uniform(*event_pos) * WIN)
        start = int(np.clip(c - pos_in_win, 0, len(x) - WIN))
    else:
        start = int(rng.integers(0, len(x) - WIN + 1))
    return x[start:start + WIN].copy()


def active_rms(x):
    """RMS over the loudest 100 ms (the event's own level, not diluted by silence)."""
    frame = 1600
    n = len(x) // frame
    if n == 0:
        return rms(x)
    e = np.mean(x[:n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1)
    return float(np.sqrt(e.max()) + 1e-12)


class WindowMaker:
    def __init__(self, train_rows, clips, seed, espeak_count=160, label_weights=None, hard_negative_weight=1.0,
                 event_pos=DEFAULT_EVENT_POS, peak_db=DEFAULT_PEAK_DB, noise_floor_db=DEFAULT_NOISE_FLOOR_DB, bed_min_samples=0,
                 synthetic_bed_share=DEFAULT_SYNTHETIC_BED_SHARE, bed_labels=BED_LABELS):
        self.label_weights = dict(LABEL_WEIGHTS, **(label_weights or {}))
        # Where an alert's loud frame lands in its window, the window's peak level and the
        # microphone noise floor (dBFS): the recipe's knobs, recorded in the card.
        self.event_pos = tuple(event_pos)
        self.peak_db = tuple(peak_db)
        self.noise_floor_db = tuple(noise_floor_db)
        self.bed_min_samples = bed_min_samples
        self.synthetic_bed_share = synthetic_bed_share
        self.bed_labels = tuple(bed_labels)
        self.hard_negative_weight = hard_negative_weight
        self.rng = np.random.default_rng(seed)
        self.sources = {label: [] for label in LABELS}
        self.beds = []
        # The glass project's mixes hold their added ambience before the glass: windows of an
        # alert are cropped around its event only (a window of ambience labelled glass_break
        # taught the model that street ambience is glass).
        extents = mix_extents(train_rows, clips)
        self.extents = extents
        for r in train_rows:
            x = clips[r['path']]
            if len(x) < 400 or rms(x) < 1e-5:
                continue
            src = Source(x, r['label'], r['path'], r['kind'], extents.get(r['path']))
            self.sources[r['label']].append(src)
            # Beds are continuous sound: a short clip (a few footsteps) would leave digital
            # silence around it, which no street has.
            if r['label'] in self.bed_labels and len(x) >= bed_min_samples:
                self.beds.append(src)
        speech = synth.espeak_speech(espeak_count, seed + 1)
        self.speech = speech  # as rendered (or cached), for the card's digest of the inputs
        self.espeak = [Source(x, 'speech', f'espeak{i}', 'synthetic') for i, x in enumerate(speech) if len(x) > 1000]
        labels = [l for l in LABELS if self.sources[l] or SYNTH_SHARE.get(l, 0) > 0]
        w = np.array([self.label_weights[l] for l in labels])
        self.labels = labels
        self.label_p = w / w.sum()

    # -- synthetic windows --
    def synthetic(self, label, rng):
        if label == 'siren':
            return synth.siren(WIN, rng)
        if label == 'car_horn':
            return synth.horn(WIN, rng)
        if label == 'music':
            return synth.music(WIN, rng)
        if label == 'speech':
            return crop(self.espeak[rng.integers(len(self.espeak))], rng)
        if label == 'crowd':
            k = int(rng.integers(3, 7))
            return sum(crop(self.espeak[rng.integers(len(self.espeak))], rng) * rng.uniform(0.3, 1.0) for _ in range(k))
        if label == 'other':
            return synth.thud(WIN, rng)
        if label == 'street':
            return self.synthetic_bed(rng)
        raise ValueError(label)

    def synthetic_bed(self, rng):
        kind = rng.random()
        if kind < 0.6:
            bed = synth.traffic_bed(WIN, rng)
        elif kind < 0.8:
            bed = synth.rain_bed(WIN, rng)
        else:
            bed = synth.wind_bed(WIN, rng)
        if rng.random() < 0.3:
            bed = bed + synth.wind_bed(WIN, rng) * rng.uniform(0.1, 0.6)
        return bed

    def bed(self, rng):
        if rng.random() < self.synthetic_bed_share or not self.beds:
            return self.synthetic_bed(rng)
        b = crop(self.beds[rng.integers(len(self.beds))], rng)
        if rms(b) < 1e-4:
            return self.synthetic_bed(rng)
        return b

    def foreground(self, label, rng):
        share = SYNTH_SHARE.get(label, 0.0)
        if label == 'speech' and not self.espeak:
            share = 0.0
        if rng.random() < share or not self.sources[label]:
            return self.synthetic(label, rng), True
        src = self.sources[label][rng.integers(len(self.sources[label]))]
        return crop(src, rng, self.event_pos), False

    def make(self, label, rng=None):
        rng = rng or self.rng
        fg, _ = self.foreground(label, rng)
        fg = fg.astype(np.float32)
        if rng.random() < 0.35:
            fg = synth.fft_convolve(fg, synth.impulse_response(rng))
        if label == 'street':
            x = fg / rms(fg)
        else:
            x = fg / active_rms(fg)
            if rng.random() < 0.85:
                lo, hi = (-10.0, 15.0) if label in ALERT_LABELS else (-6.0, 20.0)
                ebr_db = rng.uniform(lo, hi)
                bed = self.bed(rng)
                x = x + bed / rms(bed) * 10.0 ** (-ebr_db / 20.0)
        if rng.random() < 0.15:
            x = x + synth.wind_bed(WIN, rng) * rms(x) * rng.uniform(0.1, 1.0)
        if rng.random() < 0.3:
            x = synth.band_limit(x, rng)
        # overall level: quiet distant sounds up to loud close ones
        peak_db = rng.uniform(*self.peak_db)
        x = x * (10.0 ** (peak_db / 20.0) / (np.abs(x).max() + 1e-9))
        if rng.random() < 0.1:
            x = x * 10.0 ** (rng.uniform(6, 20) / 20.0)
        x = np.clip(x, -1.0, 1.0)  # clipping (also keeps the [-1, 1] contract)
        x = x + rng.standard_normal(WIN).astype(np.float32) * 10.0 ** (rng.uniform(*self.noise_floor_db) / 20.0)
        return np.clip(x, -1.0, 1.0).astype(np.float32)

    def batch(self, size):
        rng = self.rng
        labels = rng.choice(len(self.labels), size=size, p=self.label_p)
        xs = np.stack([self.make(self.labels[i], rng) for i in labels])
        ys = np.array([LABELS.index(self.labels[i]) for i in labels], dtype=np.int64)
        weights = np.array([self.hard_negative_weight if self.labels[i] in HARD_NEGATIVES else 1.0 for i in labels], dtype=np.float32)
        return xs, ys, weights
