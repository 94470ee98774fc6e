# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The whole refinement schedule as a user runs it: ``tools/train.py`` in a
subprocess, its wall time, peak memory and best-round mAP@0.5."""
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Any, Dict, Sequence

from .memory import TreeMemorySampler

# the checkout this package lies in (its tools/train.py runs the schedule)
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def run_schedule(config: str,
                 options: Sequence[str],
                 rounds: int,
                 epochs: int,
                 work_dir: str,
                 amp: bool = False,
                 repo: str = REPO) -> Dict[str, Any]:
    """Train ``rounds`` x ``epochs`` with ``tools/train.py`` in a
    subprocess and measure it.

    Args:
        config (str): The config file.
        options (Sequence[str]): ``--cfg-options`` of the run.
        rounds (int): ``--rounds``.
        epochs (int): ``--epochs-per-round``.
        work_dir (str): The run's work dir (its stdout goes to
            ``schedule_stdout.log`` there).
        amp (bool): Pass ``--amp``.
        repo (str): The checkout whose ``tools/train.py`` runs; it is put
            first on the run's ``PYTHONPATH``.

    Returns:
        dict: The command, wall time (s), peak RSS of the largest process
        (``ru_maxrss`` from ``os.wait4``), peak summed RSS / PSS of the
        process tree (:class:`TreeMemorySampler`), and the best round with
        its mAP@0.5 from ``refinement_summary.json``.

    Raises:
        RuntimeError: If the run fails (the message ends with its log).
    """
    cmd = [
        sys.executable,
        osp.join(repo, 'tools', 'train.py'), config, '--rounds',
        str(rounds), '--epochs-per-round',
        str(epochs), '--work-dir', work_dir
    ] + (['--amp'] if amp else [])
    if options:
        cmd += ['--cfg-options', *options]
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'schedule_stdout.log')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [repo] + [p for p in [env.get('PYTHONPATH')] if p])
    print(f'benchmark: {rounds} x {epochs} schedule: {shlex.join(cmd)}')
    with open(log_path, 'w') as log:
        tic = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        sampler = TreeMemorySampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sampler.stop()
        wall = time.perf_counter() - tic
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(log_path) as f:
            tail = f.read()[-4000:]
        raise RuntimeError(f'the schedule failed ({proc.returncode}); '
                           f'{log_path} ends with:\n{tail}')
    with open(osp.join(work_dir, 'refinement_summary.json')) as f:
        summary = json.load(f)
    best = summary.get('best_round')
    per_round = {
        e['round']: e.get('metrics', {}).get('mAP@0.5')
        for e in summary['rounds']
    }
    return dict(
        command=shlex.join(cmd),
        wall_s=wall,
        peak_rss_largest_process_bytes=usage.ru_maxrss * 1024,
        peak_rss_tree_bytes=sampler.peak_rss,
        peak_pss_tree_bytes=sampler.peak_pss,
        max_processes=sampler.max_processes,
        best_round=best,
        best_map50=per_round.get(best),
        map50_per_round=per_round)
