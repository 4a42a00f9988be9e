#!/usr/bin/python3
"""Export the last per-epoch checkpoint of a training run that was stopped early (validation,
ONNX export, onnxruntime-node check, card). The card says at which epoch it stopped.

    /usr/bin/python3 training/export_checkpoint.py [--name vigie-street-v1]
"""
import argparse
import os
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
from card import write_card  # noqa: E402
from fingerprint import training_inputs  # noqa: E402
from export import export_onnx  # noqa: E402
import train  # noqa: E402
from model import count_parameters  # noqa: E402
from validate import clip_level_report  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--name', default='vigie-street-v1')
    p.add_argument('--out-dir', default=os.path.join(data.REPO_ROOT, 'models'))
    a = p.parse_args()
    ckpt = torch.load(os.path.join(data.CACHE_DIR, a.name + '.checkpoint.pt'))
    args = train.recipe_args(types.SimpleNamespace(**ckpt['args']))
    torch.set_num_threads(args.threads)
    planned = args.epochs
    args.epochs = ckpt['epoch']
    rows = data.load_manifest(near_copies=args.near_copies == 'group')
    train_rows, val_rows = train.split(args, rows)
    clips = data.load_pool(rows)
    maker = train.window_maker(args, train_rows, clips)
    net = train.street_net(args)
    net.load_state_dict(ckpt['state'])
    net.eval()
    report = clip_level_report(net, val_rows, clips)
    onnx_path = os.path.join(a.out_dir, args.name + '.onnx')
    export_info = export_onnx(net, onnx_path, labels=data.LABELS)
    command = f'/usr/bin/python3 training/train.py (stopped after epoch {ckpt["epoch"]} of {planned}; exported by training/export_checkpoint.py)'
    write_card(os.path.join(a.out_dir, args.name + '.json'), args=args, n_params=count_parameters(net),
               export_info=export_info, report=report, train_rows=train_rows, val_rows=val_rows, rows=rows,
               maker=maker, train_seconds=None, command=command,
               inputs=training_inputs(os.path.join(data.pool_dir(), 'manifest.csv'), rows, clips, maker))
    print(f"exported epoch {ckpt['epoch']}: macro F1 {report['macroF1']}, {export_info['fileBytes']} bytes")


if __name__ == '__main__':
    main()
