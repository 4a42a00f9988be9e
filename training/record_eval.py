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
    args = p.parse_args()
    with open(args.card) as f:
        card = json.load(f)
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
    card.setdefault('results', {})['eventLevel'] = event
    with open(args.card, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
