"""Reading the shared clip pool: manifest, WAV decoding, grouping, split, event finding."""
import csv
import hashlib
import json
import os
import re
import wave

import numpy as np

SAMPLE_RATE_HZ = 16000
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.path.join(REPO_ROOT, 'training', '.cache')

ALERT_LABELS = ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid']
# Background labels of the data, plus "street" for pure ambience (real beds and synthetic ones).
BACKGROUND_LABELS = ['car_horn', 'construction', 'crowd', 'dog_bark', 'fireworks', 'footsteps',
                     'music', 'other', 'siren', 'speech', 'traffic', 'weather', 'street']
VOICE_LABELS = ['speech', 'crowd']  # never alert, never published (DESIGN §4.3)
LABELS = ALERT_LABELS + BACKGROUND_LABELS


def data_dir():
    env = os.environ.get('VIGIE_DATA_DIR')
    if env:
        return env
    return os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'data')


def pool_dir():
    return os.path.join(data_dir(), 'urban-sounds')


def read_wav(path):
    """16-bit PCM WAV -> float32 mono in [-1, 1]. Refuses other formats rather than guessing."""
    with wave.open(path, 'rb') as w:
        if w.getsampwidth() != 2:
            raise ValueError(f'{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit')
        rate = w.getframerate()
        channels = w.getnchannels()
        raw = w.readframes(w.getnframes())
    x = np.frombuffer(raw, dtype='<i2').astype(np.float32) / 32768.0
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE_HZ:
        x = resample(x, rate, SAMPLE_RATE_HZ)
    return x


def write_wav(path, x, rate=SAMPLE_RATE_HZ):
    pcm = np.clip(np.round(np.asarray(x, dtype=np.float64) * 32767.0), -32768, 32767).astype('<i2')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def resample(x, rate_in, rate_out):
    """Band-limited resampling by FFT (zero-padding or truncating the spectrum)."""
    if rate_in == rate_out or len(x) == 0:
        return x.astype(np.float32)
    n_out = int(round(len(x) * rate_out / rate_in))
    spec = np.fft.rfft(x.astype(np.float64))
    n_bins_out = n_out // 2 + 1
    out_spec = np.zeros(n_bins_out, dtype=np.complex128)
    k = min(len(spec), n_bins_out)
    out_spec[:k] = spec[:k]
    y = np.fft.irfft(out_spec, n_out) * (n_out / len(x))
    return y.astype(np.float32)


# The glass project's own mixes, `<event>_000_aNNN_<start>_<end>_000`: ambience NNN (its
# seconds start-end) added to the clean event clip `<event>_000_000`.
PROJECT_MIX = re.compile(r'^(.*_000)_a\d{3}_\d+_\d+_000$')


def project_mix_parent(row):
    """The group key of a project mix's clean parent clip, or None for any other clip."""
    m = PROJECT_MIX.match(os.path.splitext(os.path.basename(row['origin_path']))[0])
    return f"{row['source']}:{m.group(1)}" if m else None


def group_key(row):
    """Recording identity used for the split. Pieces of one recording share origin_path;
    the source project's glass mixes `<event>_aNNN_<start>_<end>_000` share their parent's."""
    mix_parent = project_mix_parent(row)
    if mix_parent:
        return mix_parent
    base = os.path.splitext(os.path.basename(row['origin_path']))[0]
    parent = re.match(r'^(.*_000)_000$', base)
    if parent and row['source'] == 'ringglass':
        return f"{row['source']}:{parent.group(1)}"
    return f"{row['source']}:{row['origin_path']}"


def load_manifest(near_copies=True):
    """The pool's rows, each with its split `group`: its recording (group_key), or with
    `near_copies` the first recording of its near-copy cluster, and without the rows of
    recordings whose label the pool contradicts (see near_copy_clusters and doubtful_labels;
    computed once per pool and cached). `recording` keeps group_key."""
    path = os.path.join(pool_dir(), 'manifest.csv')
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r['group'] = r['recording'] = group_key(r)
        r['duration_s'] = float(r['duration_s'])
    if near_copies:
        found = cached_near_copies(rows)
        merge_near_copies(rows, found['clusters'])
        left_out = set(found['doubtful'])
        rows = [r for r in rows if r['recording'] not in left_out]
    return rows


