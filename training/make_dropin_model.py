#!/usr/bin/python3
"""Writes a YAMNet-shaped model and its card into test/fixtures/models/: what a city would drop
in from a vendor, to run through the whole path (loading, the editor's card summary, the node,
`vigie eval detect`, bench/detect.ts).

    /usr/bin/python3 training/make_dropin_model.py

YAMNet's shape: input `waveform` float32 [batch, 15600] (0.975 s at 16 kHz), output
`probabilities` [batch, 521] through a sigmoid (multi-label), in the order of AudioSet's 521
class names. The class names that matter to a street are written out, placed about where
YAMNet's class map has them; the other columns are named class_N. The card maps them onto
Vigie's labels with `labelMap` (several onto one: gunshot, glass_break, speech...).

Not trained: a fixed graph of five features of the window (the loudest 25 ms frame's level,
how far it stands above the window's mean level, the steepest rise between frames, the
high-frequency tilt of the loudest frames, and a constant) and a linear layer with set
weights. Its "Gunshot, gunfire" follows a loud, sudden onset, "Glass" and "Shatter" one with
much high-frequency energy, "Speech" a moderate level without onsets; every other class stays
low. It recognises little, but its scores move with the audio. Deterministic; about 25 kB.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from card import io_contract  # noqa: E402
from data import REPO_ROOT  # noqa: E402
from export import export_torch_module, run_onnxruntime_node, set_metadata  # noqa: E402

OUT_DIR = os.path.join(REPO_ROOT, 'test', 'fixtures', 'models')
NAME = 'yamnet-style'
SAMPLE_RATE = 16000
SAMPLES = 15600  # YAMNet's window: 0.975 s
FRAME = 400  # 25 ms: 39 frames per window
N_CLASSES = 521
OPSET = 13

# The AudioSet display names this model scores, at about YAMNet's indices.
NAMED = {
    0: 'Speech', 1: 'Child speech, kid speaking', 2: 'Conversation', 3: 'Narration, monologue',
    4: 'Babbling', 6: 'Shout', 9: 'Yell', 10: 'Children shouting', 11: 'Screaming', 12: 'Whispering',
    13: 'Laughter', 19: 'Crying, sobbing', 24: 'Singing',
    61: 'Cheering', 63: 'Chatter', 64: 'Crowd', 65: 'Hubbub, speech noise, speech babble',
    69: 'Dog', 70: 'Bark', 132: 'Music',
    300: 'Vehicle', 308: 'Car', 309: 'Vehicle horn, car horn, honking', 311: 'Car alarm', 313: 'Skidding',
    314: 'Tire squeal', 315: 'Car passing by', 319: 'Air horn, truck horn', 324: 'Police car (siren)',
    325: 'Ambulance (siren)', 326: 'Fire engine, fire truck (siren)', 328: 'Traffic noise, roadway noise',
    390: 'Siren', 391: 'Civil defense siren',
    420: 'Explosion', 421: 'Gunshot, gunfire', 422: 'Machine gun', 423: 'Fusillade', 424: 'Artillery fire',
    425: 'Cap gun', 426: 'Fireworks', 427: 'Firecracker', 428: 'Burst, pop', 430: 'Boom',
    435: 'Glass', 436: 'Chink, clink', 437: 'Shatter', 460: 'Smash, crash', 461: 'Breaking',
}
LABELS = [NAMED.get(i, f'class_{i}') for i in range(N_CLASSES)]

# Model label -> Vigie label. Unmapped labels (class_N, Laughter, Chink, clink...) are ignored.
LABEL_MAP = {
    'Gunshot, gunfire': 'gunshot', 'Machine gun': 'gunshot', 'Fusillade': 'gunshot', 'Artillery fire': 'gunshot',
    'Cap gun': 'gunshot',
    'Glass': 'glass_break', 'Shatter': 'glass_break',
    'Screaming': 'scream',
    'Explosion': 'explosion', 'Boom': 'explosion',
    'Smash, crash': 'crash', 'Breaking': 'crash',
    'Skidding': 'tire_skid', 'Tire squeal': 'tire_skid',
    'Fireworks': 'fireworks', 'Firecracker': 'fireworks', 'Burst, pop': 'other',
    'Siren': 'siren', 'Police car (siren)': 'siren', 'Ambulance (siren)': 'siren',
    'Fire engine, fire truck (siren)': 'siren', 'Civil defense siren': 'siren', 'Car alarm': 'car_alarm',
    'Vehicle horn, car horn, honking': 'car_horn', 'Air horn, truck horn': 'car_horn',
    'Vehicle': 'traffic', 'Car': 'traffic', 'Car passing by': 'traffic', 'Traffic noise, roadway noise': 'traffic',
    'Dog': 'dog_bark', 'Bark': 'dog_bark', 'Music': 'music',
    'Speech': 'speech', 'Child speech, kid speaking': 'speech', 'Conversation': 'speech',
    'Narration, monologue': 'speech', 'Whispering': 'speech',
    'Crowd': 'crowd', 'Hubbub, speech noise, speech babble': 'crowd', 'Chatter': 'crowd',
}
ALERT_LABELS = ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid']
VOICE_LABELS = ['speech', 'crowd']
THRESHOLDS = {'gunshot': 0.6, 'glass_break': 0.6, 'crash': 0.7, 'scream': 0.7, 'explosion': 0.7, 'tire_skid': 0.7}

# Weights on the features [peak dBFS + 30, contrast dB - 15, rise dB - 15, HF tilt dB, 1].
WEIGHTS = {
    'Gunshot, gunfire': (0.10, 0.15, 0.30, -0.30, -1.0),
    'Machine gun': (0.08, 0.10, 0.20, -0.30, -2.5),
    'Artillery fire': (0.10, 0.10, 0.15, -0.50, -3.0),
    'Explosion': (0.12, 0.10, 0.15, -0.60, -2.5),
    'Boom': (0.10, 0.05, 0.10, -0.60, -3.0),
    'Glass': (0.05, 0.10, 0.20, 0.60, -1.5),
    'Shatter': (0.05, 0.10, 0.25, 0.50, -2.0),
    'Smash, crash': (0.08, 0.10, 0.15, 0.20, -2.5),
    'Screaming': (0.10, -0.05, -0.05, 0.10, -3.5),
    'Skidding': (0.08, -0.10, -0.10, 0.30, -4.0),
    'Speech': (0.08, -0.10, -0.15, -0.10, -1.0),
    'Conversation': (0.05, -0.10, -0.15, -0.10, -2.0),
    'Traffic noise, roadway noise': (0.05, -0.15, -0.10, -0.10, -0.5),
    'Vehicle': (0.05, -0.10, -0.05, -0.10, -1.0),
    'Siren': (0.06, -0.10, -0.10, -0.20, -3.0),
    'Fireworks': (0.08, 0.10, 0.15, 0.00, -3.0),
}


class YamnetShaped(nn.Module):
    """[batch, 15600] waveform -> [batch, 521] independent probabilities."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(5, N_CLASSES)
        with torch.no_grad():
            w = torch.zeros(N_CLASSES, 5)
            w[:, 4] = -6.0  # every class not written out: low, a little above nothing when loud
            w[:, 0] = 0.02
            for label, row in WEIGHTS.items():
                w[LABELS.index(label)] = torch.tensor(row)
            self.linear.weight.copy_(w)
            self.linear.bias.zero_()

    def forward(self, waveform):
        frames = waveform.reshape(waveform.shape[0], SAMPLES // FRAME, FRAME)
        level = 10.0 * torch.log10(torch.mean(frames * frames, dim=2) + 1e-10)
        diff = frames[:, :, 1:] - frames[:, :, :-1]
        tilt = 10.0 * torch.log10(torch.mean(diff * diff, dim=2) + 1e-10) - level
        peak = torch.max(level, dim=1).values
        contrast = peak - torch.mean(level, dim=1)
        rise = torch.max(level[:, 1:] - level[:, :-1], dim=1).values
        loudest = torch.softmax(level, dim=1)  # weights the loudest frames' tilt
        tilt_at_peak = torch.sum(loudest * tilt, dim=1)
        ones = torch.ones_like(peak)
        feats = torch.stack([peak + 30.0, contrast - 15.0, rise - 15.0, tilt_at_peak, ones], dim=1)
        return torch.sigmoid(self.linear(feats))


def make_card(onnx_path, module):
    return {
        'name': NAME,
        'version': '0.0.1',
        'description': 'Test fixture: a YAMNet-shaped drop-in model (0.975 s at 16 kHz, 521 AudioSet-named sigmoid '
                       'outputs) with a card mapping its labels onto Vigie\'s. Fixed weights, not trained.',
        'format': 'onnx',
        'file': NAME + '.onnx',
        'opset': OPSET,
        **io_contract(SAMPLES, SAMPLE_RATE, N_CLASSES, 'sigmoid'),
        'labels': LABELS,
        'labelMap': LABEL_MAP,
        'alertLabels': ALERT_LABELS,
        'voiceLabels': VOICE_LABELS,
        'backgroundLabels': sorted(set(LABEL_MAP.values()) - set(ALERT_LABELS)),
        'thresholds': THRESHOLDS,
        'parameters': sum(p.numel() for p in module.parameters()),
        'fileBytes': os.path.getsize(onnx_path),
        'architecture': 'five fixed features of 25 ms frame levels (peak, contrast, rise, high-frequency tilt) '
                        'and a linear layer with set weights, sigmoid',
        'training': {'command': 'training/make_dropin_model.py', 'sources': [], 'note': 'not trained: fixed weights'},
        'results': {},
        'limitations': ['Test fixture only: it follows loud sudden onsets and bright sounds, nothing more.'],
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    module = YamnetShaped()
    onnx_path = os.path.join(OUT_DIR, NAME + '.onnx')
    export_torch_module(module, onnx_path, samples=SAMPLES, opset=OPSET)
    # As the project's exports do: the rate, the window and the labels (comma-joined, although
    # AudioSet's names hold commas) in the file's metadata, for the loader to cross-check.
    set_metadata(onnx_path, {'sample_rate': SAMPLE_RATE, 'window_samples': SAMPLES, 'labels': ','.join(LABELS)})
    with open(os.path.join(OUT_DIR, NAME + '.json'), 'w') as f:
        json.dump(make_card(onnx_path, module), f, indent=2)
        f.write('\n')

    # Check in onnxruntime-node against PyTorch, on quiet noise and on a loud click in it.
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, SAMPLES)) * 0.003).astype(np.float32)
    x[1, 8000:8080] += np.hanning(80).astype(np.float32) * 0.9 * np.sign(rng.standard_normal(80)).astype(np.float32)
    x[2] = (0.1 * np.sin(2 * np.pi * 300 * np.arange(SAMPLES) / SAMPLE_RATE)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    got, info = run_onnxruntime_node(onnx_path, x)
    assert list(info['dims']) == [3, N_CLASSES], info
    assert np.max(np.abs(got - expected)) < 1e-4, np.max(np.abs(got - expected))
    g = LABELS.index('Gunshot, gunfire')
    s = LABELS.index('Speech')
    print(f'{NAME}: {os.path.getsize(onnx_path)} bytes, output {info["dims"]}; '
          f'Gunshot, gunfire: noise {got[0, g]:.3f}, click {got[1, g]:.3f}, tone {got[2, g]:.3f}; '
          f'Speech: noise {got[0, s]:.3f}, click {got[1, s]:.3f}, tone {got[2, s]:.3f}')


if __name__ == '__main__':
    main()
