# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The iteration benchmark's shapes come from each base model's THUMOS14
config (batch, crop / resampling length, widths), and its report lines."""
import pytest

from refineloc_mm.utils.benchmark.config import load_config
from refineloc_mm.utils.benchmark.iteration import (TABLE_HEADER,
                                                    iteration_shapes,
                                                    table_row)

BASNET = 'configs/basnet/basnet_i3d_1x115e_thumos14.py'
WTALC = 'configs/wtalc/wtalc_i3d_1x200e_thumos14.py'
DELU = 'configs/delu/delu_i3d_1x100e_thumos14.py'
REFINE_BASNET = 'configs/basnet/refineloc-basnet_i3d_50x115e_thumos14.py'
REFINELOC = 'configs/refineloc/refineloc_i3d_50x100e_thumos14.py'


@pytest.mark.parametrize('config,expect', [
    (BASNET,
     dict(model='BaSNet', batch=16, num_snippets=750, in_channels=2048,
          cas_channels=2048, filter_channels=512, num_pairs=0,
          num_snippets_from='ResampleSnippets.num_segments')),
    (WTALC,
     dict(model='WTALC', batch=10, num_snippets=750, in_channels=2048,
          num_pairs=3, num_snippets_from='RandomSnippetCrop.max_seqlen')),
    (DELU,
     dict(model='DELU', batch=10, num_snippets=320, in_channels=2048,
          attention_channels=512, cls_channels=2048, num_pairs=3,
          num_snippets_from='RandomPerturbSnippets.num_segments')),
    (REFINE_BASNET,
     dict(model='BaSNet', batch=16, num_snippets=750)),
])
def test_shapes_of_the_thumos14_configs(config, expect):
    shapes = iteration_shapes(load_config(config, []))
    assert {k: shapes[k] for k in expect} == expect


def test_overrides_and_whole_videos():
    cfg = load_config(REFINELOC, [])
    with pytest.raises(ValueError, match='neither crops nor resamples'):
        iteration_shapes(cfg)
    shapes = iteration_shapes(cfg, whole_video_snippets=381)
    assert (shapes['model'], shapes['batch'], shapes['num_snippets'],
            shapes['in_channels']) == ('RefineLoc', 32, 381, 1024)
    shapes = iteration_shapes(
        load_config(BASNET, []), batch=4,
        num_snippets=64)
    assert (shapes['batch'], shapes['num_snippets'],
            shapes['num_snippets_from']) == (4, 64, 'override')


def test_table_row():
    res = dict(
        config=BASNET,
        shapes=dict(model='BaSNet', batch=16, num_snippets=750,
                    in_channels=2048, cas_channels=2048),
        ratio=0.5,
        results=dict(
            original=dict(median_s=2., cpu_median_s=4., peak_rss_mib=900.,
                          peak_above_imports_mib=600.),
            project=dict(median_s=1., cpu_median_s=2., peak_rss_mib=1000.,
                         peak_above_imports_mib=500.)))
    row = table_row(res)
    assert row == ('| BaSNet (`basnet_i3d_1x115e_thumos14.py`) | B 16, '
                   'T 750, D 2048, cas_channels 2048 | 2.000 (4.000) | '
                   '1.000 (2.000) | '
                   '0.50 | 900 (600) / 1000 (500) |')
    assert TABLE_HEADER.splitlines()[0].count('|') == row.count('|')


def test_alternation_and_pooling(monkeypatch):
    """Processes alternate original, project, project, original, ...; the
    timed iterations pool, the peak RSS is the largest process's."""
    from refineloc_mm.utils.benchmark import iteration
    calls = []

    def fake(spec):
        calls.append(spec['impl'])
        n = len(calls)
        return dict(impl=spec['impl'], times_s=[float(n), float(n) + .5],
                    cpu_s=[1., 1.], peak_rss_mib=100. * n,
                    peak_above_imports_mib=10. * n, threads=2,
                    num_parameters=7)

    monkeypatch.setattr(iteration, '_run_subprocess', fake)
    res = iteration.benchmark_iteration(
        BASNET, repeats=3, iters=2)
    assert calls == ['original', 'project', 'project', 'original',
                     'original', 'project']
    o, p = res['results']['original'], res['results']['project']
    assert o['times_s'] == [1., 1.5, 4., 4.5, 5., 5.5]
    assert o['median_s'] == 4.25 and p['median_s'] == 3.25
    assert (o['peak_rss_mib'], p['peak_rss_mib']) == (500., 600.)
    assert o['processes'] == 3 and res['ratio'] == 3.25 / 4.25
    assert res['original'] == 'basnet'
    res = iteration.benchmark_iteration(
        REFINELOC, whole_video_snippets=8, repeats=2)
    assert res['original'] == 'none' and res['ratio'] is None
    assert calls[-2:] == ['project', 'project']


@pytest.mark.parametrize('impl', ['original', 'project'])
def test_worker_times_tiny_basnet(impl):
    """The worker builds either side from the same shapes and times it."""
    from refineloc_mm.utils.benchmark import iteration
    opts = ['model.cls_head.in_channels=8', 'model.cls_head.cas_channels=8',
            'model.cls_head.filter_channels=4']
    shapes = iteration_shapes(load_config(BASNET, opts),
                              batch=2, num_snippets=16)
    name, path = iteration.resolve_original('auto', shapes['model'])
    res = iteration.run_worker(dict(impl=impl, original=name,
                                    original_path=path, config=BASNET,
                                    cfg_options=opts, shapes=shapes, iters=2,
                                    warmup=1, threads=None))
    assert len(res['times_s']) == len(res['cpu_s']) == 2
    assert all(t > 0 for t in res['times_s'])
    # filter 8 -> 4 -> 1, CAS 8 -> 8 (k3) -> 8 (k3) -> 21 (k1, no bias)
    assert res['num_parameters'] == (8 * 4 + 4 + 4 + 1 + 8 * 8 * 3 + 8 +
                                     8 * 8 * 3 + 8 + 8 * 21)