# Two clips of one label whose waveforms correlate this much, at the best lag and over both
# clips' whole energy, are one recording for the split. Found in the pool: one sample shipped
# by several games or packs under other names (0.96-0.99), a filtered variant (0.99), one
# gunshot uploaded several times (0.98-1.00), "-hi"/"-high" versions of one effect (0.92-0.96).
# Distinct recordings of one label stay below 0.9 but for a few shots of one gun in one place
# (0.90-0.95), kept together too: a model that heard one of them has heard the others.
NEAR_COPY_CORRELATION = 0.90
# Compared at 4 kHz: enough to tell recordings apart, 16 times less work than at 16 kHz.
NEAR_COPY_DECIMATION = 4


def near_copy_signal(x):
    """`x` (16 kHz) averaged down to 4 kHz, without its mean, as float64."""
    n = len(x) // NEAR_COPY_DECIMATION * NEAR_COPY_DECIMATION
    y = np.asarray(x[:n], dtype=np.float64).reshape(-1, NEAR_COPY_DECIMATION).mean(axis=1)
    return y - y.mean() if len(y) else y


def near_copy_score(a, b):
    """Largest |cross-correlation| of near_copy_signal's `a` and `b` over every lag, divided by
    the root of both signals' whole energies: 1 for the same audio at any gain and shift, lower
    when either holds sound the other lacks. 0 for a silent signal."""
    ea, eb = float(np.dot(a, a)), float(np.dot(b, b))
    if ea <= 0.0 or eb <= 0.0:
        return 0.0
    n = len(a) + len(b) - 1
    nfft = 1 << (n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(a, nfft) * np.conj(np.fft.rfft(b, nfft)), nfft)
    return float(np.max(np.abs(xc)) / np.sqrt(ea * eb))


def near_copy_clusters(rows, clips, threshold=NEAR_COPY_CORRELATION):
    """Recordings (row['recording']) holding near-copies of each other, linked through any chain
    of clip pairs scoring `threshold` or more, whatever their labels: a sorted list of sorted
    lists, each of two or more recordings. Deterministic."""
    signals = [near_copy_signal(clips[r['path']]) for r in rows]
    energies = [float(np.dot(x, x)) for x in signals]
    spectra = {}

    def spectrum(i, nfft):
        if (i, nfft) not in spectra:
            spectra[(i, nfft)] = np.fft.rfft(signals[i], nfft)
        return spectra[(i, nfft)]

    parent = {}

    def root(g):
        parent.setdefault(g, g)
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            ra, rb = root(a['recording']), root(b['recording'])
            # pieces of one recording, or already joined: the clusters are the same either way
            if ra == rb or energies[i] <= 0.0 or energies[j] <= 0.0:
                continue
            # near_copy_score with each signal's spectrum computed once per FFT size
            nfft = 1 << (len(signals[i]) + len(signals[j]) - 2).bit_length()
            xc = np.fft.irfft(spectrum(i, nfft) * np.conj(spectrum(j, nfft)), nfft)
            if np.max(np.abs(xc)) / np.sqrt(energies[i] * energies[j]) >= threshold:
                parent[max(ra, rb)] = min(ra, rb)
    clusters = {}
    for g in list(parent):
        clusters.setdefault(root(g), set()).add(g)
    return sorted(sorted(c) for c in clusters.values() if len(c) > 1)


class NearCopyFinder:
    """Tells whether a clip is a near-copy (near_copy_score >= threshold) of any of a fixed set
    of clips: e.g. a held-out clip of the training pool's, shipped by another package."""

    def __init__(self, named_clips, threshold=NEAR_COPY_CORRELATION):
        self.names = [name for name, _ in named_clips]
        self.signals = [near_copy_signal(x) for _, x in named_clips]
        self.energies = [float(np.dot(x, x)) for x in self.signals]
        self.threshold = threshold
        self.spectra = {}

    def find(self, x):
        """(name, score) of the set's clip that `x` copies best, if it scores the threshold or
        more; else None."""
        sig = near_copy_signal(x)
        e = float(np.dot(sig, sig))
        best = None
        if e <= 0.0:
            return None
        for i, name in enumerate(self.names):
            if self.energies[i] <= 0.0:
                continue
            nfft = 1 << (len(sig) + len(self.signals[i]) - 2).bit_length()
            if (i, nfft) not in self.spectra:
                self.spectra[(i, nfft)] = np.fft.rfft(self.signals[i], nfft)
            xc = np.fft.irfft(np.fft.rfft(sig, nfft) * np.conj(self.spectra[(i, nfft)]), nfft)
            score = float(np.max(np.abs(xc)) / np.sqrt(e * self.energies[i]))
            if score >= self.threshold and (best is None or score > best[1]):
                best = (name, score)
        return best


