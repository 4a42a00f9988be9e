#!/usr/bin/python3
"""Event-level evaluation of an ONNX model over a manifest (`path,label[,onset,offset]`),
with the scoring rules of `vigie eval detect` (issue 3) and a simple reference detector.
This is the fallback when the Node `vigie eval detect` is not available; the card says which
tool measured its figures.

    /usr/bin/python3 training/evaluate.py --manifest training/.cache/eval/manifest.csv \
        [--model models/vigie-street-v1.onnx] [--write-card]

Detector (fixed defaults, never tuned on the evaluation set): 1 s windows every 250 ms plus
one window right after each energy onset; a class fires when its probability reaches 0.5
(off at 0.35), per-class cool-down 2 s; the event's onset is the strongest energy onset
(10 ms frames rising ≥ 9 dB over the previous 300 ms median) within the firing window, or
the window's loudest frame when there is none. Scoring: a detection is correct when its
label matches and its onset is within 0.5 s of a true onset (each true event matched once);
clip rows without onset count the label detected anywhere; rows whose label is not an alert
class: every detection is a false alarm.
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
from export import run_onnxruntime_node  # noqa: E402

SR = 16000
WIN = 16000
HOP = 4000
TOL_S = 0.5
REAL_ALERTS = ['gunshot', 'glass_break', 'scream']


def onsets(x):
    """Energy onsets: (sample index, rise dB)."""
    frame = 160
    n = len(x) // frame
    if n < 2:
        return []
    e = 10 * np.log10(np.mean(x[:n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1) + 1e-12)
    out = []
    last = -10 ** 9
    for i in range(1, n):
        ref = np.median(e[max(0, i - 30):i])
        rise = e[i] - ref
        if rise >= 9.0 and i - last > 20:
            out.append((i * frame, rise))
            last = i
    return out


def detect(model_path, x, labels, alert_labels, on=0.5, off=0.35, cool_s=2.0):
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    ons = onsets(x)
    starts = set(range(0, len(x) - WIN + 1, HOP))
    if (len(x) - WIN) % HOP:
        starts.add(len(x) - WIN)
    for s, _ in ons:  # a window right after each onset (lead-in 100 ms)
        starts.add(int(np.clip(s - SR // 10, 0, len(x) - WIN)))
    starts = sorted(starts)
    windows = np.stack([x[s:s + WIN] for s in starts]).astype(np.float32)
    probs = np.concatenate([run_onnxruntime_node(model_path, windows[i:i + 256])[0] for i in range(0, len(windows), 256)])
    detections = []
    for label in alert_labels:
        k = labels.index(label)
        active = False
        last_fire = -1e9
        for s, p in zip(starts, probs[:, k]):
            if not active and p >= on:
                active = True
                cand = [(o, r) for o, r in ons if s <= o < s + WIN]
                if cand:
                    t = max(cand, key=lambda c: c[1])[0] / SR
                else:
                    seg = x[s:s + WIN]
                    t = (s + int(np.argmax(np.abs(seg)))) / SR
                if t - last_fire >= cool_s:
                    detections.append({'label': label, 'onset': t, 'confidence': float(p)})
                    last_fire = t
            elif active and p < off:
                active = False
    return detections


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(rows, results, alert_labels):
    stats = {l: {'tp': 0, 'fp': 0, 'fn': 0} for l in alert_labels}
    subs = dels = ins = n_ref = 0
    fa = 0
    non_alert_s = 0.0
    for r, (dets, dur) in zip(rows, results):
        label = r['label']
        if label not in alert_labels:
            fa += len(dets)
            non_alert_s += dur
            for d in dets:
                stats[d['label']]['fp'] += 1
            ins += len(dets)
            continue
        n_ref += 1
        if r.get('onset'):
            t = float(r['onset'])
            hit = [d for d in dets if d['label'] == label and abs(d['onset'] - t) <= TOL_S]
        else:
            hit = [d for d in dets if d['label'] == label]
        matched = hit[:1]
        others = [d for d in dets if d not in matched]
        for d in others:
            stats[d['label']]['fp'] += 1
        if matched:
            stats[label]['tp'] += 1
            ins += len(others)
        else:
            stats[label]['fn'] += 1
            if others:  # DCASE: a miss and a false positive in the same file = one substitution
                subs += 1
                ins += len(others) - 1
            else:
                dels += 1
    per_class = {}
    for l, s in stats.items():
        p, rc, f = prf(s['tp'], s['fp'], s['fn'])
        per_class[l] = dict(s, precision=round(p, 3), recall=round(rc, 3), f1=round(f, 3))
    tp = sum(s['tp'] for s in stats.values())
    fp = sum(s['fp'] for s in stats.values())
    fn = sum(s['fn'] for s in stats.values())
    real = {k: sum(stats[l][k] for l in REAL_ALERTS if l in stats) for k in ('tp', 'fp', 'fn')}
    return {
        'perClass': per_class,
        'microF1': round(prf(tp, fp, fn)[2], 3),
        'errorRate': round((subs + dels + ins) / n_ref, 3) if n_ref else None,
        'realAlertClasses': dict(real, classes=REAL_ALERTS, f1=round(prf(real['tp'], real['fp'], real['fn'])[2], 3)),
        'falseAlarms': fa,
        'nonAlertSeconds': round(non_alert_s, 1),
        'falseAlarmsPerHour': round(fa / (non_alert_s / 3600.0), 1) if non_alert_s else None,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--manifest', default=os.path.join(data.CACHE_DIR, 'eval', 'manifest.csv'))
    p.add_argument('--model', default=os.path.join(data.REPO_ROOT, 'models', 'vigie-street-v1.onnx'))
    p.add_argument('--write-card', action='store_true', help='store the figures in the model card under results.eventLevel')
    args = p.parse_args()
    with open(args.model[:-5] + '.json') as f:
        card = json.load(f)
    labels, alert_labels = card['labels'], card['alertLabels']
    base = os.path.dirname(os.path.abspath(args.manifest))
    with open(args.manifest, newline='') as f:
        rows = list(csv.DictReader(f))
    results = []
    audio_s = 0.0
    t0 = time.process_time()
    w0 = time.time()
    for r in rows:
        x = data.read_wav(os.path.join(base, r['path']))
        dur = len(x) / SR
        audio_s += dur
        results.append((detect(args.model, x, labels, alert_labels), dur))
    out = score(rows, results, alert_labels)
    out.update({
        'tool': 'training/evaluate.py (Python reference detector over the ONNX file in onnxruntime-node)',
        'manifest': os.path.relpath(os.path.abspath(args.manifest), data.REPO_ROOT),
        'files': len(rows),
        'audioSeconds': round(audio_s, 1),
        'wallSeconds': round(time.time() - w0, 1),
        'detector': 'windows 1 s every 250 ms + one after each onset; on 0.5, off 0.35, cool-down 2 s; no level gate',
    })
    print(json.dumps(out, indent=2))
    if args.write_card:
        # Beside the figures of `vigie eval detect` (the node's own detector, at the card's
        # thresholds), never over them: this detector is another one, at a fixed 0.5.
        card.setdefault('results', {}).setdefault('eventLevel', {})['referenceDetector'] = out
        with open(args.model[:-5] + '.json', 'w') as f:
            json.dump(card, f, indent=2)
            f.write('\n')


if __name__ == '__main__':
    main()
