# Runtime shared by every RefineLoc config (OpenMMLab conventions).
default_scope = 'mmaction'
# (custom_imports: each model's base config imports its subpackage of
# refineloc_mm.base_models, which imports refineloc_mm)
# Applies what the config asks for below (reuse_freed_memory, AMP on CPU)
# under every launcher: this project's tools, MMAction2's tools/train.py
# and tools/test.py, `mim train` / `mim test`
# (refineloc_mm/engine/runner/refineloc_runner.py)
runner_type = 'RefineLocRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # 'round': at the end of every refinement round (RefinementLoop sets
    # it to epochs_per_round); a config with another train loop gives an
    # integer
    checkpoint=dict(
        type='CheckpointHook', interval='round', max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    # model.cls_head.in_channels against the datasets' feature width,
    # before anything runs
    input_width=dict(type='InputWidthCheckHook'),
    # The refinement's two hooks, active under train_cfg's RefinementLoop
    # (configs/_base_/schedules/adam_refinement.py) and idle under any
    # other loop. Being dict entries (not a custom_hooks list), a child
    # config changes one key and keeps the rest, e.g.
    #   default_hooks = dict(pseudo_labels=dict(generator=dict(dropout=0.2)))
    # - after each round but the last, score the training split and give
    #   the generator's pseudo labels to the dataset (PseudoLabelHook)
    pseudo_labels=dict(
        type='PseudoLabelHook', generator=dict(type='PseudoGTGenerator')),
    # - after each round, refinement_summary.json, scalars and (with
    #   num_timeline_videos / timeline_videos) timelines
    refinement_summary=dict(type='RefinementSummaryHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

# glibc: large per-batch tensors reuse freed heap memory instead of fresh
# pages (refineloc_mm/utils/malloc.py), applied by RefineLocRunner
reuse_freed_memory = True

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
