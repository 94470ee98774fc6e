# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Wall-clock timing of the benchmark: the epoch timer hook, a timed call
and the median (all times ``time.perf_counter()`` seconds; on CUDA the
device is synchronized before every reading)."""
import statistics
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

from mmengine.hooks import Hook


class EpochTimerHook(Hook):
    """Reads the clock at one end of every training epoch.

    Register one instance with ``mark='start'`` at priority ``HIGHEST``
    (before every other ``before_train_epoch``) and one with ``mark='end'``
    at ``LOWEST`` (after every other ``after_train_epoch``); both append to
    the same ``record``.

    Args:
        record (dict): ``{'start': [...], 'end': [...]}``, filled in place.
        mark (str): ``'start'`` or ``'end'``.
        sync (Callable): Called before reading the clock (CUDA sync).
    """

    def __init__(self,
                 record: Dict[str, List[float]],
                 mark: str,
                 sync: Callable[[], None] = lambda: None) -> None:
        if mark not in ('start', 'end'):
            raise ValueError(f'mark must be start or end, got {mark!r}')
        self.record = record
        self.mark = mark
        self.sync = sync

    def before_train_epoch(self, runner) -> None:
        if self.mark == 'start':
            self.sync()
            self.record['start'].append(time.perf_counter())

    def after_train_epoch(self, runner) -> None:
        if self.mark == 'end':
            self.sync()
            self.record['end'].append(time.perf_counter())


def timed(fn: Callable[[], Any],
          sync: Callable[[], None] = lambda: None) -> Tuple[float, Any]:
    """Wall time of ``fn()`` (device synchronized around it) and its
    result."""
    sync()
    tic = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - tic, out


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))
