#!/usr/bin/python3
"""Train Vigie's default street-sound classifier and export it as ONNX plus its model card.

    /usr/bin/python3 training/train.py            # the default model (npm run train)
    /usr/bin/python3 training/train.py --quick    # a few minutes, for plumbing checks

Deterministic for a seed: fixed numpy/torch seeds, a fixed number of torch threads, and a
fixed number of optimisation steps (no early stopping, no selection on validation data).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
from augment import BED_LABELS, DEFAULT_EVENT_POS, DEFAULT_NOISE_FLOOR_DB, DEFAULT_PEAK_DB, DEFAULT_SYNTHETIC_BED_SHARE, SYNTH_SHARE, WindowMaker  # noqa: E402
from card import write_card  # noqa: E402
from export import export_onnx  # noqa: E402
from fingerprint import training_inputs  # noqa: E402
from model import DEFAULT_WIDTHS, StreetNet, count_parameters  # noqa: E402
from validate import clip_level_report  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--name', default='vigie-street-v1')
    p.add_argument('--version', default='1.3.0', help='version written to the card (the shipped model is 1.2.1, trained with --near-copies ignore)')
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--split-seed', type=int, help='seed of the train/validation split (default: --seed; make_eval.py splits with 1234)')
    p.add_argument('--epochs', type=int, default=40)
    p.add_argument('--steps-per-epoch', type=int, default=100)
    p.add_argument('--batch', type=int, default=48)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--weight-decay', type=float, default=1e-3, help='AdamW weight decay')
    p.add_argument('--dropout', type=float, default=0.3, help='dropout before the linear head')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--label-weights', default='{}', help='JSON {label: sampling weight} overriding augment.LABEL_WEIGHTS')
    p.add_argument('--hard-negative-weight', type=float, default=1.0, help='loss weight of fireworks/other windows')
    p.add_argument('--widths', default=','.join(map(str, DEFAULT_WIDTHS)), help='channels of the conv blocks')
    p.add_argument('--pcen', action='store_true', help='add a PCEN plane beside the log-mel (not in the shipped recipe)')
    p.add_argument('--spec-augment', action='store_true', help='mask mel bands and short time spans of training windows (SpecAugment; not in the shipped recipe)')
    p.add_argument('--event-pos', default=','.join(map(str, DEFAULT_EVENT_POS)), help="range of an alert's loud frame in its 1 s window (fractions)")
    p.add_argument('--peak-db', default='{:g},{:g}'.format(*DEFAULT_PEAK_DB), help='range of a window peak level, dBFS')
    p.add_argument('--noise-floor-db', default='{:g},{:g}'.format(*DEFAULT_NOISE_FLOOR_DB), help='range of the microphone noise floor, dBFS')
    p.add_argument('--bed-min-s', type=float, default=0.0, help='shortest background recording used as a bed, s (0: any; 1 s was tried, see docs/model.md)')
    p.add_argument('--synthetic-bed-share', type=float, default=DEFAULT_SYNTHETIC_BED_SHARE, help='share of synthetic beds under foreground sounds (the rest are training recordings)')
    p.add_argument('--bed-labels', default=','.join(BED_LABELS), help='labels of the training recordings used as beds')
    p.add_argument('--near-copies', choices=('group', 'ignore'), default='group',
                   help='group: near-copies stay on one side of the split and background clips copying an alert clip are left out (data.load_manifest); ignore: the split of models up to 1.2.1')
    p.add_argument('--selection-share', type=float, default=0.0,
                   help='share of the training recordings (by group, per label) kept out of training for choosing among runs (make_eval.py --selection-share builds their set); 0: none')
    p.add_argument('--train-share', type=float, default=1.0, help='share of the training recordings of each label kept (learning curves; validation unchanged)')
    p.add_argument('--quick', action='store_true', help='short run (plumbing, first integration model)')
    p.add_argument('--out-dir', default=os.path.join(data.REPO_ROOT, 'models'))
    args = p.parse_args(argv)
    # Refused here, before minutes of data loading, not when the windows are first made.
    if not 0.0 <= args.dropout < 1.0:
        p.error(f'--dropout: expected a probability in [0, 1), got {args.dropout:g}')
    if args.weight_decay < 0:
        p.error(f'--weight-decay: expected 0 or more, got {args.weight_decay:g}')
    if not 0.0 <= args.synthetic_bed_share <= 1.0:
        p.error(f'--synthetic-bed-share: expected a share between 0 and 1, got {args.synthetic_bed_share:g}')
    if not 0.0 <= args.selection_share < 0.5:
        p.error(f'--selection-share: expected a share from 0 to below 0.5, got {args.selection_share:g}')
    if not 0.0 < args.train_share <= 1.0:
        p.error(f'--train-share: expected a share above 0 and at most 1, got {args.train_share:g}')
    bed_labels(args.bed_labels)
    return args


def floats(text, n):
    vals = [float(v) for v in str(text).split(',')]
    if len(vals) != n:
        raise SystemExit(f'expected {n} comma-separated numbers, got {text!r}')
    return vals


# What a checkpoint saved before an option existed was trained with, where that differs from
# the option's default: twice the loss weight on hard negatives before --hard-negative-weight.
LEGACY_DEFAULTS = {'hard_negative_weight': 2.0, 'near_copies': 'ignore'}


def recipe_args(args):
    """`args` with the recipe's options filled in: a checkpoint saved before an option existed
    was trained with its value of the time (LEGACY_DEFAULTS), else with today's default."""
    defaults = {**vars(parse_args([])), **LEGACY_DEFAULTS}
    return argparse.Namespace(**{**defaults, **vars(args)})


