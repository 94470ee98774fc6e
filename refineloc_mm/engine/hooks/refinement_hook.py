# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Iterative refinement of RefineLoc as an mmengine hook.

Training is a sequence of rounds of ``epochs_per_round`` epochs. At the end
of round r (``after_train_epoch``) the round's model scores the whole
training set (``snippet_scores`` and ``post_process`` of the base-model
contract, :class:`BaseSnippetLocalizer`: RefineLoc, W-TALC, BaS-Net or any
other base model alike), the pseudo ground truth generator writes new snippet
labels
into the :class:`PseudoLabelDataset` (seen by every DataLoader worker) and
their statistics against the true foreground are logged. Validation then
scores round r (``after_val_epoch``) and the round's entry is written to
``work_dir/refinement_summary.json``. With ``reset=True`` the first epoch of
round r + 1 (``before_train_epoch``) starts from a fresh model, a fresh
optimizer state and freshly built parameter schedulers.

The round index follows from the epoch, and the pseudo labels, their
history and the summary travel in every checkpoint, so ``--resume``
continues exactly where the run stopped.
"""
import copy
import hashlib
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.amp import autocast
from torch.utils.data import DataLoader, Subset

from mmaction.registry import HOOKS, TASK_UTILS
from ...datasets.collate import packed_snippet_collate
from ...datasets.pseudo_label_dataset import PseudoLabelDataset
from ..optim_wrappers.bf16_optim_wrapper import is_mixed_precision
from ...models.task_modules.pseudo_gt_generator import label_statistics
from ...visualization.progress import Progress

SUMMARY_FILE = 'refinement_summary.json'


def atomic_write(path: str, write) -> None:
    """Write through a temporary file and rename it over ``path``."""
    tmp = f'{path}.tmp{os.getpid()}'
    write(tmp)
    os.replace(tmp, path)


@HOOKS.register_module()
class RefinementHook(Hook):
    """Regenerate pseudo ground truth after every refinement round.

    Args:
        epochs_per_round (int): Epochs of one round.
        generator (dict): Config of :class:`PseudoGTGenerator` (the
            refinement thresholds, m, dropout, source).
        reset (bool): Start each round from a fresh model, optimizer state
            and schedule. Defaults to True.
        best_metric (str): Validation metric that picks the best round.
            Defaults to ``'mAP@0.5'``.
        early_stop_rounds (int, optional): Stop when ``best_metric`` has
            not improved for this many rounds. Defaults to None (never).
        batch_size (int): Videos per batch when scoring the training set.
            Defaults to 32.
        num_workers (int): DataLoader workers for that pass. Defaults to 0.
        save_round_checkpoints (bool): Save ``round_{r}.pth`` (weights and
            refinement state) after each round. Defaults to True.
        timeline_videos (Sequence[str], optional): Training videos whose
            timeline (see ``tools/visualize.py``) is sent to the runner's
            visualizer after each round, as ``timeline/<video>`` with the
            round as step. Defaults to None.
        num_timeline_videos (int): Without ``timeline_videos``, draw the
            first this many training videos. Defaults to 0 (none).
        progress_bar (bool): Show a progress bar while the training split
            is scored for new pseudo labels. Defaults to True.
        fp16 (bool, optional): Score the training split under autocast
            (bfloat16 on CPU, float16 on CUDA), as mmengine's
            ``ValLoop(fp16=True)`` does. Defaults to None: autocast exactly
            when the model trains under mixed precision (``--amp``:
            ``AmpOptimWrapper`` or ``BFloat16OptimWrapper``).

    Besides the label statistics, the validation metrics and the
    statistics of the labels that supervised the round go to the
    visualizer after each round, keyed ``refinement/<metric>`` and
    ``refinement/pgt_<stat>`` with the round as step.
    """

    priority = 'NORMAL'

    def __init__(self,
                 epochs_per_round: int,
                 generator: dict = dict(type='PseudoGTGenerator'),
                 reset: bool = True,
                 best_metric: str = 'mAP@0.5',
                 early_stop_rounds: Optional[int] = None,
                 batch_size: int = 32,
                 num_workers: int = 0,
                 save_round_checkpoints: bool = True,
                 timeline_videos: Optional[Sequence[str]] = None,
                 num_timeline_videos: int = 0,
                 progress_bar: bool = True,
                 fp16: Optional[bool] = None) -> None:
        if epochs_per_round < 1:
            raise ValueError('epochs_per_round must be >= 1')
        self.epochs_per_round = epochs_per_round
        self.generator = TASK_UTILS.build(generator)
        self.reset = reset
        self.best_metric = best_metric
        self.early_stop_rounds = early_stop_rounds
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.save_round_checkpoints = save_round_checkpoints
        self.timeline_videos = list(timeline_videos or [])
        self.num_timeline_videos = num_timeline_videos
        self.progress_bar = progress_bar
        self.fp16 = fp16
        self.history: List[np.ndarray] = []
        self.summary: List[Dict] = []
        self._loaded_state: Optional[dict] = None

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _dataset(runner: Runner) -> PseudoLabelDataset:
        dataset = runner.train_dataloader.dataset
        if not isinstance(dataset, PseudoLabelDataset):
            raise TypeError(
                'RefinementHook needs train_dataloader.dataset to be a '
                f'PseudoLabelDataset, got {type(dataset).__name__}.')
        return dataset

    def _autocast_enabled(self, runner: Runner) -> bool:
        """Whether the training split is scored under autocast."""
        if self.fp16 is not None:
            return self.fp16
        return is_mixed_precision(getattr(runner, 'optim_wrapper', None))

    @staticmethod
    def _model(runner: Runner) -> torch.nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _round_of_epoch(self, epoch: int) -> int:
        return epoch // self.epochs_per_round

    def _entry(self, round_idx: int) -> Dict:
        for entry in self.summary:
            if entry['round'] == round_idx:
                return entry
        entry = dict(round=round_idx)
        self.summary.append(entry)
        return entry

    @master_only
    def _write_summary(self, runner: Runner) -> None:
        best = self.best_round()
        doc = dict(
            best_metric=self.best_metric,
            best_round=best,
            selection=('each round ends at its last epoch; the best round '
                       f'maximizes {self.best_metric} on the validation '
                       'split'),
            rounds=self.summary)
        path = osp.join(runner.work_dir, SUMMARY_FILE)
        atomic_write(path, lambda p: json.dump(doc, open(p, 'w'), indent=2))

    def best_round(self) -> Optional[int]:
        """Round with the highest ``best_metric`` so far (None if none)."""
        scored = [(e['metrics'][self.best_metric], -e['round'])
                  for e in self.summary
                  if self.best_metric in e.get('metrics', {})]
        return -max(scored)[1] if scored else None

    # ------------------------------------------------------ train events
    def before_train(self, runner: Runner) -> None:
        dataset = self._dataset(runner)
        state = self._loaded_state
        if state is not None:
            dataset.set_labels(state['labels'].numpy(), state['fg_weight'])
            self.history = [h.numpy().astype(bool) for h in state['history']]
            self.summary = json.loads(state['summary'])
            self._loaded_state = None
        self._timeline_indices = self._select_timeline_videos(dataset)
        self._initial_lrs = [[
            group.get('initial_lr', group['lr'])
            for group in optim.param_groups
        ] for optim in self._optimizers(runner)]

    @staticmethod
    def _optimizers(runner: Runner) -> List[torch.optim.Optimizer]:
        wrapper = runner.optim_wrapper
        if hasattr(wrapper, 'optim_wrappers'):  # OptimWrapperDict
            return [w.optimizer for w in wrapper.optim_wrappers.values()]
        return [wrapper.optimizer]

    def before_train_epoch(self, runner: Runner) -> None:
        epoch = runner.epoch
        if self.reset and epoch > 0 and epoch % self.epochs_per_round == 0:
            self._reset(runner, self._round_of_epoch(epoch))

    def _reset(self, runner: Runner, round_idx: int) -> None:
        """Fresh weights (seeded by round), optimizer state and schedule."""
        model = self._model(runner)
        devices = [torch.cuda.current_device()
                   ] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed((runner.seed or 0) + round_idx)
            model.reset_parameters()
        for optim, lrs in zip(self._optimizers(runner), self._initial_lrs):
            optim.state = defaultdict(dict)
            for group, lr in zip(optim.param_groups, lrs):
                group['lr'] = lr
        if runner.param_schedulers is not None and runner.cfg.get(
                'param_scheduler'):
            runner.param_schedulers = runner.build_param_scheduler(
                copy.deepcopy(runner.cfg.param_scheduler))
        runner.logger.info(
            f'Refinement round {round_idx}: model, optimizer and schedule '
            'reset.')

    def after_train_epoch(self, runner: Runner) -> None:
        done = runner.epoch + 1
        if done % self.epochs_per_round != 0:
            return
        round_idx = self._round_of_epoch(done) - 1
        dataset = self._dataset(runner)
        entry = self._entry(round_idx)
        entry['end_epoch'] = done
        entry['pseudo_labels_used'] = self._current_label_stats(dataset)
        if done < runner.max_epochs:
            entry['pseudo_labels_generated'] = self.regenerate(
                runner, round_idx)
        if not self._will_validate(runner, done):
            self._finish_round(runner, round_idx)

    @staticmethod
    def _current_label_stats(dataset: PseudoLabelDataset) -> Dict:
        labels = dataset.labels
        if not (labels >= 0).any():
            return dict(coverage=0.0)
        return label_statistics(labels, dataset.fg_masks)

    @staticmethod
    def _will_validate(runner: Runner, done: int) -> bool:
        loop = runner.train_loop
        if getattr(runner, '_val_loop', None) is None:
            return False
        return done >= loop.val_begin and (done % loop.val_interval == 0
                                           or done == runner.max_epochs)

    def after_val_epoch(self,
                        runner: Runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        done = runner.epoch
        if done == 0 or done % self.epochs_per_round != 0:
            return
        round_idx = self._round_of_epoch(done) - 1
        self._entry(round_idx)['metrics'] = {
            k: float(v)
            for k, v in (metrics or {}).items()
        }
        self._finish_round(runner, round_idx)

    def _finish_round(self, runner: Runner, round_idx: int) -> None:
        self._write_summary(runner)
        if self.save_round_checkpoints:
            runner.save_checkpoint(
                runner.work_dir,
                f'round_{round_idx}.pth',
                save_optimizer=False,
                save_param_scheduler=False)
        entry = self._entry(round_idx)
        runner.logger.info(f'Refinement round {round_idx} done: '
                           + json.dumps(entry))
        self._visualize_round(runner, round_idx, entry)
        best = self.best_round()
        if (self.early_stop_rounds is not None and best is not None
                and round_idx - best >= self.early_stop_rounds):
            runner.logger.info(
                f'Refinement stops: {self.best_metric} has not improved for '
                f'{round_idx - best} rounds (best round {best}).')
            runner.train_loop.stop_training = True

    # ------------------------------------------------------ regeneration
    @torch.no_grad()
    def regenerate(self, runner: Runner, round_idx: int) -> Dict:
        """Score the training set with the round's model and replace the
        pseudo labels. Returns the new labels' statistics."""
        dataset = self._dataset(runner)
        segments = None
        if self.generator.needs_predictions:
            segments = self._predict_train_split(runner, dataset)
        fg = self.generator.foreground(
            dataset.num_snippets,
            dataset.fps,
            dataset.snippet_size,
            round_idx,
            segments=segments,
            fg_mask=dataset.fg_masks)
        keep = self.generator.from_m_iterations
        self.history = (self.history + [fg])[-keep:]
        labels = self.generator(self.history, dataset.num_snippets, round_idx)
        stats = label_statistics(labels, dataset.fg_masks)
        stats['digest'] = self._check_identical_across_ranks(labels)
        dataset.set_labels(labels, stats['w_fg'])
        self._save_labels(runner, dataset, labels, round_idx + 1)
        runner.logger.info(
            f'Pseudo labels for round {round_idx + 1}: ' + ', '.join(
                f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}'
                for k, v in stats.items()))
        runner.visualizer.add_scalars(
            {
                f'refinement/{k}': v
                for k, v in stats.items() if isinstance(v, float)
            },
            step=runner.epoch + 1)
        return stats

    @staticmethod
    def _check_identical_across_ranks(labels: np.ndarray) -> str:
        """SHA-1 of the labels, verified equal on every rank."""
        digest = hashlib.sha1(labels.tobytes()).hexdigest()
        _, world_size = get_dist_info()
        if world_size > 1:
            digests = all_gather_object(digest)
            if len(set(digests)) != 1:
                raise RuntimeError(
                    f'pseudo labels differ across ranks: {digests}')
        return digest

    def _predict_train_split(self, runner: Runner,
                             dataset: PseudoLabelDataset) -> List[np.ndarray]:
        """Segments of every training video, in dataset order.

        Under data parallelism rank r scores videos r, r + W, r + 2W, ...
        (every video exactly once, no padding) and the segments are
        gathered on all ranks.
        """
        model = self._model(runner)
        was_training = model.training
        model.eval()
        rank, world_size = get_dist_info()
        indices = list(range(rank, len(dataset), world_size))
        loader = DataLoader(
            Subset(dataset.dataset, indices),
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=packed_snippet_collate)
        segments: List[np.ndarray] = []
        progress = Progress(
            len(loader.dataset),
            desc='Pseudo labels: scoring the training videos',
            enabled=self.progress_bar and rank == 0)
        device_type = next(model.parameters()).device.type
        fp16 = self._autocast_enabled(runner)
        # the training precision's dtype (AmpOptimWrapper may use bf16)
        dtype = getattr(runner.optim_wrapper, 'cast_dtype', None) \
            if fp16 else None
        for data in loader:
            data = model.data_preprocessor(data, False)
            with autocast(device_type=device_type, dtype=dtype,
                          enabled=fp16):
                out = model.snippet_scores(data['inputs'],
                                           data['data_samples'])
            segments.extend(
                self.generator.segments(model, out, data['data_samples']))
            progress.update(len(data['data_samples']))
        progress.close()
        model.train(was_training)
        if world_size == 1:
            return segments
        ordered: List[np.ndarray] = [None] * len(dataset)  # type: ignore
        for idx, segs in all_gather_object((indices, segments)):
            for i, seg in zip(idx, segs):
                ordered[i] = seg
        return ordered

    @staticmethod
    @master_only
    def _save_labels(runner: Runner, dataset: PseudoLabelDataset,
                     labels: np.ndarray, round_idx: int) -> None:
        folder = osp.join(runner.work_dir, 'pseudo_labels')
        os.makedirs(folder, exist_ok=True)

        def write(path: str) -> None:
            with open(path, 'wb') as f:
                np.savez_compressed(
                    f,
                    labels=labels,
                    offsets=dataset.offsets,
                    video_names=np.array(dataset.video_names))

        atomic_write(osp.join(folder, f'round_{round_idx}.npz'), write)

    # ------------------------------------------------------ visual logging
    def _select_timeline_videos(self,
                                dataset: PseudoLabelDataset) -> List[int]:
        if not self.timeline_videos:
            return list(range(min(self.num_timeline_videos, len(dataset))))
        index = {n: i for i, n in enumerate(dataset.video_names)}
        missing = [n for n in self.timeline_videos if n not in index]
        if missing:
            raise ValueError(
                f'RefinementHook: timeline_videos {missing} are not in the '
                f'training split (e.g. {dataset.video_names[:3]}).')
        return [index[n] for n in self.timeline_videos]

    def _visualize_round(self, runner: Runner, round_idx: int,
                         entry: Dict) -> None:
        """Per-round scalars and timelines to the runner's visualizer."""
        scalars = {
            f'refinement/{k}': v
            for k, v in entry.get('metrics', {}).items()
        }
        scalars.update({
            f'refinement/pgt_{k}': v
            for k, v in entry.get('pseudo_labels_used', {}).items()
            if isinstance(v, float)
        })
        if scalars:
            runner.visualizer.add_scalars(scalars, step=round_idx)
        indices = getattr(self, '_timeline_indices', [])
        if not indices or get_dist_info()[0] != 0:
            return
        try:
            self._draw_timelines(runner, round_idx, indices)
        except Exception as e:  # never stop a training run for a plot
            runner.logger.warning(
                f'Refinement round {round_idx}: timelines not drawn: '
                f'{type(e).__name__}: {e}')

    def _draw_timelines(self, runner: Runner, round_idx: int,
                        indices: List[int]) -> None:
        from ...visualization import (add_image_to_visualizer,
                                      figure_to_rgb,
                                      load_pseudo_label_rounds,
                                      plot_timeline, score_videos,
                                      video_pseudo_labels)
        dataset = self._dataset(runner)
        rounds = load_pseudo_label_rounds(runner.work_dir)
        classes = dataset.metainfo['classes']
        for data in score_videos(self._model(runner), dataset.dataset,
                                 indices):
            data.pseudo_labels = video_pseudo_labels(
                rounds, data.video_name, data.num_snippets)
            data.subtitle = f'model after round {round_idx}'
            image = figure_to_rgb(plot_timeline(data, classes))
            add_image_to_visualizer(runner.visualizer,
                                    f'timeline/{data.video_name}', image,
                                    round_idx)

    # -------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        dataset = self._dataset(runner)
        w = dataset.fg_weight
        checkpoint['refinement'] = dict(
            labels=torch.from_numpy(dataset.labels),
            fg_weight=None if np.isnan(w) else w,
            history=[torch.from_numpy(h) for h in self.history],
            summary=json.dumps(self.summary),
            epochs_per_round=self.epochs_per_round,
            rounds_done=sum('end_epoch' in e for e in self.summary))

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Keep the refinement state of a resumed checkpoint; ``load_from``
        (fine-tuning from weights) starts a fresh refinement."""
        state = checkpoint.get('refinement')
        if not runner.cfg.get('resume', False):
            state = None
        if state is not None and state['fg_weight'] is None:
            state['fg_weight'] = float('nan')
        self._loaded_state = state
