# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Progress of long passes outside the Runner's own logging.

On a terminal this is mmengine's :class:`~mmengine.utils.ProgressBar`; in
a non-interactive log (a file, CI, a captured pipe) it prints at most
about eleven plain lines (0 %, every 10 %, done), so logs are not flooded
with carriage-return updates.

Example::

    from refineloc_mm.visualization import Progress, track_progress
    for name in track_progress(names, desc='converting features'):
        ...
    progress = Progress(len(dataset), desc='scoring')
    for batch in loader:
        ...
        progress.update(len(batch))
    progress.close()
"""
import sys
import time
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

from mmengine.utils import ProgressBar

T = TypeVar('T')


def _interactive(file: TextIO) -> bool:
    isatty = getattr(file, 'isatty', None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed file
        return False


class Progress:
    """Progress of ``total`` tasks.

    Args:
        total (int): Number of tasks (0 if unknown).
        desc (str): What is being done, printed before the progress.
        file (TextIO, optional): Defaults to ``sys.stdout``.
        interactive (bool, optional): Force the terminal bar (True) or the
            plain lines (False). Defaults to whether ``file`` is a tty.
        enabled (bool): False prints nothing. Defaults to True.
    """

    def __init__(self,
                 total: int,
                 desc: str = '',
                 file: Optional[TextIO] = None,
                 interactive: Optional[bool] = None,
                 enabled: bool = True) -> None:
        self.total = int(total or 0)
        self.desc = desc
        self.file = file if file is not None else sys.stdout
        self.enabled = enabled
        self.interactive = _interactive(self.file) \
            if interactive is None else interactive
        self.completed = 0
        self._start = time.time()
        self._next_decile = 1
        self._bar = None
        self._closed = False
        self._printed = -1
        if not enabled:
            return
        if self.interactive:
            if desc:
                self.file.write(f'{desc}\n')
            self._bar = ProgressBar(self.total, file=self.file)
        else:
            self._line()

    def _line(self) -> None:
        elapsed = time.time() - self._start
        prefix = f'{self.desc}: ' if self.desc else ''
        if self.total > 0:
            pct = 100 * self.completed / self.total
            text = (f'{prefix}{self.completed}/{self.total} ({pct:.0f}%), '
                    f'elapsed {elapsed:.0f} s')
            if 0 < self.completed < self.total:
                eta = elapsed * (self.total - self.completed) / self.completed
                text += f', ETA {eta:.0f} s'
        else:
            text = f'{prefix}{self.completed} done, elapsed {elapsed:.0f} s'
        self.file.write(text + '\n')
        self.file.flush()
        self._printed = self.completed

    def update(self, num: int = 1) -> None:
        """``num`` more tasks are done."""
        if num <= 0:
            return
        self.completed += num
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(num)
            return
        if self.total > 0:
            decile = int(10 * self.completed / self.total)
            if decile >= self._next_decile:
                self._next_decile = decile + 1
                self._line()

    def close(self) -> None:
        """End the progress (a newline after the bar; in a log, the final
        count unless it was just printed)."""
        if self._closed or not self.enabled:
            return
        self._closed = True
        if self._bar is not None:
            self.file.write('\n')
            self.file.flush()
        elif self._printed != self.completed:
            self._line()

    def __enter__(self) -> 'Progress':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track_progress(iterable: Iterable[T],
                   total: Optional[int] = None,
                   desc: str = '',
                   file: Optional[TextIO] = None,
                   interactive: Optional[bool] = None,
                   enabled: bool = True) -> Iterator[T]:
    """Yield the items of ``iterable`` while showing the progress; the
    total defaults to ``len(iterable)`` when it has one."""
    if total is None:
        total = len(iterable) if hasattr(iterable, '__len__') else 0
    with Progress(total, desc, file, interactive, enabled) as progress:
        for item in iterable:
            yield item
            progress.update()
