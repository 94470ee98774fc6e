# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Keep freed memory in the process for reuse (glibc ``mallopt``).

A RefineLoc batch is a few large tensors (the packed snippet features of
32 videos are ~45 MB at THUMOS scale) allocated and freed every
iteration. glibc serves blocks above its mmap threshold (at most 32 MB)
with fresh ``mmap`` pages and gives freed heap tops back to the kernel, so
every batch pays page faults and kernel zeroing for memory it just
released: about 12 % of a bfloat16 training epoch and of the round-end
inference passes on a 2-core CPU (see docs/benchmarks.md).
PyTorch's CPU tuning guide fixes this by preloading jemalloc or tcmalloc;
this does the same with the C library already loaded: every allocation
comes from the heap (``M_MMAP_MAX = 0``) and freed memory stays there
(``M_TRIM_THRESHOLD``), so later batches reuse warm pages. The price is a
peak RSS that does not shrink after the largest batch.

:class:`~refineloc_mm.engine.RefineLocRunner` applies it when the config
says ``reuse_freed_memory = True`` (``configs/_base_/default_runtime.py``),
under every launcher, before the runner is built; DataLoader workers
forked afterwards inherit it.
"""
import ctypes
import ctypes.util
import logging
import platform

from mmengine.logging import print_log

# mallopt parameters of glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
# keep up to this many freed bytes at the top of the heap
TRIM_THRESHOLD = 1 << 30


def reuse_freed_memory() -> bool:
    """Serve large allocations from the heap and keep freed memory.

    Returns:
        bool: Whether the allocator was tuned (glibc only; elsewhere
        nothing changes and False is returned).
    """
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        done = libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(
            M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    except (OSError, AttributeError) as e:
        print_log(f'reuse_freed_memory: cannot tune malloc: {e}',
                  logger='current', level=logging.WARNING)
        return False
    return done


def reuse_freed_memory_if_configured(cfg) -> bool:
    """:func:`reuse_freed_memory` when ``cfg.reuse_freed_memory`` is set
    (called by :class:`~refineloc_mm.engine.RefineLocRunner` before the
    runner is built)."""
    return reuse_freed_memory() if cfg.get('reuse_freed_memory',
                                           False) else False
