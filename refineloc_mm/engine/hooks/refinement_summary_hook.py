# Copyright (c) refineloc-mm contributors. All rights reserved.
"""What a refinement round leaves to read: the summary, scalars and
timelines."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import get_dist_info, master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmaction.registry import HOOKS
from ..runner.refinement_loop import RefinementLoop, refinement_loop
from .pseudo_label_hook import atomic_write, train_dataset

SUMMARY_FILE = 'refinement_summary.json'


@HOOKS.register_module()
class RefinementSummaryHook(Hook):
    """After each refinement round (``after_train_round`` of
    :class:`RefinementLoop`): write ``work_dir/refinement_summary.json``
    (the loop's round records and best round), send the round's metrics and
    the statistics of the labels that supervised it to the visualizer
    (``refinement/<metric>``, ``refinement/pgt_<stat>``, the round as
    step) and draw the timelines of some training videos
    (``timeline/<video>``) with every round's pseudo labels seen so far,
    kept in memory from the dataset.

    Active only under a :class:`RefinementLoop`.

    Args:
        timeline_videos (Sequence[str], optional): Training videos whose
            timeline (see ``tools/visualize.py``) is drawn after each round.
            Defaults to None.
        num_timeline_videos (int): Without ``timeline_videos``, draw the
            first this many training videos. Defaults to 0 (none).
    """

    priority = 'NORMAL'

    def __init__(self,
                 timeline_videos: Optional[Sequence[str]] = None,
                 num_timeline_videos: int = 0) -> None:
        self.timeline_videos = list(timeline_videos or [])
        self.num_timeline_videos = num_timeline_videos
        self._timeline_indices: List[int] = []
        # round -> video index -> [T] labels of the timeline videos
        self._labels: Dict[int, Dict[int, np.ndarray]] = {}

    def before_train(self, runner: Runner) -> None:
        loop = refinement_loop(runner)
        if loop is None:
            return
        dataset = train_dataset(runner)
        self._timeline_indices = self._select_timeline_videos(dataset)
        self._labels = {}
        if (dataset.labels >= 0).any():  # resumed after a round
            self._keep_labels(dataset, loop.round)

    def _select_timeline_videos(self, dataset) -> List[int]:
        if not self.timeline_videos:
            return list(range(min(self.num_timeline_videos, len(dataset))))
        index = {n: i for i, n in enumerate(dataset.video_names)}
        missing = [n for n in self.timeline_videos if n not in index]
        if missing:
            raise ValueError(
                f'RefinementSummaryHook: timeline_videos {missing} are not '
                f'in the training split (e.g. {dataset.video_names[:3]}).')
        return [index[n] for n in self.timeline_videos]

    def _keep_labels(self, dataset, round_idx: int) -> None:
        """The timeline videos' labels that supervise ``round_idx``."""
        offsets = dataset.offsets
        self._labels[round_idx] = {
            i: dataset.labels[offsets[i]:offsets[i + 1]].astype(np.int64)
            for i in self._timeline_indices
        }

    def after_train_round(self, runner: Runner, round_idx: int) -> None:
        loop = refinement_loop(runner)
        if loop is None:
            return
        record = loop.round_record(round_idx)
        if 'pseudo_labels_generated' in record:
            self._keep_labels(train_dataset(runner), round_idx + 1)
        self._write_summary(runner, loop)
        scalars = {
            f'refinement/{k}': v
            for k, v in record.get('metrics', {}).items()
        }
        scalars.update({
            f'refinement/pgt_{k}': v
            for k, v in record.get('pseudo_labels_used', {}).items()
            if isinstance(v, float)
        })
        if scalars:
            runner.visualizer.add_scalars(scalars, step=round_idx)
        if not self._timeline_indices or get_dist_info()[0] != 0:
            return
        try:
            self._draw_timelines(runner, round_idx)
        except Exception as e:  # never stop a training run for a plot
            runner.logger.warning(
                f'Refinement round {round_idx}: timelines not drawn: '
                f'{type(e).__name__}: {e}')

    @staticmethod
    @master_only
    def _write_summary(runner: Runner, loop: RefinementLoop) -> None:
        doc = dict(
            best_metric=loop.best_metric,
            best_round=loop.best_round(),
            selection=('each round ends at its last epoch; the best round '
                       f'maximizes {loop.best_metric} on the validation '
                       'split'),
            rounds=loop.records)
        path = osp.join(runner.work_dir, SUMMARY_FILE)
        atomic_write(path, lambda p: json.dump(doc, open(p, 'w'), indent=2))

    def _draw_timelines(self, runner: Runner, round_idx: int) -> None:
        from ...visualization import (add_image_to_visualizer,
                                      figure_to_rgb, plot_timeline,
                                      score_videos)
        dataset = train_dataset(runner)
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        classes = dataset.metainfo['classes']
        for i, data in zip(
                self._timeline_indices,
                score_videos(model, dataset.dataset,
                             self._timeline_indices)):
            data.pseudo_labels = {
                r: labels[i]
                for r, labels in sorted(self._labels.items())
            }
            data.subtitle = f'model after round {round_idx}'
            image = figure_to_rgb(plot_timeline(data, classes))
            add_image_to_visualizer(runner.visualizer,
                                    f'timeline/{data.video_name}', image,
                                    round_idx)
