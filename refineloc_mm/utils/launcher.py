# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Launcher settings shared by tools/train.py and tools/test.py."""
import gc
import glob
import logging
from typing import List

import torch
from mmengine.config import Config
from mmengine.logging import print_log


def set_launcher(cfg: Config, launcher: str) -> Config:
    """Set ``cfg.launcher``; without CUDA, distributed runs use gloo.

    MMAction2 configs default to the nccl backend, which needs GPUs; on a
    CPU-only machine ``--launcher pytorch`` then switches to gloo, and the
    DDP wrapper gets no device ids (mmengine's default names the local
    GPU).
    """
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        env_cfg = cfg.setdefault('env_cfg', {})
        env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False)
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    return cfg


def collective_threads() -> List[str]:
    """Names of this process's native threads that belong to a collective
    backend (gloo's ``pt_gloo_runloop`` workers and ``gloo_tcp_loop``, NCCL
    watchdogs); empty where ``/proc`` is unavailable."""
    names = []
    for path in glob.glob('/proc/self/task/*/comm'):
        try:
            with open(path) as f:
                name = f.read().strip()
        except OSError:  # the thread ended meanwhile
            continue
        if 'gloo' in name or 'nccl' in name:
            names.append(name)
    return sorted(names)


def close_process_group(completed: bool) -> None:
    """Tear down the default process group, if one is open, and check that
    its backend threads have ended.

    Call it after the last reference to the runner was dropped (``del
    runner``). ``destroy_process_group`` only unregisters the group: the
    backend object, and with it gloo's worker threads (``pt_gloo_runloop``)
    and TCP loop thread (``gloo_tcp_loop``), lives as long as something
    holds it, and the DDP wrapper of the runner's model does (objects of a
    run can sit in reference cycles that only the garbage collector frees).
    Those threads then ran until interpreter finalization tore the objects
    down in no defined order, and about 1 in 20 two-process CPU runs
    aborted there after completing (``terminate called without an active
    exception``). Here, a barrier first lets every rank finish its last
    collective (only when the run completed: after an error it could wait
    forever for a rank that died); ``gc.collect()`` frees the runner, so
    that destroying the group destroys the backend and joins its threads
    now, in the main thread, with the interpreter fully alive. Threads
    left over after a completed run are reported as a warning.

    Args:
        completed (bool): The run ended normally on this rank.
    """
    if not torch.distributed.is_initialized():
        return
    if completed:
        torch.distributed.barrier()
    gc.collect()
    torch.distributed.destroy_process_group()
    leftover = collective_threads()
    if completed and leftover:
        print_log(
            f'process group destroyed but still referenced: backend threads '
            f'{leftover} outlive it and can abort the interpreter at exit '
            '(drop every reference to the runner and its model before '
            'close_process_group)',
            logger='current',
            level=logging.WARNING)
