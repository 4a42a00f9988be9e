"""ONNX export of a trained StreetNet, checked with onnx and with onnxruntime-node."""
import json
import os
import subprocess

import numpy as np
import onnx
import torch

from data import REPO_ROOT
from fft_graph import use_fft_stages
from model import HOP, ProbabilityModel, check_front_end_match, WINDOW_SAMPLES

OPSET = 17


def run_onnxruntime_node(onnx_path, x):
    """Run the file in onnxruntime-node (the runtime the nodes use); returns (output, info)."""
    script = os.path.join(REPO_ROOT, 'training', 'ort_run.cjs')
    proc = subprocess.run(['node', script, onnx_path, str(x.shape[0]), str(x.shape[1])],
                          input=np.ascontiguousarray(x, dtype='<f4').tobytes(), capture_output=True,
                          cwd=REPO_ROOT, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError('onnxruntime-node failed: ' + proc.stderr.decode(errors='replace'))
    info = json.loads(proc.stderr.decode().strip().splitlines()[-1])
    out = np.frombuffer(proc.stdout, dtype='<f4').reshape(info['dims'])
    return out, info


def export_torch_module(module, onnx_path, samples=WINDOW_SAMPLES, input_name='waveform', output_name='probabilities',
                        dynamic_batch=True, opset=OPSET):
    module.eval()
    dummy = torch.zeros(2, samples)
    torch.onnx.export(module, dummy, onnx_path, input_names=[input_name], output_names=[output_name],
                      dynamic_axes={input_name: {0: 'batch'}, output_name: {0: 'batch'}} if dynamic_batch else None,
                      opset_version=opset, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(onnx_path))


def set_metadata(onnx_path, props):
    """ONNX metadata_props (string key/values): lets a loader cross-check the card."""
    m = onnx.load(onnx_path)
    del m.metadata_props[:]
    for k, v in props.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = str(k), str(v)
    onnx.save(m, onnx_path)


def export_onnx(net, onnx_path, labels=None):
    net.eval()
    front_diff = check_front_end_match(net.front)
    net.front.use_fft = False  # conv1d DFT: plain ONNX Conv (torch 1.13 exports no STFT)
    model = ProbabilityModel(net)
    export_torch_module(model, onnx_path)
    # ... rewritten as two FFT stages, a fifth of the Conv's work (fft_graph.py); checked below.
    m = onnx.load(onnx_path)
    use_fft_stages(m, net.front.window.double().numpy(), HOP)
    onnx.save(m, onnx_path)
    props = {'sample_rate': 16000, 'window_samples': WINDOW_SAMPLES}
    if labels:
        props['labels'] = ','.join(labels)
    set_metadata(onnx_path, props)
    rng = np.random.default_rng(7)
    x = (rng.uniform(-1, 1, size=(5, WINDOW_SAMPLES)) * np.array([[0.5], [0.05], [1e-3], [0.9], [0.0]])).astype(np.float32)
    t = np.arange(WINDOW_SAMPLES) / 16000.0
    x[3] = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got, info = run_onnxruntime_node(onnx_path, x)
    net.front.use_fft = True
    max_diff = float(np.abs(got - expected).max())
    if max_diff > 1e-4:
        raise RuntimeError(f'onnxruntime-node output differs from PyTorch by {max_diff}')
    return {
        'fileBytes': os.path.getsize(onnx_path),
        'opset': OPSET,
        'maxAbsDiff': max_diff,
        'frontEndFftVsConvMaxDiff': front_diff,
        'ortInputNames': info['inputNames'],
        'ortOutputNames': info['outputNames'],
    }