def doubtful_labels(rows, clusters):
    """Recordings whose label the pool contradicts: one sound under two labels. In a cluster
    holding one alert label and background labels, the background ones (an alert recording is
    labelled by its project; `other` clips were never checked, data README); in a cluster of
    two alert labels, every one. A sorted list of recordings."""
    doubtful = set()
    label_of = {r['recording']: r['label'] for r in rows}
    for c in clusters:
        alert = {label_of[g] for g in c if label_of[g] in ALERT_LABELS}
        if len(alert) > 1:
            doubtful.update(c)
        elif alert:
            doubtful.update(g for g in c if label_of[g] not in ALERT_LABELS)
    return sorted(doubtful)


def merge_near_copies(rows, clusters):
    """Gives every row of a near-copy cluster the cluster's first recording as its split group."""
    first = {g: c[0] for c in clusters for g in c}
    for r in rows:
        r['group'] = first.get(r['recording'], r['recording'])


def cached_near_copies(rows):
    """{'clusters': near_copy_clusters, 'doubtful': doubtful_labels} of the pool (all its rows),
    cached in training/.cache by the pool's key."""
    key = f'{pool_key(rows)}-{NEAR_COPY_CORRELATION}-{NEAR_COPY_DECIMATION}'
    cache = os.path.join(CACHE_DIR, 'near_copies.json')
    try:
        with open(cache) as f:
            kept = json.load(f)
        if kept.get('key') == key:
            return kept
    except (OSError, ValueError):
        pass
    clusters = near_copy_clusters(rows, load_pool(rows))
    found = {'key': key, 'clusters': clusters, 'doubtful': doubtful_labels(rows, clusters)}
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(cache, 'w') as f:
        json.dump(found, f, indent=1)
    return found


def stable_fraction(text, seed):
    h = hashlib.sha256(f'{seed}:{text}'.encode()).hexdigest()
    return int(h[:12], 16) / float(1 << 48)


def thin_rows(rows, share, seed):
    """A share of the recordings (groups) of every label, at least one each, chosen
    deterministically for a seed: for learning curves (does more of the same data help?)."""
    if share >= 1.0:
        return rows
    by_label = {}
    for r in rows:
        by_label.setdefault(r['label'], set()).add(r['group'])
    keep = set()
    for label, groups in sorted(by_label.items()):
        ordered = sorted(groups, key=lambda g: stable_fraction(g, f'thin:{seed}'))
        keep.update(ordered[:max(1, int(round(len(ordered) * share)))])
    return [r for r in rows if r['group'] in keep]


def split_rows(rows, seed, val_fraction=0.2):
    """Split by recording group, stratified by label: each label with ≥ 3 groups gives at
    least one group to validation. Deterministic for a seed."""
    by_label = {}
    for r in rows:
        by_label.setdefault(r['label'], set()).add(r['group'])
    val_groups = set()
    for label, groups in sorted(by_label.items()):
        ordered = sorted(groups, key=lambda g: stable_fraction(g, seed))
        if len(ordered) < 3:
            continue
        n_val = max(1, int(round(len(ordered) * val_fraction)))
        val_groups.update(ordered[:n_val])
    train = [r for r in rows if r['group'] not in val_groups]
    val = [r for r in rows if r['group'] in val_groups]
    return train, val


# The selection split draws from another stream than the train/validation split of the same seed.
SELECTION_SEED_OFFSET = 7777


def selection_split(train_rows, seed, share):
    """(training rows, selection rows): `share` of the training side's recording groups, split off
    the same way as validation (by group, stratified by label), for choosing among runs without
    looking at the validation recordings the evaluation set is made of. share 0: nothing."""
    if share <= 0:
        return train_rows, []
    return split_rows(train_rows, seed + SELECTION_SEED_OFFSET, val_fraction=share)


