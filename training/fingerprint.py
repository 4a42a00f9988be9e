"""What a training run was made from, as short digests, so that a run that does not give the
shipped weights can be traced to the input that changed.

A fixed seed makes `npm run train` give the same file twice on one machine; a file trained
elsewhere, or after the caches were rebuilt, may differ. The card records (`training.inputs`):
- `manifest`: the clip pool's manifest.csv, as bytes;
- `clips`: every decoded clip (float32, 16 kHz), in manifest order (training/.cache/pool.npz);
- `speech`: the espeak-ng utterances (training/.cache/espeak_*.npz);
- `mixExtents`: where the glass project's mixes hold their event (computed from the clips);
- `environment`: Python, PyTorch, NumPy and espeak-ng versions, and the CPU's vector extensions
  (PyTorch's convolutions pick their kernels by them, so float rounding, and after thousands
  of steps the weights, differ between CPUs), and any cap set on them (ONEDNN_MAX_CPU_ISA).

    /usr/bin/python3 training/fingerprint.py [--card models/vigie-street-v1.json]

prints this machine's inputs against the card's, one line each, and exits 1 if any differs
(a card without `training.inputs` predates them: nothing to compare).
"""
import argparse
import hashlib
import json
import os
import platform
import sys

import numpy as np

# Vector extensions that change which convolution kernels run (oneDNN dispatches on them).
CPU_FLAGS = ('avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'amx_tile')


def digest_arrays(arrays):
    """sha256 (first 16 hex digits) of float32 arrays in order, each with its length, so that
    moving a sample from one clip to the next changes it too."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a, dtype='<f4')
        h.update(len(a).to_bytes(8, 'little'))
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def digest_bytes(data):
    return hashlib.sha256(data).hexdigest()[:16]


def digest_extents(extents):
    text = ';'.join(f'{k}:{int(on)}-{int(off)}' for k, (on, off) in sorted(extents.items()))
    return digest_bytes(text.encode())


def cpu_flags(cpuinfo='/proc/cpuinfo'):
    """The CPU_FLAGS this CPU has, space-separated ('unknown' where /proc/cpuinfo is missing)."""
    try:
        with open(cpuinfo) as f:
            line = next((l for l in f if l.startswith('flags')), '')
    except OSError:
        return 'unknown'
    have = set(line.split(':', 1)[-1].split())
    return ' '.join(flag for flag in CPU_FLAGS if flag in have)


def environment():
    import torch

    from synth import espeak_version
    return {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'numpy': np.__version__,
        'espeakNg': espeak_version(),
        'machine': platform.machine(),
        'cpuFlags': cpu_flags(),
        # a cap on oneDNN's instruction set changes the kernels as a CPU without them would
        'onednnMaxCpuIsa': os.environ.get('ONEDNN_MAX_CPU_ISA') or os.environ.get('DNNL_MAX_CPU_ISA') or 'not set',
    }


def training_inputs(manifest_path, rows, clips, maker):
    """The card's `training.inputs`: digests of what the run read (`rows` in manifest order,
    their decoded `clips`, the WindowMaker's speech and mix extents), and where it ran."""
    with open(manifest_path, 'rb') as f:
        manifest = f.read()
    return {
        'manifest': digest_bytes(manifest),
        'clips': digest_arrays(clips[r['path']] for r in rows),
        'speech': digest_arrays(maker.speech),
        'mixExtents': digest_extents(maker.extents),
        'environment': environment(),
    }


def compare(recorded, now):
    """[(name, recorded, now, same)] for every digest and environment entry of either side."""
    out = []
    for key in ('manifest', 'clips', 'speech', 'mixExtents'):
        out.append((key, recorded.get(key), now.get(key), recorded.get(key) == now.get(key)))
    env_then, env_now = recorded.get('environment', {}), now.get('environment', {})
    for key in sorted(set(env_then) | set(env_now)):
        out.append((f'environment.{key}', env_then.get(key), env_now.get(key), env_then.get(key) == env_now.get(key)))
    return out


def run_options(card):
    """The options of the run that wrote `card` (seed, split, beds...), read back from the
    command it recorded (an export of a checkpoint adds a remark in brackets)."""
    import shlex

    import train
    command = shlex.split(card.get('training', {}).get('command', '').split(' (')[0])
    return train.recipe_args(train.parse_args([a for a in command if not a.endswith(('python3', 'train.py'))]))


def main(argv=None):
    import data
    import train
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--card', default=os.path.join(data.REPO_ROOT, 'models', 'vigie-street-v1.json'))
    args = p.parse_args(argv)
    with open(args.card) as f:
        card = json.load(f)
    training = card.get('training', {})
    run = run_options(card)
    rows = data.load_manifest(near_copies=run.near_copies == 'group')
    clips = data.load_pool(rows)
    train_rows, _ = train.split(run, rows)
    now = training_inputs(os.path.join(data.pool_dir(), 'manifest.csv'), rows, clips, train.window_maker(run, train_rows, clips))
    recorded = training.get('inputs')
    if not recorded:
        print(f'{os.path.basename(args.card)} records no training inputs (trained before they were recorded); this machine:')
        print(json.dumps(now, indent=2))
        return 0
    differs = 0
    for name, then, here, same in compare(recorded, now):
        differs += not same
        print(f"{'same   ' if same else 'DIFFERS'} {name}: card {then}, here {here}")
    return 1 if differs else 0


if __name__ == '__main__':
    sys.exit(main())
