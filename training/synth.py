"""Synthetic sound to widen the thin background of the pool, and the augmentation kit.

Everything here is generated from a numpy Generator, so a seed reproduces it. Synthetic
clips are labelled as synthetic in the model card.
"""
import hashlib
import io
import os
import subprocess
import sys
import wave

import numpy as np

from data import CACHE_DIR, SAMPLE_RATE_HZ, resample

SR = SAMPLE_RATE_HZ


def spectral_shape(n, rng, slope_db_per_oct, lowcut_hz=20.0, highcut_hz=7900.0):
    """White noise shaped to a power-law spectrum, band-limited, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    f[0] = 1.0
    gain = (f / 1000.0) ** (slope_db_per_oct / (20.0 * np.log10(2.0)))
    gain[(f < lowcut_hz) | (f > highcut_hz)] = 0.0
    y = np.fft.irfft(spec * gain, n)
    return (y / (np.sqrt(np.mean(y ** 2)) + 1e-12)).astype(np.float32)


def smooth_envelope(n, rng, points_per_s=2.0, depth_db=10.0):
    k = max(2, int(n / SR * points_per_s) + 2)
    knots = rng.uniform(-depth_db, 0.0, size=k)
    env_db = np.interp(np.linspace(0, k - 1, n), np.arange(k), knots)
    return (10.0 ** (env_db / 20.0)).astype(np.float32)


def traffic_bed(n, rng):
    """Traffic-like bed: brownish rumble, slow swells of passing vehicles, engine harmonics."""
    bed = spectral_shape(n, rng, rng.uniform(-7.0, -3.5), lowcut_hz=rng.uniform(20, 60))
    bed *= smooth_envelope(n, rng, rng.uniform(0.3, 1.5), rng.uniform(3, 12))
    t = np.arange(n) / SR
    for _ in range(rng.integers(0, 3)):
        # a passing engine: low harmonic tone with a slow Doppler-like glide and a swell
        f0 = rng.uniform(25, 90)
        glide = 1.0 + rng.uniform(-0.08, 0.08) * np.tanh((t - rng.uniform(0, t[-1] + 1e-3)) * rng.uniform(0.5, 2))
        phase = 2 * np.pi * np.cumsum(f0 * glide) / SR
        tone = sum(np.sin(h * phase) / h for h in range(1, 6))
        centre = rng.uniform(0, t[-1] + 1e-3)
        swell = np.exp(-((t - centre) / rng.uniform(0.8, 3.0)) ** 2)
        bed += (0.3 * tone * swell).astype(np.float32)
    return bed / (np.sqrt(np.mean(bed ** 2)) + 1e-12)


def wind_bed(n, rng):
    """Wind on a microphone: strong low-frequency gusts."""
    w = spectral_shape(n, rng, rng.uniform(-12.0, -8.0), lowcut_hz=5.0, highcut_hz=rng.uniform(300, 1500))
    env = smooth_envelope(n, rng, rng.uniform(1.0, 4.0), rng.uniform(10, 25))
    return (w * env / (np.sqrt(np.mean((w * env) ** 2)) + 1e-12)).astype(np.float32)


def rain_bed(n, rng):
    hiss = spectral_shape(n, rng, rng.uniform(-2.0, 1.0), lowcut_hz=400)
    drops = np.zeros(n, dtype=np.float32)
    count = int(rng.uniform(20, 300) * n / SR)
    pos = rng.integers(0, n, size=count)
    drops[pos] = rng.uniform(0.5, 3.0, size=count)
    kernel = np.exp(-np.arange(64) / rng.uniform(4, 16)) * rng.standard_normal(64)
    drops = np.convolve(drops, kernel, mode='same').astype(np.float32)
    y = hiss + drops * rng.uniform(0.2, 1.0)
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)


def siren(n, rng):
    """Emergency-vehicle sirens: wail, yelp, two-tone hi-lo; harmonic-rich, some Doppler."""
    t = np.arange(n) / SR
    kind = rng.integers(0, 3)
    lo, hi = rng.uniform(450, 800), rng.uniform(1000, 1700)
    if kind == 0:  # wail
        period = rng.uniform(2.0, 6.0)
        f = lo + (hi - lo) * 0.5 * (1 - np.cos(2 * np.pi * (t / period + rng.uniform())))
    elif kind == 1:  # yelp
        period = rng.uniform(0.15, 0.4)
        f = lo + (hi - lo) * ((t / period + rng.uniform()) % 1.0)
    else:  # hi-lo
        period = rng.uniform(0.8, 1.6)
        f = np.where(((t / period + rng.uniform()) % 1.0) < 0.5, lo, hi * 0.8)
    f = f * (1.0 + rng.uniform(-0.03, 0.03) * np.tanh((t - rng.uniform(0, t[-1] + 1e-3)) * 2))
    phase = 2 * np.pi * np.cumsum(f) / SR
    n_harm = rng.integers(1, 6)
    y = sum(np.sin(h * phase) * rng.uniform(0.2, 1.0) / h for h in range(1, n_harm + 1))
    return (y / (np.sqrt(np.mean(y ** 2)) + 1e-12)).astype(np.float32)


def horn(n, rng):
    """Car horns: one or two harmonic tones (300–600 Hz), 0.15–1.5 s, sometimes repeated."""
    y = np.zeros(n, dtype=np.float64)
    t = np.arange(n) / SR
    f0s = [rng.uniform(300, 520)]
    if rng.random() < 0.6:
        f0s.append(f0s[0] * rng.uniform(1.18, 1.3))
    pos = int(rng.uniform(0, 0.5) * n)
    while pos < n:
        length = int(rng.uniform(0.15, 1.5) * SR)
        seg = slice(pos, min(n, pos + length))
        tt = t[seg] - t[pos]
        tone = np.zeros_like(tt)
        for f0 in f0s:
            for h in range(1, 12):
                tone += np.sin(2 * np.pi * f0 * h * tt + rng.uniform(0, 6.28)) * (0.8 ** h)
        ramp = np.minimum(1.0, np.minimum(tt / 0.01, (tt[-1] - tt + 1e-4) / 0.02))
        y[seg] += np.tanh(1.5 * tone) * ramp
        pos += length + int(rng.uniform(0.1, 2.0) * SR)
        if rng.random() < 0.5:
            break
    return (y / (np.sqrt(np.mean(y ** 2)) + 1e-12)).astype(np.float32)


def music(n, rng):
    """Street music stand-in: chords of harmonic notes on a beat, a soft kick drum."""
    y = np.zeros(n, dtype=np.float64)
    t = np.arange(n) / SR
    beat = rng.uniform(0.35, 0.7)
    root = rng.uniform(110, 330)
    pos = 0.0
    while pos < t[-1]:
        start = int(pos * SR)
        length = int(beat * rng.choice([1, 2]) * SR)
        seg = slice(start, min(n, start + length))
        tt = t[seg] - pos
        chord = root * np.array([1.0, rng.choice([1.25, 1.2]), 1.5]) * rng.choice([1.0, 1.125, 1.333, 1.5])
        for f in chord:
            for h in range(1, 5):
                y[seg] += np.sin(2 * np.pi * f * h * tt) * (0.5 ** h) * np.exp(-tt * rng.uniform(1, 5))
        if rng.random() < 0.7:
            y[seg] += 0.8 * np.sin(2 * np.pi * 60 * tt * np.exp(-tt * 8)) * np.exp(-tt * 12)
        pos += length / SR
    return (y / (np.sqrt(np.mean(y ** 2)) + 1e-12)).astype(np.float32)


def thud(n, rng):
    """Door slam / bang-like hard negative: a dull low-passed impulse with a short decay."""
    y = np.zeros(n, dtype=np.float32)
    length = int(rng.uniform(0.08, 0.4) * SR)
    burst = spectral_shape(length, rng, rng.uniform(-10, -6), lowcut_hz=30, highcut_hz=rng.uniform(400, 1500))
    burst *= np.exp(-np.arange(length) / (rng.uniform(0.015, 0.08) * SR)).astype(np.float32)
    pos = int(rng.uniform(0.0, max(1, n - length)))
    y[pos:pos + length] = burst[:n - pos]
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)


ESPEAK_VOICES = ['en', 'en-us', 'en+f3', 'en+m3', 'fr', 'fr+f2', 'de', 'es', 'it', 'nl', 'pt', 'pl',
                 'en+f4', 'en-gb-x-rp', 'ar', 'tr', 'ru', 'zh', 'fr+m4', 'es+f3']
PHRASES = [
    'Excuse me, do you know the way to the station?',
    'We will meet at the corner after work, around six.',
    'Bonjour, vous avez l\'heure s\'il vous plait?',
    'The bus is late again this morning, as usual.',
    'Hey, wait for me, I am coming!',
    'Ich glaube, wir muessen hier links abbiegen.',
    'Can you hear me? The line is really bad here.',
    'Donde esta la farmacia mas cercana?',
    'Two coffees and a croissant, please.',
    'Look at that, the shop has closed down already.',
    'Attention, the next tram will arrive in three minutes.',
    'Ciao, come stai? Tutto bene, grazie.',
    'I told you we should have taken the car.',
    'Happy birthday! Come on, everyone is waiting.',
    'Il fait vraiment froid ce soir, rentrons vite.',
    'One, two, three, four, five, six, seven.',
]


def espeak_version():
    """espeak-ng's version line without its data directory ('not installed' when missing)."""
    try:
        out = subprocess.run(['espeak-ng', '--version'], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 'not installed'
    return out.split(' Data at')[0].strip() or 'unknown'


def espeak_recipe_key():
    """Short digest of what the utterances are made of besides count and seed: the voices, the
    phrases and the espeak-ng that speaks them."""
    text = '\n'.join(ESPEAK_VOICES + PHRASES + [espeak_version()])
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def espeak_speech(count, seed):
    """Render synthetic speech with espeak-ng through a pipe (no temporary files), cached per
    count, seed and recipe: the voices' texts, rates and pitches are drawn from `seed`, so a
    cache rendered for another seed (a test's, another run's), other phrases or another
    espeak-ng must not stand in for this one."""
    rng = np.random.default_rng(seed)
    cache = os.path.join(CACHE_DIR, f'espeak_{count}_seed{seed}_{espeak_recipe_key()}.npz')
    if os.path.exists(cache):
        with np.load(cache) as z:
            flat, offsets = z['flat'], z['offsets']
        return [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    clips, failures = [], []
    for i in range(count):
        voice = ESPEAK_VOICES[i % len(ESPEAK_VOICES)]
        text = ' '.join(rng.choice(PHRASES, size=2, replace=False))
        args = ['espeak-ng', '--stdout', '-v', voice, '-s', str(int(rng.uniform(120, 210))),
                '-p', str(int(rng.uniform(20, 80))), '-a', '150', text]
        try:
            out = subprocess.run(args, check=True, capture_output=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as e:
            failures.append(f'{voice}: {e}')
            continue
        with wave.open(io.BytesIO(out), 'rb') as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float32) / 32768.0
        clips.append(resample(x, rate, SR))
    if failures:
        # A partial set is used for this run only: cached, it would stand in for the full one.
        print(f'espeak-ng rendered {len(clips)} of {count} utterances ({failures[0]}); '
              'speech is thinner this run and not cached', file=sys.stderr)
    elif clips:
        offsets = np.zeros(len(clips) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(c) for c in clips])
        os.makedirs(CACHE_DIR, exist_ok=True)
        np.savez(cache, flat=np.concatenate(clips), offsets=offsets)
    return clips


# ---- augmentation ---------------------------------------------------------------------------

def impulse_response(rng):
    """Synthetic room/street response: direct path, a few discrete reflections (facades,
    ground), then an exponentially decaying diffuse tail."""
    rt60 = rng.uniform(0.1, 1.2)
    n = int(min(rt60, 0.8) * SR)
    ir = np.zeros(n, dtype=np.float64)
    ir[0] = 1.0
    for _ in range(rng.integers(1, 6)):
        d = int(rng.uniform(0.002, 0.08) * SR)
        if d < n:
            ir[d] += rng.uniform(-0.7, 0.7)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / (rt60 * SR))
    ir += tail * rng.uniform(0.05, 0.4) * np.sqrt(1.0 / max(1.0, n / 800.0))
    return ir.astype(np.float32)


def fft_convolve(x, h):
    n = len(x) + len(h) - 1
    size = 1 << int(np.ceil(np.log2(n)))
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:len(x)]
    return y.astype(np.float32)


def band_limit(x, rng):
    """Microphone / codec band-limiting: random high-pass and low-pass with soft edges."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / SR)
    hp = rng.uniform(50, 400)
    lp = rng.uniform(2500, 7900)
    gain = 1.0 / (1.0 + (hp / np.maximum(f, 1.0)) ** 4) / (1.0 + (f / lp) ** 6)
    return np.fft.irfft(spec * gain, len(x)).astype(np.float32)


def rms(x):
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)) + 1e-12)
