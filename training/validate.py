"""Clip-level validation on the held-back recordings (split by origin), as they are (no mixing)."""
import numpy as np
import torch

from data import ALERT_LABELS, LABELS, frame_energy_db

WIN = 16000
HOP = 8000


def windows(x):
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    starts = list(range(0, len(x) - WIN + 1, HOP))
    return np.stack([x[s:s + WIN] for s in starts])


def predict_windows(net, x, batch=64):
    w = windows(x)
    out = []
    with torch.no_grad():
        for i in range(0, len(w), batch):
            out.append(torch.softmax(net(torch.from_numpy(w[i:i + batch])), dim=1).numpy())
    return w, np.concatenate(out)


def clip_prediction(net, x):
    """The label of the clip: mean probabilities over its loud windows (within 6 dB of the
    loudest) — weakly labelled clips hold the event where the energy is."""
    w, probs = predict_windows(net, x)
    e = 10 * np.log10(np.mean(w.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = e >= e.max() - 6.0
    return probs[loud].mean(axis=0)


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return round(p, 3), round(r, 3), round(f, 3)


def clip_level_report(net, val_rows, clips):
    net.eval()
    y_true, y_pred = [], []
    for r in val_rows:
        probs = clip_prediction(net, clips[r['path']])
        y_true.append(r['label'])
        y_pred.append(LABELS[int(np.argmax(probs))])
    per_class = {}
    f1s = []
    for label in LABELS:
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == label and p == label)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t != label and p == label)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == label and p != label)
        support = tp + fn
        if support == 0 and fp == 0:
            continue
        p, rc, f = prf(tp, fp, fn)
        per_class[label] = {'support': support, 'precision': p, 'recall': rc, 'f1': f}
        if support:
            f1s.append(f)
    alert_true = [t in ALERT_LABELS for t in y_true]
    alert_pred = [p in ALERT_LABELS for p in y_pred]
    n_alert = sum(alert_true)
    n_bg = len(y_true) - n_alert
    hit = sum(1 for t, p in zip(alert_true, alert_pred) if t and p)
    false_alert = sum(1 for t, p in zip(alert_true, alert_pred) if not t and p)
    confusions = {}
    for t, p in zip(y_true, y_pred):
        if t != p:
            key = f'{t}->{p}'
            confusions[key] = confusions.get(key, 0) + 1
    top = dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:12])
    return {
        'clips': len(y_true),
        'macroF1': round(float(np.mean(f1s)) if f1s else 0.0, 3),
        'accuracy': round(sum(1 for t, p in zip(y_true, y_pred) if t == p) / max(1, len(y_true)), 3),
        'perClass': per_class,
        'alert': {
            'alertClips': n_alert,
            'recall': round(hit / n_alert, 3) if n_alert else 0.0,
            'backgroundClips': n_bg,
            'backgroundFalseAlertRate': round(false_alert / n_bg, 3) if n_bg else 0.0,
        },
        'topConfusions': top,
    }
