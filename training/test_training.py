#!/usr/bin/python3
"""Tests of the training pipeline (stdlib unittest, Debian packages only):

    /usr/bin/python3 -m unittest discover -s training -p 'test_*.py' -v

Tests that need ../shared/data (or VIGIE_DATA_DIR) skip when it is absent, except in CI
(CI=true), which has the data: there its absence is a failure.
"""
import functools
import json
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
import evaluate  # noqa: E402
import make_eval  # noqa: E402
import model as M  # noqa: E402
import synth  # noqa: E402

HAVE_DATA = os.path.exists(os.path.join(data.pool_dir(), 'manifest.csv'))
IN_CI = os.environ.get('CI', '').strip().lower() not in ('', '0', 'false', 'no')
NO_DATA = 'shared data absent (%s; set VIGIE_DATA_DIR)' % os.path.join(data.pool_dir(), 'manifest.csv')


def needs_data(obj):
    """A test (or every test of a class) that reads the shared data: skipped without it,
    except in CI, where the data is expected and its absence fails the test."""
    if HAVE_DATA:
        return obj
    if not IN_CI:
        return unittest.skip(NO_DATA)(obj)
    if isinstance(obj, type):
        for name in [n for n in vars(obj) if n.startswith('test')]:
            setattr(obj, name, needs_data(getattr(obj, name)))
        return obj

    @functools.wraps(obj)
    def fails_in_ci(self, *args, **kwargs):
        self.fail('CI=true but ' + NO_DATA)
    return fails_in_ci


def needs_espeak(obj):
    """A test that renders speech: skipped without espeak-ng, except in CI, which installs it."""
    import shutil
    if shutil.which('espeak-ng') or IN_CI:
        return obj
    return unittest.skip('espeak-ng not installed (sudo apt-get install espeak-ng)')(obj)


MODELS = os.path.join(data.REPO_ROOT, 'models')
FIXTURES = os.path.join(data.REPO_ROOT, 'test', 'fixtures', 'models')


@functools.lru_cache(maxsize=1)
def training_split():
    """(training rows, decoded clips) of the shipped split (seed 1234), read once for all tests."""
    rows = data.load_manifest()
    train_rows, _ = data.split_rows(rows, 1234)
    return train_rows, data.load_pool(rows)


def read_json(path):
    with open(path) as f:
        return json.load(f)


