# Copyright (c) refineloc-mm contributors. All rights reserved.
"""tools/benchmark_iteration.py end to end on tiny shapes: the THUMOS14
configs of the three base models with an original, one line each, each
side in its own worker process, and the JSON (the alternation, the pooling
and the worker are tested in
``tests/unit/utils/benchmark/test_iteration_shapes.py``)."""
import json

import pytest

from helpers.runs import run_tool

CONFIGS = ('configs/basnet/basnet_i3d_1x115e_thumos14.py',
           'configs/wtalc/wtalc_i3d_1x200e_thumos14.py',
           'configs/delu/delu_i3d_1x100e_thumos14.py')
D = 16
# the parameters of the layers the originals build and never use
UNUSED = {
    'configs/basnet/basnet_i3d_1x115e_thumos14.py': 0,
    'configs/wtalc/wtalc_i3d_1x200e_thumos14.py': D * D + D,  # fc1
    'configs/delu/delu_i3d_1x100e_thumos14.py': D * D * 3 + D,  # feat_encoder
}


def test_one_line_per_base_model(tmp_path):
    out = tmp_path / 'iteration.json'
    proc = run_tool('tools/benchmark_iteration.py', '--config', *CONFIGS,
                    '--batch', '6', '--num-snippets', '8', '--iters', '1',
                    '--warmup', '0', '--repeats', '1', '--threads', '1',
                    '--json', out, '--cfg-options',
                    f'model.cls_head.in_channels={D}',
                    env=dict(OMP_NUM_THREADS='1'))
    results = json.loads(out.read_text())
    assert [r['config'] for r in results] == list(CONFIGS)
    for res in results:
        assert (res['shapes']['batch'], res['shapes']['num_snippets'],
                res['shapes']['in_channels']) == (6, 8, D)
        for impl in ('original', 'project'):
            r = res['results'][impl]
            assert r['processes'] == 1 and len(r['times_s']) == 1
            assert r['median_s'] > 0 and r['peak_rss_mib'] > 0
            assert r['threads'] == 1
        # both sides built from the same config keys, the same layers
        o, p = (res['results'][k]['num_parameters']
                for k in ('original', 'project'))
        assert o == p + UNUSED[res['config']], res['config']
        assert res['ratio'] == pytest.approx(
            res['results']['project']['median_s'] /
            res['results']['original']['median_s'])
    assert proc.stdout.count('project / original:') == 3
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith('| ')]
    assert len(rows) == 1 + 3  # header + one line per config