def split(args, rows):
    """(training rows, validation rows) of the run; --train-share thins the training side only."""
    split_seed = args.seed if args.split_seed is None else args.split_seed
    train, val = data.split_rows(rows, split_seed)
    train, _ = data.selection_split(train, split_seed, args.selection_share)
    return data.thin_rows(train, args.train_share, args.seed), val


def window_maker(args, train_rows, clips):
    """The run's augmentation, from its options."""
    return WindowMaker(train_rows, clips, args.seed, label_weights=json.loads(args.label_weights),
                       hard_negative_weight=args.hard_negative_weight, event_pos=floats(args.event_pos, 2),
                       peak_db=floats(args.peak_db, 2), noise_floor_db=floats(args.noise_floor_db, 2),
                       bed_min_samples=int(args.bed_min_s * 16000), synthetic_bed_share=args.synthetic_bed_share,
                       bed_labels=bed_labels(args.bed_labels))


def bed_labels(text):
    """The --bed-labels list; refuses an empty list and labels that no background recording carries."""
    # "street" is synthetic only: no recording carries it.
    choices = [label for label in data.BACKGROUND_LABELS if SYNTH_SHARE.get(label, 0.0) < 1.0]
    labels = [v.strip() for v in text.split(',') if v.strip()]
    if not labels:
        raise SystemExit(f'--bed-labels: expected one or more background labels among {", ".join(choices)}, got none')
    unknown = [v for v in labels if v not in choices]
    if unknown:
        raise SystemExit(f'--bed-labels: expected background labels among {", ".join(choices)}, got {", ".join(unknown)}')
    return labels


def street_net(args):
    """The run's network, from its options."""
    return StreetNet(len(data.LABELS), widths=tuple(int(v) for v in floats(args.widths, 4)), dropout=args.dropout, spec_augment=args.spec_augment, pcen=args.pcen)


def log(msg):
    print(time.strftime('%H:%M:%S'), msg, flush=True)


def fit(net, maker, args, checkpoint=True):
    """The optimisation loop: a fixed number of steps on batches from `maker` (seeded), so
    the same seed, data and thread count give the same weights."""
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    total_steps = args.epochs * args.steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps, pct_start=0.15)
    for epoch in range(args.epochs):
        net.train()
        losses, correct, seen = [], 0, 0
        t0 = time.time()
        for _ in range(args.steps_per_epoch):
            xs, ys, ws = maker.batch(args.batch)
            x, y, w = torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(ws)
            logits = net(x)
            loss = (F.cross_entropy(logits, y, reduction='none', label_smoothing=0.05) * w).sum() / w.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss))
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
        if checkpoint:
            # checkpoint each epoch: a run stopped early can still be exported (export_checkpoint.py)
            torch.save({'state': net.state_dict(), 'epoch': epoch + 1, 'args': vars(args)},
                       os.path.join(data.CACHE_DIR, args.name + '.checkpoint.pt'))
        log(f'epoch {epoch + 1}/{args.epochs} loss {np.mean(losses):.3f} train-acc {correct / seen:.3f} '
            f'({time.time() - t0:.0f} s)')
    net.eval()
    return net


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if args.quick:
        args.epochs, args.steps_per_epoch, args.batch = 4, 40, 32
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    started = time.time()

    rows = data.load_manifest(near_copies=args.near_copies == 'group')
    train_rows, val_rows = split(args, rows)
    log(f'clips: {len(rows)} train {len(train_rows)} val {len(val_rows)} from {data.pool_dir()}')
    clips = data.load_pool(rows)
    maker = window_maker(args, train_rows, clips)
    log(f'espeak clips: {len(maker.espeak)}; labels {len(data.LABELS)}')

    net = street_net(args)
    n_params = count_parameters(net)
    log(f'parameters: {n_params}')
    fit(net, maker, args)

    net.eval()
    train_seconds = time.time() - started
    report = clip_level_report(net, val_rows, clips)
    log(f"validation clip-level macro F1 {report['macroF1']:.3f}; alert recall {report['alert']['recall']:.3f}; "
        f"background false-alert rate {report['alert']['backgroundFalseAlertRate']:.3f}")

    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, args.name + '.onnx')
    export_info = export_onnx(net, onnx_path, labels=data.LABELS)
    log(f"exported {onnx_path} ({export_info['fileBytes']} bytes), onnxruntime max diff {export_info['maxAbsDiff']:.2e}")
    card_path = os.path.join(args.out_dir, args.name + '.json')
    write_card(card_path, args=args, n_params=n_params, export_info=export_info, report=report,
               train_rows=train_rows, val_rows=val_rows, rows=rows, maker=maker,
               train_seconds=train_seconds, inputs=training_inputs(os.path.join(data.pool_dir(), 'manifest.csv'), rows, clips, maker),
               command=' '.join(['/usr/bin/python3', 'training/train.py'] + (argv if argv is not None else sys.argv[1:])))
    torch.save(net.state_dict(), os.path.join(data.CACHE_DIR, args.name + '.pt'))
    log(f'card {card_path}; total {time.time() - started:.0f} s')


if __name__ == '__main__':
    main()