def frame_energy_db(x, frame=800, hop=400):
    """Short-time energy in dBFS (50 ms frames, 25 ms hop)."""
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    n = 1 + (len(x) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    e = np.mean(x[idx].astype(np.float64) ** 2, axis=1)
    return 10.0 * np.log10(e + 1e-12), hop


def event_centres(x, within_db=8.0, extent=None):
    """Weak labels: a long clip labelled 'scream' is mostly not a scream. The event is taken
    where the energy is within `within_db` of the clip's loudest frame (sample indices);
    only inside `extent` (onset, offset in samples) when it is known (mix_extents)."""
    e_db, hop = frame_energy_db(x)
    centres = np.arange(len(e_db)) * hop + 400
    inside = np.ones(len(e_db), dtype=bool)
    if extent is not None:
        inside = (centres >= extent[0]) & (centres < extent[1])
        if not inside.any():
            inside[:] = True
    peak = e_db[inside].max()
    floor = np.percentile(e_db, 20)
    threshold = max(peak - within_db, floor + 6.0) if peak - floor > 6.0 else peak - within_db
    return centres[inside & (e_db >= threshold)].astype(np.int64)


def event_extent(x):
    """(onset, offset) in samples of the event in a clip, by energy: onset = first 5 ms frame
    that rises above the clip's floor by half the peak-to-floor range (at least 10 dB), offset =
    last frame within 30 dB of the peak."""
    frame, hop = 80, 80
    n = max(1, (len(x) - frame) // hop + 1)
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    idx = np.minimum(idx, len(x) - 1)
    e = 10 * np.log10(np.mean(x[idx].astype(np.float64) ** 2, axis=1) + 1e-12)
    peak = e.max()
    floor = np.percentile(e, 10)
    thr = max(floor + max(10.0, 0.5 * (peak - floor)), peak - 25.0) if peak - floor > 10.0 else peak - 3.0
    on = int(np.argmax(e >= thr))
    above = np.nonzero(e >= peak - 30.0)[0]
    off = int(above[-1]) + 1 if len(above) else n
    return on * hop, min(len(x), off * hop + frame)


def alignment_lag(mix, part):
    """Where `part` starts inside `mix` (samples), by cross-correlation."""
    n = 1 << int(np.ceil(np.log2(len(mix) + len(part))))
    c = np.fft.irfft(np.fft.rfft(mix, n) * np.conj(np.fft.rfft(part, n)), n)
    return int(np.argmax(c[:max(1, len(mix) - len(part) + 1)]))


def mix_extents(rows, clips):
    """Where the event lies in each of the source project's own mixes: {path: (onset, offset)}
    in samples. Those mixes add an ambience about as loud as the glass to the whole clean
    event clip, so the mix's energy dates the ambience's start, up to 1 s before the glass.
    The extent is the clean parent's, placed by cross-correlation. A mix whose parent is not
    in the pool takes the median onset of the parents found (the project starts each event
    clip at the same time) and its own energy's offset."""
    parents = {group_key(r): r for r in rows if project_mix_parent(r) is None}
    mixes = [r for r in rows if project_mix_parent(r) is not None]
    out, onsets = {}, []
    for r in mixes:
        parent_row = parents.get(project_mix_parent(r))
        if parent_row is None:
            continue
        mix, parent = clips[r['path']].astype(np.float64), clips[parent_row['path']].astype(np.float64)
        on, off = event_extent(parent)
        lag = alignment_lag(mix, parent)
        out[r['path']] = (lag + on, min(len(mix), lag + off))
        onsets.append(on)
    for r in mixes:
        if r['path'] in out:
            continue
        own_on, own_off = event_extent(clips[r['path']])
        on = int(np.median(onsets)) if onsets else own_on
        out[r['path']] = (on, max(on + 1, own_off))
    return out


def pool_key(rows):
    """A digest of the pool's files: path, duration, and each file's size and modification
    time too (a clip whose audio changed but not its length must be decoded again, or the
    fingerprint would call the changed pool "same")."""
    def stamp(r):
        st = os.stat(os.path.join(pool_dir(), r['path']))
        return f"{r['path']}:{r['duration_s']}:{st.st_size}:{st.st_mtime_ns}"
    return hashlib.sha256('|'.join(stamp(r) for r in rows).encode()).hexdigest()[:16]


def load_pool(rows):
    """Decode every clip once and cache the arrays (training/.cache/pool.npz)."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    cache = os.path.join(CACHE_DIR, 'pool.npz')
    key = pool_key(rows)
    if os.path.exists(cache):
        with np.load(cache, allow_pickle=False) as z:
            if str(z['key']) == key:
                flat, offsets = z['flat'], z['offsets']
                return {r['path']: flat[offsets[i]:offsets[i + 1]] for i, r in enumerate(rows)}
    clips = [read_wav(os.path.join(pool_dir(), r['path'])) for r in rows]
    offsets = np.zeros(len(clips) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(c) for c in clips])
    flat = np.concatenate(clips).astype(np.float32)
    np.savez(cache, key=np.array(key), flat=flat, offsets=offsets)
    return {r['path']: c for r, c in zip(rows, clips)}
