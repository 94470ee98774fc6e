# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Time one BaS-Net training iteration: this project's vs the original's
arithmetic, at a config's shapes, on this machine.

``project``: the model of ``--config``
(``configs/basnet/basnet_i3d_1x115e_thumos14.py`` by default: batch 16,
T = 750 resampled snippets, 2048-wide I3D features, CAS width 2048,
filtering width 512) built through the registry, a packed batch
as the pipeline gives it (``[B * T, D]`` + data samples), then
``data_preprocessor`` -> ``model(mode='loss')`` -> sum -> backward -> the
config's optimizer step.

``original``: the arithmetic of ``Pilhyeon/BaSNet-pytorch`` @ c8c6bbd as
``shared/BASE_MODELS.md`` describes it, written here from that description
(input ``[B, T, D]`` permuted to ``[B, D, T]``; filtering module; the CAS
module called once on ``x`` and once on ``w * x``; softmax of the top-k mean;
BCE on the probabilities; norm loss; ``torch.optim.Adam`` with its default
(non-fused) implementation, as the original).

Each implementation runs in its own subprocesses (so that the peak resident
memory, ``ru_maxrss``, is its own), ``--repeats`` of them alternated with
the other implementation's (a changing machine load hits both), each
``--warmup`` iterations then ``--iters`` timed ones; the median of the
pooled timed iterations and the peak RSS are printed, one line per
implementation, and the ratio. Random inputs (the arithmetic does not
depend on the values).

Usage::

    OMP_NUM_THREADS=2 python tools/benchmark_basnet_iteration.py
    python tools/benchmark_basnet_iteration.py --batch 16 --num-segments 256 \\
        --o model.cls_head.cas_channels=64 model.cls_head.filter_channels=32 \\
        model.cls_head.in_channels=1024
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def original_step_fn(batch: int, t: int, d: int, cas_ch: int, filt_ch: int,
                     num_classes: int):
    """The original's iteration, from ``shared/BASE_MODELS.md``."""
    filt = nn.Sequential(
        nn.Conv1d(d, filt_ch, 1), nn.LeakyReLU(), nn.Conv1d(filt_ch, 1, 1),
        nn.Sigmoid())
    cas = nn.Sequential(
        nn.Conv1d(d, cas_ch, 3, padding=1), nn.LeakyReLU(),
        nn.Conv1d(cas_ch, cas_ch, 3, padding=1), nn.LeakyReLU(),
        nn.Dropout(0.7), nn.Conv1d(cas_ch, num_classes + 1, 1, bias=False))
    params = list(filt.parameters()) + list(cas.parameters())
    optim = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.999),
                             weight_decay=5e-4)
    k = t // 8
    x = torch.randn(batch, t, d)
    labels = torch.zeros(batch, num_classes)
    labels[torch.arange(batch), torch.arange(batch) % num_classes] = 1

    def score(c):  # c: [B, T, C + 1]
        return torch.softmax(
            torch.topk(c, k, dim=1)[0].mean(1), dim=1)

    def step():
        inp = x.permute(0, 2, 1)
        w = filt(inp)  # [B, 1, T]
        cas_base = cas(inp).permute(0, 2, 1)
        cas_supp = cas(w * inp).permute(0, 2, 1)
        lb = torch.cat([labels, torch.ones(batch, 1)], 1)
        ls = torch.cat([labels, torch.zeros(batch, 1)], 1)
        loss = (F.binary_cross_entropy(score(cas_base),
                                       lb / lb.sum(1, keepdim=True)) +
                F.binary_cross_entropy(score(cas_supp),
                                       ls / ls.sum(1, keepdim=True)) +
                1e-4 * w.abs().sum(-1).mean())
        optim.zero_grad()
        loss.backward()
        optim.step()

    return step


def project_step_fn(config: str, options: dict, batch: int, t: int):
    """This project's iteration through the registry."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import refineloc_mm  # noqa: F401
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    head = model.cls_head
    x = torch.randn(batch * t, head.in_channels)
    samples = []
    for i in range(batch):
        ds = ActionDataSample()
        ds.set_metainfo(
            dict(video_name=f'v{i}', num_snippets=t, snippet_size=16.,
                 fps=25.))
        label = torch.zeros(head.num_classes)
        label[i % head.num_classes] = 1
        ds.gt_label = label
        samples.append(ds)
    data = dict(inputs=x, data_samples=samples)

    def step():
        batch_data = model.data_preprocessor(data, True)
        losses = model(**batch_data, mode='loss')
        loss, _ = model.parse_losses(losses)
        wrapper.update_params(loss)

    return step, head


def run_one(args) -> dict:
    torch.manual_seed(0)
    if args.impl == 'original':
        step = original_step_fn(args.batch, args.num_segments,
                                args.in_channels, args.cas_channels,
                                args.filter_channels, args.num_classes)
    else:
        step, head = project_step_fn(args.config, args.o, args.batch,
                                     args.num_segments)
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return dict(
        impl=args.impl,
        median_s=statistics.median(times),
        times_s=times,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
        1024,
        threads=torch.get_num_threads())


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config', default='configs/basnet/basnet_i3d_1x115e_thumos14.py')
    parser.add_argument('--o', nargs='+', action=DictAction, default={},
                        help='config options of the project model')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--num-segments', type=int, default=750)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=2,
                        help='subprocesses per implementation, alternated')
    parser.add_argument('--impl', choices=('project', 'original', 'both'),
                        default='both')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.o)
    head = cfg.model.cls_head
    args.in_channels = head.in_channels
    args.cas_channels = head.get('cas_channels', 2048)
    args.filter_channels = head.get('filter_channels', 512)
    args.num_classes = head.get('num_classes', 20)
    if args.impl != 'both':
        print('RESULT ' + json.dumps(run_one(args)), flush=True)
        return
    results = {}
    # alternated, twice each, so that a changing machine load hits both
    for impl in ('original', 'project') * args.repeats:
        cmd = [sys.executable, __file__, '--impl', impl, '--config',
               args.config, '--batch', str(args.batch), '--num-segments',
               str(args.num_segments), '--iters', str(args.iters),
               '--warmup', str(args.warmup)]
        if args.o:
            cmd += ['--o'] + [f'{k}={v}' for k, v in args.o.items()]
        out = subprocess.run(cmd, check=True, capture_output=True,
                             text=True, env=os.environ.copy()).stdout
        line = [x for x in out.splitlines() if x.startswith('RESULT ')][-1]
        res = json.loads(line[len('RESULT '):])
        if impl in results:  # pool the timed iterations of the repeats
            res['times_s'] += results[impl]['times_s']
            res['median_s'] = statistics.median(res['times_s'])
            res['peak_rss_mib'] = max(res['peak_rss_mib'],
                                      results[impl]['peak_rss_mib'])
        results[impl] = res
    print(f'batch {args.batch}, T {args.num_segments}, D '
          f'{args.in_channels}, CAS {args.cas_channels}, filter '
          f'{args.filter_channels}, {results["project"]["threads"]} '
          f'threads, {args.repeats} x {args.iters} timed iterations '
          'each (alternated subprocesses)')
    for impl in ('original', 'project'):
        r = results[impl]
        print(f'{impl:9s} median {r["median_s"]:.3f} s/iteration, peak RSS '
              f'{r["peak_rss_mib"]:.0f} MiB')
    ratio = results['project']['median_s'] / results['original']['median_s']
    print(f'project / original: {ratio:.3f}')


if __name__ == '__main__':
    main()
