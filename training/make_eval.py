#!/usr/bin/python3
"""Builds the detection evaluation set from the VALIDATION split only (same split and seed
as training): every validation event inserted into street background at -6, 0 and +6 dB
event-to-background ratio with a known onset, plus background-only files.

    /usr/bin/python3 training/make_eval.py [--seed 1234] [--out training/.cache/eval]

Writes WAVs and manifest.csv (`path,label,onset,offset`, seconds, paths relative to the
manifest), and manifest-real.csv (only gunshot/glass_break/scream events + all background) for `vigie eval detect --manifest training/.cache/eval/manifest.csv`.

Event-to-background ratio: RMS of the event's loudest 100 ms over the RMS of the whole
background file. The background of a mixture is a validation background recording
(traffic, weather, construction, footsteps) crossfaded to 10 s, or a synthetic traffic bed
with a seed the training never used when the validation split has none long enough.
"""
import argparse
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
import synth  # noqa: E402
from augment import active_rms  # noqa: E402

SR = 16000
FILE_SECONDS = 10.0
EBRS_DB = [-6, 0, 6]
AMBIENCE_LABELS = ['traffic', 'weather', 'construction', 'footsteps']
# Shortest ambience recording make_background crossfades (s).
AMBIENCE_MIN_S = 2.0
REAL_ALERT_LABELS = ['gunshot', 'glass_break', 'scream']


def event_snippet(x, max_seconds=4.0, extent=None):
    """The event part of a (possibly long, weakly labelled) clip: around its loudest frame,
    from 0.3 s before its onset. `extent` (onset, offset in samples of `x`) when the clip's
    own energy cannot date the event (data.mix_extents). The lead-in fades in over up to 100 ms,
    so the clip's own ambience does not start with a step the street never makes."""
    start = 0
    if len(x) > max_seconds * SR:
        e_db, hop = data.frame_energy_db(x)
        peak = int(np.argmax(e_db)) * hop
        start = max(0, peak - int(1.0 * SR))
        if extent is not None:
            start = min(start, max(0, extent[0] - int(0.3 * SR)))
        x = x[start:start + int(max_seconds * SR)]
    on, off = data.event_extent(x) if extent is None else (extent[0] - start, extent[1] - start)
    lead = max(0, on - int(0.3 * SR))  # keep a little lead-in of the clip's own ambience
    x = x[lead:].astype(np.float64)
    fade = min(on - lead, int(0.1 * SR))
    if fade > 0:
        x[:fade] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    return x[:int(max_seconds * SR)], on - lead, min(off - lead, int(max_seconds * SR))


