# Copyright (c) refineloc-mm contributors. All rights reserved.
"""A hook that records, inside a training process started by any launcher,
what the runner applied: the allocator setting (glibc ``mallinfo2``), the
optim wrapper, autocast in the loops and the schedule. Imported through a
config's ``custom_imports`` (tests/test_launchers.py)."""
import ctypes
import json
import os.path as osp

import numpy as np
from mmengine.hooks import Hook

from mmaction.registry import HOOKS


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t)
                for n in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd',
                          'usmblks', 'fsmblks', 'uordblks', 'fordblks',
                          'keepcost')]


def mmapped_blocks_of_a_large_allocation() -> int:
    """mmap-ed blocks that a 64 MB array adds (1 with glibc's defaults, 0
    once large blocks come from the heap)."""
    libc = ctypes.CDLL('libc.so.6')
    libc.mallinfo2.restype = MallInfo2
    before = libc.mallinfo2().hblks
    a = np.ones(64 << 20, dtype=np.uint8)
    blocks = libc.mallinfo2().hblks - before
    del a
    return blocks


@HOOKS.register_module()
class RuntimeProbeHook(Hook):
    """Write ``runtime_probe.json`` into the work directory before
    training."""

    def before_train(self, runner) -> None:
        checkpoint = [h for h in runner.hooks
                      if type(h).__name__ == 'CheckpointHook']
        probe = dict(
            runner=type(runner).__name__,
            mmapped_blocks=mmapped_blocks_of_a_large_allocation(),
            optim_wrapper=type(runner.optim_wrapper).__name__,
            val_fp16=bool(getattr(runner.val_loop, 'fp16', False)),
            max_epochs=runner.max_epochs,
            val_interval=runner.train_loop.val_interval,
            loop=type(runner.train_loop).__name__,
            epochs_per_round=getattr(runner.train_loop, 'epochs_per_round',
                                     None),
            checkpoint_interval=[h.interval for h in checkpoint])
        with open(osp.join(runner.work_dir, 'runtime_probe.json'), 'w') as f:
            json.dump(probe, f)
