# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The in-process half of the benchmark: training epochs through the real
mmengine ``Runner`` and the round-end stages on the model it trained."""
from functools import partial
from typing import Any, Dict, List

from .config import benchmark_runner_config, in_process
from .flops import gemm_floor, train_flops
from .stages import evaluate, forward_split, post_process
from .timer import EpochTimerHook, median, timed


def bench_in_process(cfg,
                     work_dir: str,
                     train_epochs: int,
                     repeats: int,
                     device: str = 'cpu') -> Dict[str, Any]:
    """Training epochs and round-end stages in this process.

    Trains ``train_epochs`` epochs with :class:`EpochTimerHook` around
    every epoch (the first is a warm-up), measures the arithmetic floor of
    an epoch, then times each round-end stage ``repeats`` times on the
    trained model: (a) ``PseudoLabelHook.regenerate`` with (a1) its
    inference alone, (b) the forward over the test split, (c) its
    post-processing and (d) the mAP.

    Args:
        cfg (mmengine.Config): The loaded config (a RefinementLoop and
            ``default_hooks.pseudo_labels``).
        work_dir (str): The timed Runner's work dir.
        train_epochs (int): Epochs of the timed run (>= 2).
        repeats (int): Repetitions of every round-end stage.
        device (str): ``'cpu'`` or ``'cuda'`` (synchronized around every
            reading).

    Returns:
        dict: One entry per stage (``samples``, ``first``, ``median`` in
        seconds, and the stage's sizes), as in the ``stages`` of the
        report.
    """
    import torch
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    from refineloc_mm.engine.hooks.pseudo_label_hook import (
        PseudoLabelHook, train_dataset)
    from refineloc_mm.engine.optim_wrappers.bf16_optim_wrapper import \
        is_mixed_precision
    from refineloc_mm.utils.malloc import reuse_freed_memory_if_configured
    from refineloc_mm.visualization.progress import Progress

    cuda = device == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    results: Dict[str, Any] = {}

    # ---- training epochs (with the allocator setting of tools/train.py)
    reuse_freed_memory_if_configured(cfg)
    runner_cfg = benchmark_runner_config(cfg, work_dir, train_epochs)
    runner = Runner.from_cfg(runner_cfg)
    record: Dict[str, List[float]] = dict(start=[], end=[])
    runner.register_hook(EpochTimerHook(record, 'start', sync), 'HIGHEST')
    runner.register_hook(EpochTimerHook(record, 'end', sync), 'LOWEST')
    runner.train()
    epochs = [e - s for s, e in zip(record['start'], record['end'])]
    if len(epochs) != train_epochs:
        raise RuntimeError(f'timed {len(epochs)} epochs, expected '
                           f'{train_epochs}')
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    train_set = train_dataset(runner)
    num_train = int(train_set.num_snippets.sum())
    flops_snippet, flops_epoch = train_flops(model, num_train)
    epoch_s = median(epochs[1:])
    results['train_epoch'] = dict(
        samples=epochs,
        warmup=epochs[0],
        median=epoch_s,
        batches=len(runner.train_dataloader),
        videos=len(train_set),
        snippets=num_train,
        flops_per_snippet_forward=flops_snippet,
        flops=flops_epoch)
    results['train_gflops'] = dict(median=flops_epoch / epoch_s / 1e9)
    floor = gemm_floor(model, num_train, len(runner.train_dataloader),
                       is_mixed_precision(runner.optim_wrapper), sync)
    results['train_floor'] = dict(median=floor,
                                  gflops=flops_epoch / floor / 1e9)

    # ---- round-end stages
    test_loader = Runner.build_dataloader(
        in_process(cfg.test_dataloader), seed=runner.seed)
    test_set = test_loader.dataset
    test_fp16 = bool((cfg.get('test_cfg') or {}).get('fp16', False))
    predictor = model.cls_head.post_processor
    model.eval()
    names = ('predict_train', 'regenerate', 'test_forward',
             'post_processing', 'map_thumos')
    times: Dict[str, List[float]] = {n: [] for n in names}
    progress = Progress(
        repeats * len(names), desc='benchmark: round-end stages')
    extra: Dict[str, Any] = {}
    for _ in range(repeats):
        t, segs = timed(
            partial(hook.predict_segments, runner, train_set), sync)
        times['predict_train'].append(t)
        progress.update()
        t, stats = timed(partial(hook.regenerate, runner, 0), sync)
        times['regenerate'].append(t)
        progress.update()
        with torch.no_grad():
            t, outputs = timed(
                partial(forward_split, model, test_loader, test_fp16), sync)
        times['test_forward'].append(t)
        progress.update()
        t, segments = timed(partial(post_process, predictor, outputs),
                            sync)
        times['post_processing'].append(t)
        progress.update()
        videos = [ds for _, batch in outputs for ds in batch]
        samples = [
            dict(
                video_name=ds.metainfo['video_name'],
                pred_segments=seg,
                gt_segments=ds.gt_segments)
            for ds, seg in zip(videos, segments)
        ]
        t, metrics = evaluate(cfg.test_evaluator, test_set.metainfo,
                              samples)
        times['map_thumos'].append(t)
        progress.update()
        extra = dict(
            train_predicted_segments=int(sum(len(s) for s in segs)),
            pseudo_labels=dict(
                coverage=stats.get('coverage'),
                w_fg=stats.get('w_fg')),
            test_videos=len(test_set),
            test_snippets=int(
                sum(ds.metainfo['num_snippets'] for ds in videos)),
            test_predicted_segments=int(sum(len(s) for s in segments)),
            test_metrics=metrics)
    progress.close()
    for name in names:
        results[name] = dict(
            samples=times[name],
            first=times[name][0],
            median=median(times[name]))
    results['generation'] = dict(median=max(
        results['regenerate']['median'] -
        results['predict_train']['median'], 0.0))
    results['round_end'] = dict(median=sum(
        results[n]['median']
        for n in ('regenerate', 'test_forward', 'post_processing',
                  'map_thumos')))
    results['round_end_details'] = extra
    model.train()
    return results
