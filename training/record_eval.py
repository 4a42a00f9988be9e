#!/usr/bin/python3
"""Stores the figures printed by `vigie eval detect` into a model card (results.eventLevel).

    node dist/bin/vigie.js eval detect --manifest training/.cache/eval/manifest.csv > all.json
    node dist/bin/vigie.js eval detect --manifest training/.cache/eval/manifest-real.csv > real.json
    /usr/bin/python3 training/record_eval.py --card models/vigie-street-v1.json --all all.json --real real.json
"""
import argparse
import json


def load(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text[text.index('{'):])  # tolerate log lines before the JSON


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--card', required=True)
    p.add_argument('--all', required=True, help='output of vigie eval detect on manifest.csv')
    p.add_argument('--real', help='output of vigie eval detect on manifest-real.csv')
    p.add_argument('--command', default='node dist/bin/vigie.js eval detect --manifest training/.cache/eval/manifest.csv')
    p.add_argument('--options', default='the detector defaults of vigie eval detect')
    p.add_argument('--heldout', help='output of vigie eval detect on the held-out set (training/make_heldout.py)')
    p.add_argument('--recommend-threshold', type=float,
                   help='store this on-threshold for every alert label in the card (`thresholds`); the detector '
                        'uses it unless a node sets its own per-class threshold')
    p.add_argument('--threshold-note', default='', help='how the recommended threshold was chosen')
    args = p.parse_args()
    with open(args.card) as f:
        card = json.load(f)
    if args.recommend_threshold is not None:
        if not 0 < args.recommend_threshold <= 1:
            raise SystemExit(f'--recommend-threshold: expected a probability in (0, 1], got {args.recommend_threshold}')
        card['thresholds'] = {label: args.recommend_threshold for label in card['alertLabels']}
        card['thresholdsNote'] = args.threshold_note
    event = {
        'tool': 'vigie eval detect (lib/detect: the same detection path as the acoustic-classifier node, in onnxruntime-node)',
        'command': args.command,
        'options': args.options,
        'set': 'training/make_eval.py: each validation-split event inserted into 10 s of street background at -6, 0 and '
               '+6 dB event-to-background ratio (event loudest 100 ms RMS vs background RMS), plus every validation '
               'background clip and 30 street mixtures with non-alert sounds (label none)',
        'allAlertClasses': load(args.all),
    }
    if args.real:
        event['realRecordingClasses'] = dict(load(args.real), note='gunshot, glass_break, scream events only (plus all background files): the issue\'s target set')
    if args.heldout:
        event['heldOut'] = dict(load(args.heldout), set=(
            'training/make_heldout.py: game and education sound effects from Debian packages the training pool never '
            'used (events at -6, 0 and +6 dB in held-out backgrounds, every held-out non-alert clip, 30 street mixtures '
            'with no alert); labels from file names'))
    card.setdefault('results', {})['eventLevel'] = event
    with open(args.card, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