class FrontEnd(unittest.TestCase):
    def test_fft_and_conv_front_ends_agree(self):
        front = M.LogMel()
        self.assertLess(M.check_front_end_match(front), 1e-3)

    def test_front_end_shape(self):
        out = M.LogMel()(torch.zeros(2, M.WINDOW_SAMPLES))
        self.assertEqual(tuple(out.shape), (2, 1, M.FRAMES, M.N_MELS))

    def test_mel_filterbank_bands_have_unit_area_and_rising_centres(self):
        fb = M.mel_filterbank().numpy()
        self.assertEqual(fb.shape, (M.N_FFT // 2 + 1, M.N_MELS))
        self.assertTrue((fb >= 0).all())
        np.testing.assert_allclose(fb.sum(axis=0), 1.0, rtol=1e-5)
        centres = np.argmax(fb, axis=0)
        self.assertTrue((np.diff(centres) >= 0).all())

    def test_tone_lands_in_the_right_mel_band(self):
        t = np.arange(M.WINDOW_SAMPLES) / M.SAMPLE_RATE_HZ
        for f_hz in (300.0, 1000.0, 4000.0):
            wave = torch.from_numpy((0.5 * np.sin(2 * np.pi * f_hz * t)).astype(np.float32))[None]
            band = int(M.LogMel()(wave)[0, 0].mean(dim=0).argmax())
            centre_hz = M.mel_to_hz(np.linspace(M.hz_to_mel(M.FMIN_HZ), M.hz_to_mel(M.FMAX_HZ), M.N_MELS + 2)[band + 1])
            self.assertLess(abs(centre_hz - f_hz) / f_hz, 0.15, f'{f_hz} Hz landed in band {band} ({centre_hz:.0f} Hz)')

    def test_model_is_within_the_size_contract(self):
        net = M.StreetNet(len(data.LABELS))
        self.assertLessEqual(M.count_parameters(net), 1_000_000)


class FftStages(unittest.TestCase):
    """fft_graph.py: the exported front end's Conv DFT rewritten as two FFT stages."""

    @staticmethod
    def export_front(path, window=None):
        import onnx
        from fft_graph import use_fft_stages
        front = M.LogMel()
        front.use_fft = False
        torch.onnx.export(front, torch.zeros(2, M.WINDOW_SAMPLES), path, input_names=['waveform'], output_names=['logmel'],
                          dynamic_axes={'waveform': {0: 'batch'}, 'logmel': {0: 'batch'}}, opset_version=17)
        m = onnx.load(path)
        use_fft_stages(m, front.window.double().numpy() if window is None else window, M.HOP)
        onnx.save(m, path)
        return front, m

    def test_the_rewritten_graph_gives_the_conv_front_end_and_has_no_conv_dft(self):
        import tempfile
        from export import run_onnxruntime_node
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'front.onnx')
            front, m = self.export_front(path)
            self.assertFalse([i.name for i in m.graph.initializer if 'dft_kernels' in i.name])
            self.assertIn('front_fft/Stage2', {n.name for n in m.graph.node})
            rng = np.random.default_rng(5)
            t = np.arange(M.WINDOW_SAMPLES) / M.SAMPLE_RATE_HZ
            x = (rng.uniform(-1, 1, size=(4, M.WINDOW_SAMPLES)) * np.array([[0.5], [1e-3], [0.0], [0.0]])).astype(np.float32)
            x[2] = 0.5 * np.sin(2 * np.pi * 1000 * t)
            x[3] = 0.2 * np.sin(2 * np.pi * 7000 * t) * (t > 0.6)  # near Nyquist, and a step
            with torch.no_grad():
                expected = front(torch.from_numpy(x)).numpy()
            got, _ = run_onnxruntime_node(path, x)
            # log-mel: float rounding only (the Conv's own export differs from PyTorch as much)
            self.assertLess(float(np.abs(got - expected).max()), 1e-3)

    def test_kernels_of_another_window_are_refused(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(ValueError, 'not the windowed DFT basis'):
                self.export_front(os.path.join(d, 'front.onnx'), window=np.ones(M.N_FFT))

    def test_the_shipped_model_has_the_fft_stages(self):
        import onnx
        m = onnx.load(os.path.join(MODELS, 'vigie-street-v1.onnx'))
        names = {n.name for n in m.graph.node}
        self.assertIn('front_fft/Stage1', names)
        self.assertFalse([i.name for i in m.graph.initializer if 'dft_kernels' in i.name])


class SpecAugment(unittest.TestCase):
    def test_masks_bands_and_spans_in_training_only(self):
        torch.manual_seed(0)
        logmel = torch.randn(8, 1, M.FRAMES, M.N_MELS)
        out = M.spec_augment(logmel)
        self.assertEqual(out.shape, logmel.shape)
        changed = out != logmel
        # Whole bands or whole spans are masked: a changed cell's band or frame is changed throughout.
        band_masked = changed.all(dim=2)   # [B, 1, mels]
        span_masked = changed.all(dim=3)   # [B, 1, frames]
        self.assertTrue(torch.equal(changed, band_masked.unsqueeze(2) | span_masked.unsqueeze(3)))
        a = M.SPEC_AUGMENT
        self.assertTrue(band_masked.sum(dim=2).max() <= a['freq_masks'] * a['freq_width'] and span_masked.sum(dim=2).max() <= a['time_masks'] * a['time_width'])
        self.assertTrue(changed.any())
        net = M.StreetNet(len(data.LABELS), spec_augment=True).eval()
        wave = torch.randn(2, M.WINDOW_SAMPLES) * 0.1
        with torch.no_grad():
            self.assertTrue(torch.equal(net(wave), net(wave)), 'no masking in eval mode (the exported graph)')


class Pcen(unittest.TestCase):
    def test_flattens_a_steady_bed_lifts_an_onset_and_hardly_depends_on_level(self):
        g = torch.Generator().manual_seed(0)
        wave = torch.randn(1, M.WINDOW_SAMPLES, generator=g) * 0.01
        wave[0, 8000:8100] += 0.5  # a click at 0.5 s: frame 8000 // HOP - 2 .. 8000 // HOP
        front = M.LogMel()
        pcen = M.PCEN()
        with torch.no_grad():
            p = pcen(front.mel_power(wave))[0, 0]
            louder = pcen(front.mel_power(wave * 100))[0, 0]
        bed = p[10:40]
        self.assertLess(float(bed.mean(dim=1).std()), 0.05, "a steady bed is flat over time")
        click_frame = int(p.max(dim=1).values.argmax())
        self.assertTrue(8000 // M.HOP - 3 <= click_frame <= 8000 // M.HOP, click_frame)
        self.assertGreater(float(p[click_frame].max()), 10 * float(bed.mean()))
        self.assertLess(float((louder - p).abs().max()), 1.0, '40 dB louder changes little')


class Grouping(unittest.TestCase):
    def row(self, base, source='ringglass'):
        return {'source': source, 'origin_path': f'extract/glassbreak/data/mixed/{base}.wav'}

    def test_glass_mixes_share_their_parent_group(self):
        parent = data.group_key(self.row('overdriven_glass_break_1_000_000'))
        mix_a = data.group_key(self.row('overdriven_glass_break_1_000_a003_30_60_000'))
        mix_b = data.group_key(self.row('overdriven_glass_break_1_000_a010_90_120_000'))
        other = data.group_key(self.row('overdriven_glass_break_2_000_a005_30_60_000'))
        self.assertEqual(parent, mix_a)
        self.assertEqual(parent, mix_b)
        self.assertNotEqual(parent, other)

    def test_other_sources_group_by_origin_path(self):
        a = data.group_key({'source': 'amrrashed', 'origin_path': 'x/siren.wav'})
        b = data.group_key({'source': 'amrrashed', 'origin_path': 'x/siren.wav'})
        self.assertEqual(a, b)

    @needs_data
    def test_split_keeps_recordings_whole_and_is_deterministic(self):
        rows = data.load_manifest()
        train, val = data.split_rows(rows, 1234)
        self.assertEqual(len(train) + len(val), len(rows))
        self.assertFalse({r['group'] for r in train} & {r['group'] for r in val})
        for label in ('gunshot', 'glass_break', 'scream'):
            self.assertTrue(any(r['label'] == label for r in val), label)
        train2, _ = data.split_rows(rows, 1234)
        self.assertEqual([r['path'] for r in train], [r['path'] for r in train2])
        _, val3 = data.split_rows(rows, 99)
        self.assertNotEqual({r['path'] for r in val}, {r['path'] for r in val3})

    def test_thinning_keeps_a_share_of_each_labels_recordings_whole(self):
        rows = [{'label': label, 'group': f'{label}:{g}', 'path': f'{label}/{g}/{piece}.wav'}
                for label, n in (('gunshot', 10), ('scream', 4), ('crash', 1)) for g in range(n) for piece in range(2)]
        half = data.thin_rows(rows, 0.5, 1234)
        groups = lambda rs, label: {r['group'] for r in rs if r['label'] == label}
        self.assertEqual([len(groups(half, l)) for l in ('gunshot', 'scream', 'crash')], [5, 2, 1], 'a share of each label, at least one')
        self.assertTrue(all(sum(1 for r in half if r['group'] == g) == 2 for g in {r['group'] for r in half}), 'recordings kept whole')
        self.assertEqual(half, data.thin_rows(rows, 0.5, 1234), 'deterministic')
        self.assertNotEqual(groups(half, 'gunshot'), groups(data.thin_rows(rows, 0.5, 7), 'gunshot'))
        self.assertIs(data.thin_rows(rows, 1.0, 1234), rows)
        import train as T
        self.assertEqual(T.parse_args([]).train_share, 1.0)
        for bad in ('0', '1.5'):
            with self.assertRaises(SystemExit):
                T.parse_args(['--train-share', bad])

    def test_the_selection_split_takes_whole_recordings_off_the_training_side_only(self):
        rows = [{'label': label, 'group': f'{label}:{g}', 'path': f'{label}/{g}/{piece}.wav'}
                for label, n in (('gunshot', 20), ('scream', 6), ('crash', 2)) for g in range(n) for piece in range(2)]
        train, val = data.split_rows(rows, 1234)
        kept, selection = data.selection_split(train, 1234, 0.2)
        groups = lambda rs: {r['group'] for r in rs}
        self.assertEqual(len(kept) + len(selection), len(train))
        self.assertFalse(groups(kept) & groups(selection), 'recordings kept whole, on one side')
        self.assertFalse(groups(selection) & groups(val), 'never a validation recording')
        self.assertEqual({r['label'] for r in selection}, {'gunshot', 'scream'}, 'a label with fewer than 3 recordings gives none')
        self.assertEqual(selection, data.selection_split(train, 1234, 0.2)[1], 'deterministic')
        # Not the validation split's own stream: another choice of recordings than split_rows at that share.
        self.assertNotEqual(groups(selection), groups(data.split_rows(train, 1234, val_fraction=0.2)[1]))
        self.assertEqual(data.selection_split(train, 1234, 0.0), (train, []))
        import train as T
        self.assertEqual(T.parse_args([]).selection_share, 0.0)
        for bad in ('-0.1', '0.5'):
            with self.assertRaises(SystemExit):
                T.parse_args(['--selection-share', bad])

    def test_the_card_says_when_a_run_kept_only_a_share_of_the_recordings(self):
        import card
        self.assertNotIn('train-share', card.data_text(1.0))
        self.assertIn('stay together: training.nearCopies', card.data_text(1.0))
        self.assertIn('near-copies not grouped (--near-copies ignore)', card.data_text(1.0, 'ignore'))
        self.assertIn('only 50% of each label kept (--train-share', card.data_text(0.5))
        self.assertIn('only 25% of each label kept', card.data_text(0.25))
        self.assertNotIn('selection-share', card.data_text(1.0))
        self.assertIn('20% of the training recordings of each label kept out of training, to choose among runs on (--selection-share', card.data_text(1.0, 'group', 0.2))


class NearCopies(unittest.TestCase):
    """The same sound under other names must not end on both sides of the split."""

    @staticmethod
    def pool(rng):
        sr = data.SAMPLE_RATE_HZ
        t = np.arange(sr) / sr
        bang = rng.standard_normal(sr) * np.exp(-t * 6)
        # a copy at another gain, 0.3 s later, a little low-passed and with hiss: a near-copy
        shifted = np.concatenate([np.zeros(int(0.3 * sr)), bang])[:sr]
        copy = 0.4 * np.convolve(shifted, np.ones(3) / 3, mode='same') + 0.002 * rng.standard_normal(sr)
        other = rng.standard_normal(sr) * np.exp(-t * 6)  # another bang of the same shape
        rows = [
            {'path': 'a.wav', 'label': 'gunshot', 'recording': 's:a'},
            {'path': 'b.wav', 'label': 'gunshot', 'recording': 's:b'},
            {'path': 'c.wav', 'label': 'gunshot', 'recording': 's:c'},
            {'path': 'd.wav', 'label': 'other', 'recording': 's:d'},  # the bang again, another label
            {'path': 'a2.wav', 'label': 'gunshot', 'recording': 's:a'},  # a piece of recording a
        ]
        clips = {'a.wav': bang, 'b.wav': copy, 'c.wav': other, 'd.wav': bang.copy(), 'a2.wav': bang[:sr // 2]}
        return rows, clips

    def test_a_shifted_quieter_filtered_copy_scores_near_one_and_another_sound_low(self):
        rows, clips = self.pool(np.random.default_rng(3))
        sig = {k: data.near_copy_signal(v) for k, v in clips.items()}
        self.assertGreaterEqual(data.near_copy_score(sig['a.wav'], sig['b.wav']), data.NEAR_COPY_CORRELATION)
        self.assertAlmostEqual(data.near_copy_score(sig['a.wav'], sig['a.wav']), 1.0, places=6)
        self.assertLess(data.near_copy_score(sig['a.wav'], sig['c.wav']), 0.5)
        self.assertEqual(data.near_copy_score(sig['a.wav'], np.zeros(100)), 0.0)

    def test_clusters_join_near_copies_whatever_their_labels(self):
        rows, clips = self.pool(np.random.default_rng(3))
        self.assertEqual(data.near_copy_clusters(rows, clips), [['s:a', 's:b', 's:d']])

    def test_a_background_label_on_an_alert_sound_is_doubtful_and_two_alert_labels_both(self):
        rows, clips = self.pool(np.random.default_rng(3))
        clusters = data.near_copy_clusters(rows, clips)
        self.assertEqual(data.doubtful_labels(rows, clusters), ['s:d'])
        rows[1]['label'] = 'scream'  # the copy of a gunshot labelled scream: which is it?
        self.assertEqual(data.doubtful_labels(rows, clusters), ['s:a', 's:b', 's:d'])
        rows[1]['label'] = rows[3]['label'] = 'gunshot'
        self.assertEqual(data.doubtful_labels(rows, clusters), [])

    def test_clusters_chain_through_pairs_and_are_deterministic(self):
        rng = np.random.default_rng(5)
        sr = data.SAMPLE_RATE_HZ
        base = rng.standard_normal(sr)
        # z ~ y ~ x but z and x share only part of their sound: one cluster through y
        x = base
        y = base + 0.35 * rng.standard_normal(sr)
        z = y + 0.35 * rng.standard_normal(sr)
        clips = {'x': x, 'y': y, 'z': z}
        sig = {k: data.near_copy_signal(v) for k, v in clips.items()}
        self.assertLess(data.near_copy_score(sig['x'], sig['z']), data.NEAR_COPY_CORRELATION)
        self.assertGreaterEqual(data.near_copy_score(sig['x'], sig['y']), data.NEAR_COPY_CORRELATION)
        self.assertGreaterEqual(data.near_copy_score(sig['y'], sig['z']), data.NEAR_COPY_CORRELATION)
        rows = [{'path': k, 'label': 'scream', 'recording': f'r:{k}'} for k in ('z', 'x', 'y')]
        self.assertEqual(data.near_copy_clusters(rows, clips), [['r:x', 'r:y', 'r:z']])
        self.assertEqual(data.near_copy_clusters(list(reversed(rows)), clips), [['r:x', 'r:y', 'r:z']])

    def test_merged_recordings_share_one_split_group(self):
        rows, clips = self.pool(np.random.default_rng(3))
        data.merge_near_copies(rows, data.near_copy_clusters(rows, clips))
        self.assertEqual([r['group'] for r in rows], ['s:a', 's:a', 's:c', 's:a', 's:a'])
        self.assertEqual([r['recording'] for r in rows], ['s:a', 's:b', 's:c', 's:d', 's:a'])

    def test_finder_names_the_clip_copied_best_and_nothing_for_another_sound(self):
        rows, clips = self.pool(np.random.default_rng(3))
        finder = data.NearCopyFinder([('c', clips['c.wav']), ('a2', clips['a2.wav']), ('a', clips['a.wav'])])
        name, score = finder.find(clips['b.wav'])
        self.assertEqual(name, 'a')  # a2 (half of a) also scores the threshold, a little lower
        self.assertAlmostEqual(score, data.near_copy_score(data.near_copy_signal(clips['b.wav']), data.near_copy_signal(clips['a.wav'])), places=9)
        self.assertIsNone(finder.find(np.random.default_rng(9).standard_normal(8000)))
        self.assertIsNone(finder.find(np.zeros(8000)))

    @needs_data
    def test_known_near_copies_of_the_pool_stay_on_one_side(self):
        rows = data.load_manifest()
        train, val = data.split_rows(rows, 1234)
        side = {}
        for name, part in (('train', train), ('val', val)):
            for r in part:
                side.setdefault(os.path.basename(r['origin_path']), set()).add(name)
        for pair in (('explosion-hi.wav', 'explosion-high.wav'), ('honkhonk-hi.wav', 'honkhonk-high.wav'),
                     ('evo7_engine.wav', 'evo7_engine_f.wav'), ('6182.wav', '6888.wav')):
            self.assertEqual(len(side[pair[0]] | side[pair[1]]), 1, pair)
        self.assertFalse({r['group'] for r in train} & {r['group'] for r in val})
        # an "other" clip that is a gunshot of the guns folder is in neither
        self.assertNotIn('5861.wav', side)
        self.assertIn('5861.wav', {os.path.basename(r['origin_path']) for r in data.load_manifest(near_copies=False)})


class EventFinding(unittest.TestCase):
    def test_event_centres_find_a_burst_in_a_long_clip(self):
        rng = np.random.default_rng(1)
        x = (rng.standard_normal(16000 * 20) * 0.001).astype(np.float32)
        x[16000 * 12:16000 * 12 + 3200] += (rng.standard_normal(3200) * 0.3).astype(np.float32)
        c = data.event_centres(x)
        self.assertTrue(len(c) > 0)
        self.assertTrue(((c > 16000 * 11.9) & (c < 16000 * 12.3)).all(), c)

    def test_event_extent_onset_within_10_ms(self):
        rng = np.random.default_rng(2)
        for true_on in (3000, 11111, 20000):
            x = (rng.standard_normal(32000) * 0.002).astype(np.float32)
            burst = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 800.0) * 0.5
            x[true_on:true_on + 4000] += burst.astype(np.float32)
            on, off = data.event_extent(x)
            self.assertLessEqual(abs(on - true_on), 160, (on, true_on))
            self.assertGreater(off, on)

    def test_project_mixes_are_dated_by_their_clean_parent(self):
        # The glass project's layout: the clean event 1 s into its clip; the mix adds, from
        # sample 0, a street ambience whose own sounds (a step at 0.1 s) the energy alone dates.
        rng = np.random.default_rng(4)
        sr, true_on = 16000, 16000
        parent = np.zeros(3 * sr)
        parent[true_on:true_on + 8000] = rng.standard_normal(8000) * np.exp(-np.arange(8000) / 3000.0) * 0.1
        ambience = rng.standard_normal(3 * sr) * 0.003
        ambience[1600:3200] += rng.standard_normal(1600) * 0.05
        mix = parent + ambience
        other_parent = np.zeros(2 * sr)
        other_parent[true_on:true_on + 4000] = rng.standard_normal(4000) * 0.1

        def row(base):
            return {'path': base, 'source': 'ringglass', 'origin_path': f'data/mixed/{base}.wav'}
        rows = [row('hit_1_000_000'), row('hit_1_000_a005_60_90_000'), row('hit_2_000_000'), row('hit_3_000_a009_0_30_000')]
        clips = {'hit_1_000_000': parent, 'hit_1_000_a005_60_90_000': mix, 'hit_2_000_000': other_parent,
                 'hit_3_000_a009_0_30_000': mix[:2 * sr]}
        self.assertGreater(abs(data.event_extent(mix)[0] - true_on), 8000, 'the energy alone dates the ambience')
        extents = data.mix_extents(rows, clips)
        self.assertEqual(set(extents), {'hit_1_000_a005_60_90_000', 'hit_3_000_a009_0_30_000'}, 'only mixes')
        on, off = extents['hit_1_000_a005_60_90_000']
        self.assertLessEqual(abs(on - true_on), 160, on)
        self.assertGreater(off, on)
        # Training crops the mix around its glass only, not around the ambience's step.
        self.assertTrue((data.event_centres(mix) < true_on).any())
        centres = data.event_centres(mix, extent=(on, off))
        self.assertTrue(len(centres) and (centres >= on).all() and (centres < off).all(), centres)
        # A mix whose parent is absent (hit_3) takes the parents' onset.
        self.assertLessEqual(abs(extents['hit_3_000_a009_0_30_000'][0] - true_on), 160)
        # The snippet keeps 0.3 s of lead-in, faded in from silence.
        ev, ev_on, _ = make_eval.event_snippet(mix, extent=(on, off))
        self.assertEqual(ev_on, int(0.3 * sr))
        self.assertEqual(ev[0], 0.0)
        np.testing.assert_allclose(ev[ev_on:ev_on + 100], mix[on:on + 100])

    def test_alignment_lag_finds_a_part_inside_a_mix(self):
        rng = np.random.default_rng(5)
        part = rng.standard_normal(4000)
        mix = rng.standard_normal(20000) * 0.5
        mix[1234:1234 + 4000] += part
        self.assertEqual(data.alignment_lag(mix, part), 1234)


class Synthesis(unittest.TestCase):
    def test_generators_are_finite_unit_rms_and_seeded(self):
        for fn in (synth.traffic_bed, synth.wind_bed, synth.rain_bed, synth.siren, synth.horn, synth.music, synth.thud):
            a = fn(16000, np.random.default_rng(5))
            b = fn(16000, np.random.default_rng(5))
            self.assertEqual(a.shape, (16000,), fn.__name__)
            self.assertTrue(np.isfinite(a).all(), fn.__name__)
            self.assertAlmostEqual(synth.rms(a), 1.0, delta=0.05, msg=fn.__name__)
            np.testing.assert_array_equal(a, b)

    @needs_espeak
    def test_espeak_speech_is_cached_per_seed(self):
        """A cache rendered for one seed (the determinism test's) never stands in for another
        seed's speech (the training run's): that made one recipe train differently by the
        order in which tests and training first ran on a machine."""
        import tempfile
        saved = synth.CACHE_DIR
        with tempfile.TemporaryDirectory() as tmp:
            synth.CACHE_DIR = tmp
            try:
                a = synth.espeak_speech(3, 6)
                b = synth.espeak_speech(3, 1235)
                again = synth.espeak_speech(3, 1235)  # from the cache now
            finally:
                synth.CACHE_DIR = saved
            key = synth.espeak_recipe_key()
            self.assertEqual(sorted(os.listdir(tmp)), [f'espeak_3_seed1235_{key}.npz', f'espeak_3_seed6_{key}.npz'])
        self.assertEqual(len(a), 3)
        self.assertFalse(all(len(x) == len(y) and np.array_equal(x, y) for x, y in zip(a, b)))
        for x, y in zip(b, again):
            np.testing.assert_array_equal(x, y)

    def test_siren_energy_is_in_the_siren_band(self):
        x = synth.siren(32000, np.random.default_rng(3))
        spec = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(len(x), 1 / 16000)
        self.assertGreater(spec[(f > 400) & (f < 1800)].sum() / spec.sum(), 0.4)

    def test_resample_keeps_a_tone(self):
        t = np.arange(22050) / 22050
        y = data.resample(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 22050, 16000)
        self.assertEqual(len(y), 16000)
        f = np.fft.rfftfreq(len(y), 1 / 16000)
        self.assertAlmostEqual(f[np.argmax(np.abs(np.fft.rfft(y)))], 1000, delta=2)


@needs_data
class Windows(unittest.TestCase):
    def test_training_windows_respect_the_input_contract(self):
        from augment import WindowMaker
        train, clips = training_split()
        maker = WindowMaker(train, clips, seed=7, espeak_count=160)
        xs, ys, ws = maker.batch(64)
        self.assertEqual(xs.shape, (64, 16000))
        self.assertEqual(xs.dtype, np.float32)
        self.assertTrue(np.isfinite(xs).all())
        self.assertLessEqual(np.abs(xs).max(), 1.0)
        self.assertTrue(((ys >= 0) & (ys < len(data.LABELS))).all())
        self.assertTrue(len(set(ys.tolist())) > 5)
        self.assertTrue(set(np.unique(ws).tolist()) <= {1.0, 2.0})

    def test_bed_min_samples_keeps_short_clips_out_of_the_beds(self):
        from augment import WIN, WindowMaker
        train, clips = training_split()
        shipped = WindowMaker(train, clips, seed=7, espeak_count=8)
        self.assertTrue(any(len(b.x) < WIN for b in shipped.beds), 'the shipped recipe uses short clips as beds too')
        long_only = WindowMaker(train, clips, seed=7, espeak_count=8, bed_min_samples=WIN)
        self.assertTrue(long_only.beds)
        self.assertTrue(all(len(b.x) >= WIN for b in long_only.beds))

    def test_bed_labels_and_synthetic_share_choose_the_beds(self):
        from augment import BED_LABELS, WindowMaker
        train, clips = training_split()
        shipped = WindowMaker(train, clips, seed=7, espeak_count=8)
        self.assertEqual({b.label for b in shipped.beds}, set(BED_LABELS) & {r['label'] for r in train})
        ambience = WindowMaker(train, clips, seed=7, espeak_count=8, bed_labels=('traffic', 'weather'))
        self.assertEqual({b.label for b in ambience.beds}, {'traffic', 'weather'})
        # How many of 20 beds are synthetic: all at share 1; at share 0 only the stand-ins for
        # a near-silent crop of a recording.
        def synthetic_beds(share):
            maker = WindowMaker(train, clips, seed=7, espeak_count=8, synthetic_bed_share=share)
            made = []
            maker.synthetic_bed = lambda rng: made.append(1) or np.zeros(16000, dtype=np.float32)
            for _ in range(20):
                maker.bed(maker.rng)
            return len(made)
        self.assertEqual(synthetic_beds(1.0), 20)
        self.assertLess(synthetic_beds(0.0), 20)

    def test_bed_labels_option_refuses_labels_that_are_not_background(self):
        import train as T
        self.assertEqual(T.bed_labels(' traffic, weather '), ['traffic', 'weather'])
        with self.assertRaises(SystemExit) as e:
            T.bed_labels('traffic,gunshot')
        self.assertIn('--bed-labels', str(e.exception))
        self.assertIn('got gunshot', str(e.exception))
        with self.assertRaises(SystemExit) as e:
            T.bed_labels('street')
        self.assertIn('got street', str(e.exception))
        with self.assertRaises(SystemExit) as e:
            T.bed_labels(' , ')
        self.assertIn('got none', str(e.exception))
        # Both options are checked when the command line is read, before any data is loaded.
        with self.assertRaises(SystemExit):
            T.parse_args(['--bed-labels', 'scream'])
        with self.assertRaises(SystemExit):
            T.parse_args(['--synthetic-bed-share', '1.5'])
        self.assertEqual(T.parse_args(['--synthetic-bed-share', '0']).synthetic_bed_share, 0.0)
        # Regularisation options: the shipped values by default, nonsense refused.
        self.assertEqual((T.parse_args([]).weight_decay, T.parse_args([]).dropout), (1e-3, 0.3))
        with self.assertRaises(SystemExit):
            T.parse_args(['--dropout', '1'])
        with self.assertRaises(SystemExit):
            T.parse_args(['--weight-decay', '-1'])
        from card import decay_text
        self.assertEqual([decay_text(v) for v in (1e-3, 0.05, 0)], ['1e-3', '5e-2', '0'])


class AlwaysRecordings:
    """A seeded generator whose random() never picks make_background's synthetic bed."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def random(self):
        return 0.9

    def __getattr__(self, name):
        return getattr(self.rng, name)


class EvaluationBackground(unittest.TestCase):
    def test_short_ambience_pieces_leave_no_digital_silence(self):
        rng = np.random.default_rng(3)
        sr = make_eval.SR
        # one long recording and many 0.3 s ones (single footsteps): the short ones must not be used
        long_piece = (rng.standard_normal(3 * sr) * 0.05).astype(np.float32)
        short = [(rng.standard_normal(int(0.3 * sr)) * 0.05).astype(np.float32) for _ in range(20)]
        for seed in range(5):
            bg = make_eval.make_background([long_piece] + short, AlwaysRecordings(seed), 10 * sr)
            frames = bg[:len(bg) // 1600 * 1600].reshape(-1, 1600)
            level_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
            self.assertGreater(level_db.min(), -60.0, f'seed {seed}: a 100 ms stretch of silence')


@needs_data
class Determinism(unittest.TestCase):
    def test_the_same_seed_gives_the_same_weights(self):
        """train.fit on seeded batches: bit-identical weights for one seed, others for another."""
        import contextlib
        import io
        import train
        from augment import WindowMaker
        train_rows, clips = training_split()
        args = train.parse_args(['--epochs', '1', '--steps-per-epoch', '2', '--batch', '8'])

        def run(seed):
            torch.manual_seed(seed)
            maker = WindowMaker(train_rows, clips, seed, espeak_count=8)
            net = M.StreetNet(len(data.LABELS))
            with contextlib.redirect_stdout(io.StringIO()):
                train.fit(net, maker, args, checkpoint=False)
            return net.state_dict()

        a, b, c = run(5), run(5), run(6)
        for name in a:
            self.assertTrue(torch.equal(a[name], b[name]), name)
        self.assertFalse(all(torch.equal(a[name], c[name]) for name in a))


class Fingerprint(unittest.TestCase):
    """The card's digests of a run's inputs: each input that changes changes its digest."""

    def test_array_digest_follows_every_sample_and_clip_boundary(self):
        import fingerprint
        rng = np.random.default_rng(3)
        a, b = rng.standard_normal(100).astype(np.float32), rng.standard_normal(50).astype(np.float32)
        d = fingerprint.digest_arrays([a, b])
        self.assertEqual(d, fingerprint.digest_arrays([a.copy(), b.astype(np.float64)]))
        changed = a.copy()
        changed[17] = np.nextafter(changed[17], np.float32(np.inf))
        self.assertNotEqual(d, fingerprint.digest_arrays([changed, b]))
        # the same samples split into other clips, or in another order
        joined = np.concatenate([a, b])
        self.assertNotEqual(d, fingerprint.digest_arrays([joined[:99], joined[99:]]))
        self.assertNotEqual(d, fingerprint.digest_arrays([b, a]))

    def test_pool_cache_decodes_a_clip_again_when_its_audio_changes_at_the_same_length(self):
        """The decoded pool is cached by each clip's path and length, and by its file's size and
        time: a clip rewritten at another level (same length) must not be read from the cache,
        or the fingerprint would call a changed pool "same"."""
        import tempfile
        import wave
        saved_env, saved_cache = os.environ.get('VIGIE_DATA_DIR'), data.CACHE_DIR
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, 'data', 'urban-sounds'))
            clip = os.path.join(tmp, 'data', 'urban-sounds', 'a.wav')

            def write(amplitude):
                with wave.open(clip, 'wb') as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(16000)
                    w.writeframes((np.full(1600, amplitude, dtype=np.int16)).tobytes())
            os.environ['VIGIE_DATA_DIR'] = os.path.join(tmp, 'data')
            data.CACHE_DIR = os.path.join(tmp, 'cache')
            try:
                rows = [{'path': 'a.wav', 'duration_s': '0.1'}]
                write(8000)
                first = data.load_pool(rows)['a.wav']
                self.assertTrue(os.path.exists(os.path.join(data.CACHE_DIR, 'pool.npz')))
                write(4000)  # -6 dB, same length
                os.utime(clip, ns=(os.stat(clip).st_atime_ns, os.stat(clip).st_mtime_ns + 1_000_000_000))
                second = data.load_pool(rows)['a.wav']
            finally:
                data.CACHE_DIR = saved_cache
                if saved_env is None:
                    os.environ.pop('VIGIE_DATA_DIR', None)
                else:
                    os.environ['VIGIE_DATA_DIR'] = saved_env
        self.assertAlmostEqual(float(first[0]) / float(second[0]), 2.0, places=3)

    def test_extents_digest_ignores_dict_order_only(self):
        import fingerprint
        d = fingerprint.digest_extents({'x.wav': (10, 20), 'y.wav': (5, 9)})
        self.assertEqual(d, fingerprint.digest_extents({'y.wav': (5, 9), 'x.wav': (10, 20)}))
        self.assertNotEqual(d, fingerprint.digest_extents({'x.wav': (10, 21), 'y.wav': (5, 9)}))

    def test_cpu_flags_name_the_vector_extensions_in_a_fixed_order(self):
        import tempfile
        import fingerprint
        with tempfile.NamedTemporaryFile('w', suffix='cpuinfo', delete=False) as f:
            f.write('processor\t: 0\nflags\t\t: fpu sse2 avx512f avx fma avx2 aes\n')
        try:
            self.assertEqual(fingerprint.cpu_flags(f.name), 'avx avx2 fma avx512f')
        finally:
            os.unlink(f.name)
        self.assertEqual(fingerprint.cpu_flags(f.name), 'unknown')

    def test_compare_names_what_differs(self):
        import fingerprint
        then = {'manifest': 'm', 'clips': 'c', 'speech': 's', 'mixExtents': 'e',
                'environment': {'torch': '1.13', 'cpuFlags': 'avx avx2'}}
        now = dict(then, clips='c2', environment={'torch': '1.13', 'cpuFlags': 'avx avx2 avx512f'})
        differs = [name for name, _, _, same in fingerprint.compare(then, now) if not same]
        self.assertEqual(differs, ['clips', 'environment.cpuFlags'])
        self.assertTrue(all(same for *_, same in fingerprint.compare(then, then)))

    @needs_data
    def test_the_shipped_model_was_trained_from_what_this_checkout_makes_of_the_data(self):
        """The shipped card's digests of the manifest, clips, speech and mix extents are this
        checkout's: a change to decoding, speech rendering or the data makes `npm run train`
        train something else, and shows here. (The CPU is not compared: see docs/model.md.)"""
        import fingerprint
        import train
        card = read_json(os.path.join(MODELS, 'vigie-street-v1.json'))
        recorded = card['training']['inputs']
        run = fingerprint.run_options(card)
        # the split the card's command makes (1.2.1: --near-copies ignore, the split of before)
        rows = data.load_manifest(near_copies=run.near_copies == 'group')
        train_rows, _ = train.split(run, rows)
        clips = data.load_pool(rows)
        maker = train.window_maker(run, train_rows, clips)
        now = fingerprint.training_inputs(os.path.join(data.pool_dir(), 'manifest.csv'), rows, clips, maker)
        for key in ('manifest', 'clips', 'speech', 'mixExtents'):
            self.assertEqual(now[key], recorded[key], key)

    @needs_data
    def test_a_training_card_records_its_inputs_and_this_machine_matches_them(self):
        """train.py's card holds the digests; fingerprint.py, reading that card, finds the same
        inputs on the machine that wrote it (exit 0), and names a changed one (exit 1)."""
        import contextlib
        import io
        import tempfile
        import fingerprint
        import train
        train_rows, clips = training_split()
        rows = data.load_manifest()
        maker = train.window_maker(train.parse_args([]), train_rows, clips)
        inputs = fingerprint.training_inputs(os.path.join(data.pool_dir(), 'manifest.csv'), rows, clips, maker)
        self.assertEqual(inputs['clips'], fingerprint.digest_arrays(clips[r['path']] for r in rows))
        self.assertEqual(len(maker.speech), 160)
        with tempfile.TemporaryDirectory() as tmp:
            card_path = os.path.join(tmp, 'card.json')
            with open(card_path, 'w') as f:
                json.dump({'training': {'command': '/usr/bin/python3 training/train.py', 'inputs': inputs}}, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(fingerprint.main(['--card', card_path]), 0, out.getvalue())
            inputs['speech'] = '0' * 16
            with open(card_path, 'w') as f:
                json.dump({'training': {'command': '/usr/bin/python3 training/train.py', 'inputs': inputs}}, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(fingerprint.main(['--card', card_path]), 1)
            self.assertIn('DIFFERS speech', out.getvalue())
            # a run with another seed renders other speech: fingerprint.py reads the seed from the
            # command (rendered into this test's own cache, not the training's)
            with open(card_path, 'w') as f:
                json.dump({'training': {'command': '/usr/bin/python3 training/train.py --seed 99 --split-seed 1234',
                                        'inputs': dict(inputs, speech=fingerprint.digest_arrays(maker.speech))}}, f)
            saved = synth.CACHE_DIR
            synth.CACHE_DIR = tmp
            try:
                with contextlib.redirect_stdout(io.StringIO()) as out:
                    fingerprint.main(['--card', card_path])
            finally:
                synth.CACHE_DIR = saved
            self.assertIn('DIFFERS speech', out.getvalue())


class Scoring(unittest.TestCase):
    alerts = ['gunshot', 'scream']

    def test_event_rows_tolerance_and_false_alarms(self):
        rows = [
            {'label': 'gunshot', 'onset': '2.0'},  # hit within 0.5 s
            {'label': 'gunshot', 'onset': '5.0'},  # detected 0.8 s late: miss + false positive
            {'label': 'scream', 'onset': '1.0'},  # called gunshot: substitution
            {'label': 'traffic', 'onset': ''},  # background: one false alarm
        ]
        results = [
            ([{'label': 'gunshot', 'onset': 2.3}], 10.0),
            ([{'label': 'gunshot', 'onset': 5.8}], 10.0),
            ([{'label': 'gunshot', 'onset': 1.0}], 10.0),
            ([{'label': 'scream', 'onset': 4.0}], 3600.0),
        ]
        s = evaluate.score(rows, results, self.alerts)
        self.assertEqual(s['perClass']['gunshot'], {'tp': 1, 'fp': 2, 'fn': 1, 'precision': 0.333, 'recall': 0.5, 'f1': 0.4})
        self.assertEqual(s['perClass']['scream']['fn'], 1)
        self.assertEqual(s['perClass']['scream']['fp'], 1)
        self.assertEqual(s['falseAlarms'], 1)
        self.assertEqual(s['falseAlarmsPerHour'], 1.0)
        # ER = (S 2 + D 0 + I 1) / N 3
        self.assertEqual(s['errorRate'], 1.0)

    def test_clip_rows_without_onset(self):
        rows = [{'label': 'scream', 'onset': ''}]
        s = evaluate.score(rows, [([{'label': 'scream', 'onset': 7.0}], 10.0)], self.alerts)
        self.assertEqual(s['perClass']['scream']['tp'], 1)
        self.assertEqual(s['errorRate'], 0.0)


class CheckpointRecipe(unittest.TestCase):
    def test_an_old_checkpoint_gets_the_options_of_its_time(self):
        import argparse
        import train
        # saved before --hard-negative-weight existed (twice the loss weight then) and --widths
        old = train.recipe_args(argparse.Namespace(seed=7, epochs=40))
        self.assertEqual(old.hard_negative_weight, 2.0)
        self.assertEqual(old.widths, train.parse_args([]).widths)
        self.assertEqual(old.seed, 7)
        # a checkpoint that has the option keeps its own value
        self.assertEqual(train.recipe_args(argparse.Namespace(hard_negative_weight=1.0)).hard_negative_weight, 1.0)


class Cards(unittest.TestCase):
    def check_card(self, card, n_out):
        for field in ('name', 'version', 'format', 'input', 'output', 'labels', 'alertLabels', 'voiceLabels',
                      'backgroundLabels', 'parameters', 'fileBytes', 'training', 'results', 'limitations'):
            self.assertIn(field, card)
        self.assertEqual(len(card['labels']), n_out)
        self.assertTrue(set(card['alertLabels']) <= set(card['labels']))
        self.assertFalse(set(card['voiceLabels']) & set(card['alertLabels']))
        self.assertEqual(set(card['alertLabels']) | set(card['backgroundLabels']), set(card['labels']))

    def test_shipped_model_card_matches_its_file(self):
        import onnx
        card = read_json(os.path.join(MODELS, 'vigie-street-v1.json'))
        path = os.path.join(MODELS, card['file'])
        m = onnx.load(path)
        out_dim = m.graph.output[0].type.tensor_type.shape.dim[1].dim_value
        self.check_card(card, out_dim)
        self.assertEqual(card['fileBytes'], os.path.getsize(path))
        self.assertLessEqual(card['fileBytes'], 5 * 1024 * 1024)
        self.assertLessEqual(card['parameters'], 1_000_000)
        self.assertEqual(m.graph.input[0].name, 'waveform')
        self.assertEqual(m.graph.output[0].name, 'probabilities')
        in_dims = m.graph.input[0].type.tensor_type.shape.dim
        self.assertEqual(len(in_dims), 2)
        self.assertEqual(in_dims[1].dim_value, card['input']['windowSamples'])
        self.assertEqual(card['input']['sampleRate'], 16000)
        self.assertIn('speech', card['voiceLabels'])
        self.assertNotIn('speech', card['alertLabels'])
        for opset in m.opset_import:
            if opset.domain in ('', 'ai.onnx'):
                self.assertTrue(13 <= opset.version <= 17)
        sources = {s['source'] for s in card['training']['sources']}
        for s in ('gabemagee', 'ladytuna', 'ringglass', 'amrrashed'):
            self.assertIn(s, sources)
        self.assertTrue(all(s['licenceStatus'] for s in card['training']['sources']))

    def test_fixtures_are_small_and_each_wrong_in_its_own_way(self):
        names = ['tiny-ok', 'bad-rank3-input', 'bad-sample-rate', 'bad-sample-rate-metadata', 'bad-window-mismatch',
                 'bad-label-count', 'bad-logits']
        import onnx
        for name in names:
            path = os.path.join(FIXTURES, name + '.onnx')
            self.assertLess(os.path.getsize(path), 50_000)
            card = read_json(os.path.join(FIXTURES, name + '.json'))
            m = onnx.load(path)
            rank = len(m.graph.input[0].type.tensor_type.shape.dim)
            width = m.graph.output[0].type.tensor_type.shape.dim[1].dim_value
            samples = m.graph.input[0].type.tensor_type.shape.dim[-1].dim_value
            self.assertEqual(rank == 2, name != 'bad-rank3-input', name)
            self.assertEqual(len(card['labels']) == width, name != 'bad-label-count', name)
            self.assertEqual(isinstance(card['input']['sampleRate'], int), name != 'bad-sample-rate', name)
            self.assertEqual(samples == card['input']['windowSamples'], name != 'bad-window-mismatch', name)
            meta = {p.key: p.value for p in m.metadata_props}
            self.assertEqual(meta.get('sample_rate', str(card['input']['sampleRate'])) == str(card['input']['sampleRate']),
                             name != 'bad-sample-rate-metadata', name)
            has_softmax = any(n.op_type == 'Softmax' for n in m.graph.node)
            self.assertEqual(has_softmax, name != 'bad-logits', name)

    def test_dropin_fixture_is_yamnet_shaped_small_and_agrees_with_its_card(self):
        import onnx
        path = os.path.join(FIXTURES, 'yamnet-style.onnx')
        self.assertLess(os.path.getsize(path), 100_000)
        card = read_json(os.path.join(FIXTURES, 'yamnet-style.json'))
        m = onnx.load(path)
        self.assertEqual([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim][1:], [15600])
        self.assertEqual(m.graph.output[0].type.tensor_type.shape.dim[1].dim_value, 521)
        self.assertTrue(any(n.op_type == 'Sigmoid' for n in m.graph.node))
        self.assertEqual(card['output']['activation'], 'sigmoid')
        self.assertEqual(card['fileBytes'], os.path.getsize(path))
        meta = {p.key: p.value for p in m.metadata_props}
        self.assertEqual(meta['labels'], ','.join(card['labels']))
        self.assertIn('Gunshot, gunfire', card['labels'])
        self.assertTrue(set(card['labelMap']) <= set(card['labels']))


if __name__ == '__main__':
    unittest.main()