def make_background(ambience, rng, n, beds=None):
    """10 s of street background: validation ambience recordings crossfaded, else synthetic
    (synth.traffic_bed, or one of `beds` — functions (n, rng) -> bed — drawn at random)."""
    # Only pieces long enough to overlap their neighbours: short ones (single footsteps) left
    # stretches of digital silence between them, and the street's return after each was
    # heard as an onset — an evaluation artefact, not street sound.
    pieces = [a for a in ambience if len(a) >= AMBIENCE_MIN_S * SR and synth.rms(a) > 1e-4]
    if not pieces or rng.random() < 0.3:
        bed_fn = beds[rng.integers(len(beds))] if beds else synth.traffic_bed
        bed = bed_fn(n, rng)
        return bed * 10 ** (rng.uniform(-40, -25) / 20) / synth.rms(bed)
    out = np.zeros(n, dtype=np.float32)
    pos = 0
    fade = int(0.2 * SR)
    while pos < n:
        p = pieces[rng.integers(len(pieces))]
        p = p / synth.rms(p) * 10 ** (rng.uniform(-35, -25) / 20)
        seg = p[:n - pos].copy()
        if pos > 0 and len(seg) > fade:
            seg[:fade] *= np.linspace(0, 1, fade)
        out[pos:pos + len(seg)] += seg
        pos += max(len(seg) - fade, SR // 2)
    return out


def insert_event(bg, ev, ebr_db, rng):
    """`ev` (float64) mixed into a copy of the 10 s background `bg` at `ebr_db` event-to-background
    ratio (the event's loudest 100 ms RMS over the background's RMS), at a random time; scaled
    down as a whole if it would clip. Returns (mix, start sample)."""
    n = len(bg)
    start = int(rng.uniform(1.5, FILE_SECONDS - 1.0 - len(ev) / SR) * SR) if len(ev) < (FILE_SECONDS - 3) * SR else int(0.5 * SR)
    gain = synth.rms(bg) * 10 ** (ebr_db / 20) / active_rms(ev)
    mix = bg.copy()
    seg = ev[:n - start] * gain
    mix[start:start + len(seg)] += seg
    peak = np.abs(mix).max()
    if peak > 0.99:  # keep the ratio, avoid clipping
        mix *= 0.99 / peak
    return mix, start


def event_file_name(i, label, ebr_db):
    return f'event_{i:03d}_{label}_{"m" if ebr_db < 0 else "p"}{abs(ebr_db)}dB.wav'


def sprinkle(bg, sounds, rng):
    """Adds 1-3 of `sounds` on top of `bg` in place (each -6..+10 dB re the background, at a random
    time), then scales it down if it would clip. Returns the indexes of the sounds used."""
    n = len(bg)
    used = []
    for _ in range(rng.integers(1, 4)):
        k = int(rng.integers(len(sounds)))
        s = sounds[k][:n]
        s = s / active_rms(s) * synth.rms(bg) * 10 ** (rng.uniform(-6, 10) / 20)
        at = int(rng.integers(0, n - len(s) + 1))
        bg[at:at + len(s)] += s.astype(bg.dtype)
        used.append(k)
    peak = np.abs(bg).max()
    if peak > 0.99:
        bg *= 0.99 / peak
    return used


def write_manifest(path, rows):
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['path', 'label', 'onset', 'offset'])
        w.writerows(rows)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--seed', type=int, default=1234, help='the training seed (same split)')
    p.add_argument('--out', default=os.path.join(data.CACHE_DIR, 'eval'))
    p.add_argument('--near-copies', choices=('group', 'ignore'), default='group',
                   help='the split of train.py --near-copies (ignore: the set the models up to 1.2.1 were measured on)')
    p.add_argument('--selection-share', type=float, default=0.0,
                   help='build the selection set instead: the training recordings train.py --selection-share kept out (same share and seed), '
                        'made like the evaluation set; use another --out (e.g. training/.cache/selection)')
    args = p.parse_args()
    rng = np.random.default_rng(args.seed + 99991)  # not a stream the training used
    rows = data.load_manifest(near_copies=args.near_copies == 'group')
    train_rows, val_rows = data.split_rows(rows, args.seed)
    if args.selection_share > 0:
        # The recordings kept out of training to choose among runs; the validation ones are not looked at.
        _, val_rows = data.selection_split(train_rows, args.seed, args.selection_share)
    clips = data.load_pool(rows)
    os.makedirs(args.out, exist_ok=True)
    n = int(FILE_SECONDS * SR)
    ambience = [clips[r['path']] for r in val_rows if r['label'] in AMBIENCE_LABELS]
    manifest = []

    events = [r for r in val_rows if r['label'] in data.ALERT_LABELS]
    extents = data.mix_extents(rows, clips)
    for i, r in enumerate(events):
        ev, on, off = event_snippet(clips[r['path']], extent=extents.get(r['path']))
        for ebr in EBRS_DB:
            bg = make_background(ambience, rng, n).astype(np.float64)
            mix, start = insert_event(bg, ev, ebr, rng)
            name = event_file_name(i, r['label'], ebr)
            data.write_wav(os.path.join(args.out, name), mix)
            manifest.append((name, r['label'], round((start + on) / SR, 3), round(min(n, start + off) / SR, 3)))

    # background-only: every validation background clip as it is, and 10 s street mixtures
    for i, r in enumerate(x for x in val_rows if x['label'] not in data.ALERT_LABELS):
        name = f'background_{i:03d}_{r["label"]}.wav'
        data.write_wav(os.path.join(args.out, name), clips[r['path']])
        manifest.append((name, r['label'], '', ''))
    bg_clips = [clips[r['path']] for r in val_rows if r['label'] not in data.ALERT_LABELS and len(clips[r['path']]) > SR // 2]
    for i in range(30):
        bg = make_background(ambience, rng, n)
        # 1-3 validation background sounds (horns, speech, bangs of "other"...) on top
        sprinkle(bg, bg_clips, rng)
        name = f'street_{i:03d}.wav'
        data.write_wav(os.path.join(args.out, name), bg)
        manifest.append((name, 'none', '', ''))

    write_manifest(os.path.join(args.out, 'manifest.csv'), manifest)
    # The targets are over the alert classes with real recordings: the same files
    # without the crash/explosion/tire_skid mixtures (game effects mostly).
    write_manifest(os.path.join(args.out, 'manifest-real.csv'),
                   [m for m in manifest if m[1] not in data.ALERT_LABELS or m[1] in REAL_ALERT_LABELS])
    n_events = sum(1 for m in manifest if m[2] != '')
    print(f'{len(manifest)} files ({n_events} event mixtures from {len(events)} {"selection" if args.selection_share > 0 else "validation"} events, '
          f'{len(manifest) - n_events} background-only) in {args.out}')


if __name__ == '__main__':
    main()
