# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Launcher settings shared by tools/train.py and tools/test.py."""
import torch
from mmengine.config import Config


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


def close_process_group(completed: bool) -> None:
    """Tear down the default process group, if one is open.

    mmengine leaves it open, and gloo aborts at interpreter exit with open
    connections. When the run completed on this rank, a barrier first lets
    every rank finish its last collective before any rank closes the
    connections the others still use (without it, 1 in ~20 two-process
    CPU runs aborted at exit: ``terminate called without an active
    exception``); after an error there is no barrier, which could wait
    forever for a rank that died.

    Args:
        completed (bool): The run ended normally on this rank.
    """
    if not torch.distributed.is_initialized():
        return
    if completed:
        torch.distributed.barrier()
    torch.distributed.destroy_process_group()
