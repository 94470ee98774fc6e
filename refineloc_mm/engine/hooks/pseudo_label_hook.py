# Copyright (c) refineloc-mm contributors. All rights reserved.
"""New pseudo ground truth after every refinement round."""
import hashlib
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch.utils.data import DataLoader, Subset

from mmaction.registry import HOOKS, TASK_UTILS
from ...datasets.collate import packed_snippet_collate
from ...datasets.pseudo_label_dataset import PseudoLabelDataset
from ...models.scoring import score_split
from ...models.task_modules.pseudo_gt_generator import label_statistics
from ...visualization.progress import Progress
from ..optim_wrappers.bf16_optim_wrapper import is_mixed_precision
from ..runner.refinement_loop import refinement_loop


def atomic_write(path: str, write) -> None:
    """Write through a temporary file and rename it over ``path``."""
    tmp = f'{path}.tmp{os.getpid()}'
    write(tmp)
    os.replace(tmp, path)


def train_dataset(runner: Runner) -> PseudoLabelDataset:
    """The runner's training dataset, which must hold pseudo labels."""
    dataset = runner.train_dataloader.dataset
    if not isinstance(dataset, PseudoLabelDataset):
        raise TypeError(
            'The refinement needs train_dataloader.dataset to be a '
            f'PseudoLabelDataset, got {type(dataset).__name__}.')
    return dataset


def current_label_statistics(dataset: PseudoLabelDataset) -> Dict:
    """Statistics of the labels in the dataset (``coverage=0`` when there
    are none yet)."""
    labels = dataset.labels
    if not (labels >= 0).any():
        return dict(coverage=0.0)
    return label_statistics(labels, dataset.fg_masks)


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """At the end of each refinement round but the last: score the training
    split with the round's model, turn the scores into pseudo labels with
    the generator and give them to the dataset for the next round.

    Active only under a :class:`RefinementLoop` (otherwise it does
    nothing), which says when a round ends. In the round's last
    ``after_train_epoch`` (before the ``CheckpointHook`` saves, so the
    epoch's checkpoint carries the new labels):

    1. the round's model scores the training split
       (:func:`~refineloc_mm.models.scoring.score_split`; under data
       parallelism rank r scores videos r, r + W, ..., and the segments are
       gathered on every rank);
    2. the generator (:class:`PseudoGTGenerator`, which keeps the history
       of the last m rounds) turns the segments into labels; they are
       checked equal on every rank;
    3. :meth:`PseudoLabelDataset.set_labels` makes them the next round's
       supervision (seen by every DataLoader worker);
    4. they are saved as ``work_dir/pseudo_labels/round_{r + 1}.npz``.

    The statistics of the labels that supervised the round
    (``pseudo_labels_used``) and of the new ones
    (``pseudo_labels_generated``) go to the loop's round record. The labels
    and the generator's state travel in every checkpoint (key
    ``refinement``) and are restored on ``--resume``.

    Args:
        generator (dict): Config of :class:`PseudoGTGenerator` (source,
            post-processor or thresholds, m, dropout).
        batch_size (int): Videos per batch when scoring the training set.
            Defaults to 32.
        num_workers (int): DataLoader workers for that pass. Defaults to 0.
        progress_bar (bool): Show a progress bar while scoring. Defaults to
            True.
        fp16 (bool, optional): Score under autocast (bfloat16 on CPU,
            float16 on CUDA), as mmengine's ``ValLoop(fp16=True)``.
            Defaults to None: exactly when the model trains under mixed
            precision (``AmpOptimWrapper`` or ``BFloat16OptimWrapper``).
    """

    priority = 'NORMAL'

    def __init__(self,
                 generator: dict = dict(type='PseudoGTGenerator'),
                 batch_size: int = 32,
                 num_workers: int = 0,
                 progress_bar: bool = True,
                 fp16: Optional[bool] = None) -> None:
        self.generator = TASK_UTILS.build(generator)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.progress_bar = progress_bar
        self.fp16 = fp16
        self._loaded_state: Optional[dict] = None

    # ------------------------------------------------------ train events
    def before_train(self, runner: Runner) -> None:
        if refinement_loop(runner) is None:
            return
        dataset = train_dataset(runner)
        state, self._loaded_state = self._loaded_state, None
        if state is not None:
            w = state['fg_weight']
            dataset.set_labels(state['labels'].numpy(),
                               float('nan') if w is None else w)
            # checkpoints of the former RefinementHook kept the history
            # beside the labels
            self.generator.load_state_dict(
                state.get('generator') or dict(history=state['history']))

    def after_train_epoch(self, runner: Runner) -> None:
        loop = refinement_loop(runner)
        if loop is None or not loop.at_round_end:
            return
        dataset = train_dataset(runner)
        record = loop.round_record(loop.round)
        record['pseudo_labels_used'] = current_label_statistics(dataset)
        if not loop.at_last_round:
            record['pseudo_labels_generated'] = self.regenerate(
                runner, loop.round)

    # ------------------------------------------------------ regeneration
    @torch.no_grad()
    def regenerate(self, runner: Runner, round_idx: int) -> Dict:
        """Score the training set with the round's model and replace the
        pseudo labels. Returns the new labels' statistics."""
        dataset = train_dataset(runner)
        segments = None
        if self.generator.needs_predictions:
            segments = self.predict_segments(runner, dataset)
        labels = self.generator.update(
            dataset.num_snippets,
            dataset.fps,
            dataset.snippet_size,
            round_idx,
            segments=segments,
            fg_mask=dataset.fg_masks)
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

    def _autocast_enabled(self, runner: Runner) -> bool:
        if self.fp16 is not None:
            return self.fp16
        return is_mixed_precision(getattr(runner, 'optim_wrapper', None))

    def predict_segments(self, runner: Runner,
                         dataset: PseudoLabelDataset) -> List[np.ndarray]:
        """Segments of every training video, in dataset order.

        Under data parallelism rank r scores videos r, r + W, r + 2W, ...
        (every video exactly once, no padding) and the segments are
        gathered on all ranks.
        """
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        rank, world_size = get_dist_info()
        indices = list(range(rank, len(dataset), world_size))
        loader = DataLoader(
            Subset(dataset.dataset, indices),
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=packed_snippet_collate)
        progress = Progress(
            len(loader.dataset),
            desc='Pseudo labels: scoring the training videos',
            enabled=self.progress_bar and rank == 0)
        fp16 = self._autocast_enabled(runner)
        # the training precision's dtype (AmpOptimWrapper may use bf16)
        dtype = getattr(runner.optim_wrapper, 'cast_dtype', None) \
            if fp16 else None
        segments: List[np.ndarray] = []
        for scores, samples in score_split(model, loader, fp16, dtype):
            segments.extend(self.generator.segments(model, scores, samples))
            progress.update(len(samples))
        progress.close()
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

    # -------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        if refinement_loop(runner) is None:
            return
        dataset = train_dataset(runner)
        w = dataset.fg_weight
        checkpoint['refinement'] = dict(
            labels=torch.from_numpy(dataset.labels),
            fg_weight=None if np.isnan(w) else w,
            generator=self.generator.state_dict())

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Keep the labels of a resumed checkpoint; ``load_from``
        (fine-tuning from weights) starts a fresh refinement."""
        state = checkpoint.get('refinement')
        if not runner.cfg.get('resume', False):
            state = None
        self._loaded_state = state
