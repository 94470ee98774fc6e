# Copyright (c) refineloc-mm contributors. All rights reserved.
"""tools/benchmark_iteration.py end to end on tiny shapes: every base
model's config, its line, the alternated processes and the JSON."""
import json

import pytest

from helpers.runs import run_tool

# tiny widths of each config (the original is sized from the same keys)
TINY = {
    'configs/basnet_thumos.py': [
        'model.cls_head.in_channels=16', 'model.cls_head.cas_channels=16',
        'model.cls_head.filter_channels=8'
    ],
    'configs/wtalc_thumos.py': ['model.cls_head.in_channels=16'],
    'configs/delu_thumos14.py': [
        'model.cls_head.in_channels=16',
        'model.cls_head.attention_channels=8',
        'model.cls_head.cls_channels=16'
    ],
}


@pytest.mark.parametrize('config', sorted(TINY))
def test_one_line_per_base_model(tmp_path, config):
    out = tmp_path / 'iteration.json'
    proc = run_tool('tools/benchmark_iteration.py', '--config', config,
                    '--batch', '6', '--num-snippets', '16', '--iters', '2',
                    '--warmup', '1', '--repeats', '2', '--threads', '1',
                    '--json', out, '--cfg-options', *TINY[config],
                    env=dict(OMP_NUM_THREADS='1'))
    (res, ) = json.loads(out.read_text())
    assert res['shapes']['batch'] == 6 and res['shapes'][
        'num_snippets'] == 16 and res['shapes']['in_channels'] == 16
    for impl in ('original', 'project'):
        r = res['results'][impl]
        assert r['processes'] == 2 and len(r['times_s']) == 4
        assert r['median_s'] > 0 and r['peak_rss_mib'] > 0
        assert r['threads'] == 1
    # both sides built at the same widths: the same parameters (W-TALC's
    # and DELU's originals carry their unused layer: fc1, feat_encoder)
    o, p = (res['results'][k]['num_parameters']
            for k in ('original', 'project'))
    unused = {'configs/basnet_thumos.py': 0,
              'configs/wtalc_thumos.py': 16 * 16 + 16,
              'configs/delu_thumos14.py': 16 * 16 * 3 + 16}[config]
    assert o == p + unused
    assert res['ratio'] == pytest.approx(
        res['results']['project']['median_s'] /
        res['results']['original']['median_s'])
    assert 'project / original' in proc.stdout
    assert proc.stdout.count('\n| ') == 2  # header + one row


def test_whole_video_config_needs_a_length():
    proc = run_tool('tools/benchmark_iteration.py', '--config',
                    'configs/refineloc_thumos.py', check=False)
    assert proc.returncode != 0
    assert 'neither crops nor resamples' in proc.stderr
