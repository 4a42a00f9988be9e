#!/usr/bin/python3
"""Writes tiny ONNX models + cards into test/fixtures/models/ for the runtime's contract
validation tests: one correct model and deliberately wrong ones (each wrong in one way).

    /usr/bin/python3 training/make_test_models.py

Deterministic (fixed seed); each file is a few kB. See test/fixtures/models/README.md.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import REPO_ROOT  # noqa: E402
from export import export_torch_module, run_onnxruntime_node, set_metadata  # noqa: E402

OUT_DIR = os.path.join(REPO_ROOT, 'test', 'fixtures', 'models')
SAMPLES = 16000
LABELS = ['gunshot', 'speech', 'street']


class TinyFeatures(nn.Module):
    """Energy of 16 equal chunks of the window (log), then a linear layer: a stand-in classifier
    whose output still depends on the input."""

    def __init__(self, n_out, samples=SAMPLES, chunks=16, softmax=True, bias=(0.0, 0.0, 0.0)):
        super().__init__()
        self.chunks = chunks
        self.samples = samples
        self.linear = nn.Linear(chunks, n_out)
        with torch.no_grad():
            self.linear.weight.copy_(torch.linspace(-0.5, 0.5, n_out * chunks).reshape(n_out, chunks))
            b = list(bias) + [0.0] * (n_out - len(bias))
            self.linear.bias.copy_(torch.tensor(b[:n_out]))
        self.softmax = softmax

    def forward(self, waveform):
        x = waveform.reshape(waveform.shape[0], self.chunks, self.samples // self.chunks)
        energy = torch.log(torch.mean(x * x, dim=2) + 1e-6)
        y = self.linear(energy)
        return torch.softmax(y, dim=1) if self.softmax else y


class Rank3Input(nn.Module):
    """Takes [batch, 1, samples] (channel axis) instead of [batch, samples]."""

    def __init__(self):
        super().__init__()
        self.inner = TinyFeatures(len(LABELS))

    def forward(self, waveform):
        return self.inner(waveform[:, 0, :])


def card(name, *, labels=LABELS, sample_rate=16000, window=SAMPLES, input_shape=None, output_width=None, note=''):
    return {
        'name': name,
        'version': '0.0.1',
        'description': 'Test fixture for Vigie model-contract validation. ' + note,
        'format': 'onnx',
        'file': name + '.onnx',
        'input': {'name': 'waveform', 'shape': input_shape or [-1, window], 'dtype': 'float32',
                  'sampleRate': sample_rate, 'windowSamples': window, 'range': [-1, 1]},
        'output': {'name': 'probabilities', 'shape': [-1, output_width if output_width is not None else len(labels)],
                   'dtype': 'float32'},
        'labels': labels,
        'alertLabels': [l for l in labels if l == 'gunshot' or l == 'glass_break'],
        'voiceLabels': [l for l in labels if l == 'speech'],
        'backgroundLabels': [l for l in labels if l not in ('gunshot', 'glass_break')],
        'parameters': 0,
        'fileBytes': 0,
        'training': {'command': 'training/make_test_models.py', 'sources': [], 'note': 'not trained: fixed weights'},
        'results': {},
        'limitations': ['Test fixture only; it recognises nothing.'],
    }


def write(name, module, card_obj, samples=SAMPLES, opset=13, input_rank3=False, metadata=None):
    onnx_path = os.path.join(OUT_DIR, name + '.onnx')
    if input_rank3:
        module.eval()
        torch.onnx.export(module, torch.zeros(2, 1, samples), onnx_path, input_names=['waveform'],
                          output_names=['probabilities'],
                          dynamic_axes={'waveform': {0: 'batch'}, 'probabilities': {0: 'batch'}}, opset_version=opset)
    else:
        export_torch_module(module, onnx_path, samples=samples, opset=opset)
    if metadata:
        set_metadata(onnx_path, metadata)
    card_obj['parameters'] = sum(p.numel() for p in module.parameters())
    card_obj['fileBytes'] = os.path.getsize(onnx_path)
    card_obj['opset'] = opset
    with open(os.path.join(OUT_DIR, name + '.json'), 'w') as f:
        json.dump(card_obj, f, indent=2)
        f.write('\n')
    return onnx_path


def main():
    torch.manual_seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    made = []
    made.append(write('tiny-ok', TinyFeatures(3), card('tiny-ok', note='CORRECT: same contract as the default model, 3 labels.')))
    made.append(write('bad-rank3-input', Rank3Input(), card(
        'bad-rank3-input', input_shape=[-1, 1, SAMPLES],
        note='WRONG: the ONNX input is rank 3 [batch, 1, 16000], the contract wants [batch, samples].'), input_rank3=True))
    made.append(write('bad-sample-rate', TinyFeatures(3), card(
        'bad-sample-rate', sample_rate='16 kHz',
        note='WRONG: the card\'s input.sampleRate is the string "16 kHz", not a positive integer in Hz.')))
    made.append(write('bad-sample-rate-metadata', TinyFeatures(3), card(
        'bad-sample-rate-metadata', sample_rate=22050,
        note='WRONG: the card says 22050 Hz, the ONNX metadata_props say sample_rate 16000.'),
        metadata={'sample_rate': 16000, 'window_samples': SAMPLES}))
    made.append(write('bad-window-mismatch', TinyFeatures(3, samples=8000), card(
        'bad-window-mismatch', window=16000,
        note='WRONG: the card says windowSamples 16000, the ONNX input is [batch, 8000].'), samples=8000))
    made.append(write('bad-label-count', TinyFeatures(3), card(
        'bad-label-count', labels=LABELS + ['glass_break'], output_width=3,
        note='WRONG: the card lists 4 labels, the ONNX output has 3 columns.')))
    made.append(write('bad-logits', TinyFeatures(3, softmax=False, bias=(-3.0, 1.0, 4.0)), card(
        'bad-logits', note='WRONG: the output is raw logits (negative values, rows do not sum to 1), not probabilities.')))

    # Prove each file loads in onnxruntime-node and behaves as its card says.
    rng = np.random.default_rng(0)
    for path in made:
        name = os.path.basename(path)[:-5]
        samples = 8000 if name == 'bad-window-mismatch' else SAMPLES
        x = (rng.uniform(-1, 1, size=(2, samples)) * 0.1).astype(np.float32)
        if name == 'bad-rank3-input':
            print(f'{name}: {os.path.getsize(path)} bytes (rank-3 input, not run here)')
            continue
        out, info = run_onnxruntime_node(path, x)
        print(f'{name}: {os.path.getsize(path)} bytes, output {info["dims"]}, row sums {out.sum(axis=1).round(3).tolist()}, '
              f'min {out.min():.3f}')


if __name__ == '__main__':
    main()
