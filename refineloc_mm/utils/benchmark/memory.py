# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Peak memory of a process tree, sampled from ``/proc``."""
import os
import threading
from typing import List, Tuple


def _children(pid: int) -> List[int]:
    kids = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def _rollup(pid: int) -> Tuple[int, int]:
    """(RSS, PSS) in bytes of ``pid`` (0, 0 when unreadable)."""
    rss = pss = 0
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Rss:'):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith('Pss:'):
                    pss = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return rss, pss


class TreeMemorySampler(threading.Thread):
    """Peak summed RSS and PSS of a process tree, sampled every
    ``interval`` seconds from ``/proc`` until :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.max_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            pids, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo += _children(pid)
            usage = [_rollup(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(u[0] for u in usage))
            self.peak_pss = max(self.peak_pss, sum(u[1] for u in usage))
            self.max_processes = max(self.max_processes, len(pids))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
