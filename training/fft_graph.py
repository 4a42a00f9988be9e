#!/usr/bin/python3
"""The front end's STFT in the exported graph as two small matrix products (an FFT split in
two stages) instead of one Conv with the full DFT basis.

torch 1.13 exports no STFT, so model.LogMel is exported with use_fft=False: a Conv whose 514
kernels are the Hann-windowed DFT basis, 514 x 512 multiply-adds per frame, two thirds of an
inference's time. (ONNX's STFT operator, which onnxruntime 1.30 has, was measured slower than
that Conv.) This rewrites the exported graph so that the same power spectrum comes from one
Cooley-Tukey split, n_fft = N1 * N2 (512 = 16 * 32), n = N2*n1 + n2, k = k1 + N1*k2:

    rows     [B, N2, samples/N2]  the waveform as rows of N2 samples, sample n2 of each row
    stage 1  [B, N2*2*N1, T]      a grouped Conv (group n2, kernel over N1 rows, stride hop/N2
                                  rows = one frame): the window and the N1-point DFT over n1
    blocks   [B, N1, 2*N2, T]     its channels gathered into one block per k1
    stage 2  [B, N1, 2*K2, T]     each k1's block times its own matrix: twiddles and the
                                  N2-point DFT over n2, only k2 = 0 .. N2/2 (every k up to n_fft/2)
    power    [B, N1*K2, T]        re^2 + im^2, bins in (k1, k2) order

and the mel filter bank, its rows reordered to (k1, k2) (rows of bins above n_fft/2 are zero),
takes the power and is transposed to [B, T, mels], which the mel MatMul gave. About a fifth of the Conv's multiply-adds; the
result equals the Conv's up to float rounding, and export.py checks the exported model against
PyTorch as before.

    /usr/bin/python3 training/fft_graph.py models/vigie-street-v1.onnx   (rewrites it in place)
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

# The front end's buffer (model.LogMel.dft_kernels), named after its module path in the graph.
KERNELS = 'dft_kernels'
PREFIX = 'front_fft'


def _consumers(graph, name):
    return [n for n in graph.node if name in n.input]


def _split(n_fft):
    """N1 <= N2 with N1 * N2 = n_fft, as even as possible (16 x 32 for 512)."""
    n1 = int(np.sqrt(n_fft))
    while n_fft % n1:
        n1 -= 1
    return n1, n_fft // n1


def _input_samples(graph, name):
    inp = next((i for i in graph.input if i.name == name), None)
    dims = inp.type.tensor_type.shape.dim if inp is not None else []
    if len(dims) != 2 or not dims[1].dim_value:
        raise ValueError(f'the graph input {name} has no fixed sample count')
    return dims[1].dim_value


def stage_matrices(n_fft):
    """(N1, N2, K2, stage 1 [2*N1, N1], stage 2 [N1, 2*N2, 2*K2]) of the split of n_fft."""
    n1s, n2s = _split(n_fft)
    k2s = n2s // 2 + 1
    a = np.arange(n1s)
    stage1 = np.concatenate([np.cos(2 * np.pi * np.outer(a, a) / n1s), -np.sin(2 * np.pi * np.outer(a, a) / n1s)])
    n2 = np.arange(n2s)
    k2 = np.arange(k2s)
    stage2 = np.zeros((n1s, 2 * n2s, 2 * k2s))
    for k1 in range(n1s):
        # (Zr + i Zi) e^{-i th} = Zr cos + Zi sin + i (Zi cos - Zr sin), th = 2 pi n2 k / n_fft
        th = 2 * np.pi * np.outer(n2, k1 + n1s * k2) / n_fft
        c, s = np.cos(th), np.sin(th)
        stage2[k1, :n2s, :k2s], stage2[k1, n2s:, :k2s] = c, s
        stage2[k1, :n2s, k2s:], stage2[k1, n2s:, k2s:] = -s, c
    return n1s, n2s, k2s, stage1, stage2


def use_fft_stages(model, window, hop):
    """Rewrites `model` (onnx ModelProto exported with the Conv front end) in place; returns it.
    `window`: the front end's analysis window (length n_fft); `hop`: frame step in samples."""
    g = model.graph
    kernel_names = {i.name for i in g.initializer if i.name.split('.')[-1] == KERNELS}
    convs = [n for n in g.node if n.op_type == 'Conv' and len(n.input) > 1 and n.input[1] in kernel_names]
    if len(convs) != 1:
        raise ValueError(f'expected one Conv over the front end\'s {KERNELS}, found {len(convs)}')
    conv = convs[0]
    k = numpy_helper.to_array(next(i for i in g.initializer if i.name == conv.input[1]))
    n_fft = k.shape[2]
    bins = n_fft // 2 + 1
    window = np.asarray(window, dtype=np.float64)
    if k.shape[0] != 2 * bins or len(window) != n_fft:
        raise ValueError(f'DFT kernels {k.shape} do not match a window of {len(window)}')
    # The kernels must be this window times the DFT basis, or the rewrite would change the model.
    n = np.arange(n_fft)
    angle = 2 * np.pi * np.arange(bins)[:, None] * n[None, :] / n_fft
    basis = np.concatenate([np.cos(angle) * window, -np.sin(angle) * window])
    if np.abs(basis - k[:, 0, :]).max() > 1e-5:
        raise ValueError('the Conv kernels are not the windowed DFT basis of this window')
    strides = next((list(a.ints) for a in conv.attribute if a.name == 'strides'), [1])
    pads = next((list(a.ints) for a in conv.attribute if a.name == 'pads'), [0, 0])
    if strides != [hop] or any(pads):
        raise ValueError(f'the Conv has strides {strides} and pads {pads}, expected [{hop}] and none')

    # From the waveform to the mel MatMul: Unsqueeze, Conv, Slice x2, Mul x2, Add, Transpose.
    unsq = next(nd for nd in g.node if conv.input[0] in nd.output)
    slices = _consumers(g, conv.output[0])
    muls = [m for s in slices for m in _consumers(g, s.output[0])]
    adds = {a.name: a for m in muls for a in _consumers(g, m.output[0])}
    if unsq.op_type != 'Unsqueeze' or [s.op_type for s in slices] != ['Slice', 'Slice'] or len(muls) != 2 or len(adds) != 1:
        raise ValueError('the front end does not have the expected Conv, Slice, Mul, Add shape')
    add = next(iter(adds.values()))
    after_add = _consumers(g, add.output[0])
    if len(after_add) != 1 or after_add[0].op_type != 'Transpose':
        raise ValueError('the power spectrum does not go into one Transpose')
    transpose = after_add[0]
    mel_nodes = _consumers(g, transpose.output[0])
    if len(mel_nodes) != 1 or mel_nodes[0].op_type != 'MatMul':
        raise ValueError('the power spectrum does not go into the mel MatMul')
    mel_node = mel_nodes[0]
    mel_name = mel_node.input[1]
    mel = numpy_helper.to_array(next(i for i in g.initializer if i.name == mel_name))
    if mel.shape[0] != bins:
        raise ValueError(f'mel filter bank {mel.shape} does not take {bins} bins')
    wave = unsq.input[0]
    removed = [unsq, conv, *slices, *muls, add, transpose]
    removed_names = {nd.name for nd in removed}
    removed_inputs = {i for r in removed for i in r.input}
    used_elsewhere = {i for nd in g.node if nd.name not in removed_names for i in nd.input}
    # The constants only those nodes used (slice bounds, the unsqueeze axis).
    consts = {nd.name for nd in g.node if nd.op_type == 'Constant' and any(o in removed_inputs and o not in used_elsewhere for o in nd.output)}

    n1s, n2s, k2s, stage1, stage2 = stage_matrices(n_fft)
    mel_k = np.zeros((n1s * k2s, mel.shape[1]), dtype=np.float32)
    for k1 in range(n1s):
        for k2 in range(k2s):
            if k1 + n1s * k2 < bins:
                mel_k[k1 * k2s + k2] = mel[k1 + n1s * k2]
    samples = _input_samples(g, wave)
    if samples % n2s or hop % n2s:
        raise ValueError(f'{samples} samples and a hop of {hop} must be multiples of {n2s}')
    rows = samples // n2s
    row_hop = hop // n2s
    frames = (samples - n_fft) // hop + 1
    # Stage 1 with the window, as a grouped Conv over rows of N2 samples: group n2 reads sample
    # n2 of each row; its kernel runs over n1 (N1 rows), stride hop/N2 rows = one frame.
    # Output channel of group n2: (part, k1), part 0 = cos (re), 1 = -sin (im).
    w = window.reshape(n1s, n2s)  # w[n1, n2] = window[N2*n1 + n2]
    conv1 = np.zeros((n2s, 2 * n1s, n1s))
    for part in range(2):
        conv1[:, part * n1s:(part + 1) * n1s, :] = stage1[part * n1s:(part + 1) * n1s][None, :, :] * w.T[:, None, :]
    conv1 = conv1.reshape(n2s * 2 * n1s, 1, n1s)
    # Channels (n2, part, k1) -> (k1, part, n2), for stage 2's blocks per k1.
    order = np.array([n2 * 2 * n1s + part * n1s + k1 for k1 in range(n1s) for part in range(2) for n2 in range(n2s)])
    stage2_t = np.transpose(stage2, (0, 2, 1))  # [N1, 2*K2, 2*N2]

    p = PREFIX
    shape = lambda name, dims: numpy_helper.from_array(np.array(dims, dtype=np.int64), f'{p}_{name}')  # noqa: E731
    # In the Reshape shapes, 0 keeps the batch dimension.
    new_inits = [
        shape('shape_rows', [0, rows, n2s]),
        numpy_helper.from_array(conv1.astype(np.float32), f'{p}_stage1'),
        numpy_helper.from_array(order.astype(np.int64), f'{p}_by_k1'),
        shape('shape_blocks', [0, n1s, 2 * n2s, frames]),
        numpy_helper.from_array(stage2_t.astype(np.float32), f'{p}_stage2'),
        shape('shape_parts', [0, n1s, 2, k2s * frames]),
        numpy_helper.from_array(np.ones((1, 2), dtype=np.float32), f'{p}_sum_parts'),
        shape('shape_bins', [0, n1s * k2s, frames]),
        numpy_helper.from_array(mel_k.T.copy(), f'{p}_mel_fb'),
    ]
    mel_out = mel_node.output[0]
    new_nodes = [
        # [B, N2, rows]: sample n2 of every row of N2 samples
        helper.make_node('Reshape', [wave, f'{p}_shape_rows'], [f'{p}_rows'], name=f'{p}/Rows'),
        helper.make_node('Transpose', [f'{p}_rows'], [f'{p}_columns'], name=f'{p}/Columns', perm=[0, 2, 1]),
        # [B, N2*2*N1, T]: stage 1 (window and N1-point DFT over n1), channels (n2, part, k1)
        helper.make_node('Conv', [f'{p}_columns', f'{p}_stage1'], [f'{p}_stage1_out'], name=f'{p}/Stage1',
                         group=n2s, kernel_shape=[n1s], strides=[row_hop], pads=[0, 0]),
        # [B, N1, 2*N2, T]: channels (k1, part, n2)
        helper.make_node('Gather', [f'{p}_stage1_out', f'{p}_by_k1'], [f'{p}_gathered'], name=f'{p}/ByK1', axis=1),
        helper.make_node('Reshape', [f'{p}_gathered', f'{p}_shape_blocks'], [f'{p}_blocks'], name=f'{p}/Blocks'),
        # [B, N1, 2*K2, T]: stage 2 (twiddle and N2-point DFT over n2), each k1's own matrix
        helper.make_node('MatMul', [f'{p}_stage2', f'{p}_blocks'], [f'{p}_spectrum'], name=f'{p}/Stage2'),
        # [B, N1*K2, T]: power, re^2 + im^2, bins in (k1, k2) order
        helper.make_node('Mul', [f'{p}_spectrum', f'{p}_spectrum'], [f'{p}_squares'], name=f'{p}/Square'),
        helper.make_node('Reshape', [f'{p}_squares', f'{p}_shape_parts'], [f'{p}_parts'], name=f'{p}/Parts'),
        helper.make_node('MatMul', [f'{p}_sum_parts', f'{p}_parts'], [f'{p}_power'], name=f'{p}/Power'),
        helper.make_node('Reshape', [f'{p}_power', f'{p}_shape_bins'], [f'{p}_bins'], name=f'{p}/Bins'),
        # [B, mels, T] -> [B, T, mels]: what the mel MatMul gave
        helper.make_node('MatMul', [f'{p}_mel_fb', f'{p}_bins'], [f'{p}_mel_t'], name=f'{p}/Mel'),
        helper.make_node('Transpose', [f'{p}_mel_t'], [mel_out], name=f'{p}/MelByFrame', perm=[0, 2, 1]),
    ]
    removed.append(mel_node)
    removed_names.add(mel_node.name)

    # The new nodes go where the Unsqueeze was, so the node list stays in topological order.
    nodes = list(g.node)
    at = nodes.index(unsq)
    keep = [(i, nd) for i, nd in enumerate(nodes) if nd.name not in removed_names and nd.name not in consts]
    ordered = [nd for i, nd in keep if i < at] + new_nodes + [nd for i, nd in keep if i >= at]
    del g.node[:]
    g.node.extend(ordered)
    # Initializers no node reads any more: the DFT kernels, the mel bank in its old order.
    read = {i for nd in g.node for i in nd.input}
    inits = [i for i in list(g.initializer) + new_inits if i.name in read]
    del g.initializer[:]
    g.initializer.extend(inits)
    onnx.checker.check_model(model)
    return model


def rewrite_file(path, window, hop):
    m = onnx.load(path)
    use_fft_stages(m, window, hop)
    onnx.save(m, path)


if __name__ == '__main__':
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch  # noqa: E402
    from model import HOP, N_FFT  # noqa: E402
    for f in sys.argv[1:]:
        rewrite_file(f, torch.hann_window(N_FFT, periodic=True, dtype=torch.float64).numpy(), HOP)
        print(f'{f}: front end in two FFT stages')
