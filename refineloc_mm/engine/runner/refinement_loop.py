# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The refinement schedule as an mmengine train loop."""
import copy
import json
from collections import defaultdict
from typing import Dict, List, Optional, Union

import torch
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmaction.registry import LOOPS

# key of the loop's state in the runner's message hub, which mmengine saves
# in every checkpoint and restores on resume (not on ``load_from``)
STATE_KEY = 'refinement_loop'


@LOOPS.register_module()
class RefinementLoop(EpochBasedTrainLoop):
    """Train ``num_rounds`` refinement rounds of ``epochs_per_round``
    epochs each.

    Modeled on mmengine's :class:`~mmengine.runner.EpochBasedTrainLoop`
    (which it is, with ``max_epochs = num_rounds * epochs_per_round``): the
    loop owns the round arithmetic and what happens between rounds, the
    hooks what happens inside one:

    - before the first epoch of round r > 0 (``reset=True``) the model is
      re-initialized (``reset_parameters``, seeded by ``seed + r``), the
      optimizer state is cleared, its learning rates restored and the
      parameter schedulers rebuilt;
    - the round's last epoch is validated (``val_interval`` defaults to
      ``epochs_per_round``);
    - after it the round's record (``round``, ``end_epoch``, the validation
      ``metrics``, and what the hooks add, e.g. the pseudo label
      statistics of :class:`PseudoLabelHook`) is kept, the weights are
      saved as ``round_{r}.pth`` and the hooks' ``after_train_round`` is
      called (:class:`RefinementSummaryHook` writes the summary);
    - the rounds stop early when ``best_metric`` has not improved for
      ``early_stop_rounds`` rounds.

    A by-epoch ``CheckpointHook`` with ``interval='round'`` (the default of
    ``configs/_base_/default_runtime.py``) saves at the end of each round.
    The records travel in every checkpoint (in the runner's message hub),
    so ``--resume`` continues mid-round with the same history; the round
    itself follows from the resumed epoch.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The training dataloader.
        num_rounds (int): Refinement rounds.
        epochs_per_round (int): Epochs of one round.
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int, optional): Validation interval in epochs.
            Defaults to None: once per round.
        reset (bool): Start each round from a fresh model, optimizer state
            and schedule. Defaults to True.
        best_metric (str): Validation metric that picks the best round.
            Defaults to ``'mAP@0.5'``.
        early_stop_rounds (int, optional): Stop when ``best_metric`` has not
            improved for this many rounds. Defaults to None (never).
        save_round_checkpoints (bool): Save ``round_{r}.pth`` (weights and
            refinement state) after each round. Defaults to True.
        max_epochs (int, optional): Stop after this many epochs, e.g. inside
            a round (``--resume`` continues the schedule). Defaults to None:
            ``num_rounds * epochs_per_round``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 num_rounds: int,
                 epochs_per_round: int,
                 val_begin: int = 1,
                 val_interval: Optional[int] = None,
                 reset: bool = True,
                 best_metric: str = 'mAP@0.5',
                 early_stop_rounds: Optional[int] = None,
                 save_round_checkpoints: bool = True,
                 max_epochs: Optional[int] = None) -> None:
        if int(num_rounds) != num_rounds or num_rounds < 1:
            raise ValueError(
                f'RefinementLoop: num_rounds must be an integer >= 1, got '
                f'{num_rounds!r}')
        if int(epochs_per_round) != epochs_per_round or epochs_per_round < 1:
            raise ValueError(
                'RefinementLoop: epochs_per_round must be an integer >= 1, '
                f'got {epochs_per_round!r}')
        self.num_rounds = int(num_rounds)
        self.epochs_per_round = int(epochs_per_round)
        total = self.num_rounds * self.epochs_per_round
        super().__init__(
            runner,
            dataloader,
            max_epochs=total if max_epochs is None else min(
                max_epochs, total),
            val_begin=val_begin,
            val_interval=val_interval or self.epochs_per_round)
        self.reset = reset
        self.best_metric = best_metric
        self.early_stop_rounds = early_stop_rounds
        self.save_round_checkpoints = save_round_checkpoints
        self.records: List[Dict] = []
        self._initial_lrs: List[List[float]] = []
        self._set_checkpoint_interval()
        self._publish_state()

    # ------------------------------------------------------------- rounds
    @property
    def round(self) -> int:
        """The current round (during its epochs and their hooks)."""
        return min(self._epoch // self.epochs_per_round, self.num_rounds - 1)

    @property
    def at_round_end(self) -> bool:
        """Whether the epoch being run (or just run, in its
        ``after_train_epoch`` hooks) is the last of its round."""
        return (self._epoch + 1) % self.epochs_per_round == 0

    @property
    def at_last_round(self) -> bool:
        """Whether the current round is the last one."""
        return self.round == self.num_rounds - 1

    def round_record(self, round_idx: int) -> Dict:
        """The record of a round (created on first use); hooks add their
        per-round results to it."""
        for record in self.records:
            if record['round'] == round_idx:
                return record
        record = dict(round=round_idx)
        self.records.append(record)
        return record

    def best_round(self) -> Optional[int]:
        """Round with the highest ``best_metric`` so far (None if none; the
        earliest of equal ones)."""
        scored = [(r['metrics'][self.best_metric], -r['round'])
                  for r in self.records
                  if self.best_metric in r.get('metrics', {})]
        return -max(scored)[1] if scored else None

    # ---------------------------------------------------------- state
    def state_dict(self) -> Dict:
        """The round records (JSON-serializable)."""
        return dict(records=json.loads(json.dumps(self.records)))

    def load_state_dict(self, state: Dict) -> None:
        self.records = [dict(r) for r in state.get('records', [])]

    def _publish_state(self) -> None:
        # the records object itself: what hooks add to it is saved too
        self.runner.message_hub.update_info(
            STATE_KEY, dict(records=self.records), resumed=True)

    def _restore_state(self) -> None:
        """Take the records of a resumed checkpoint (mmengine loaded them
        into the message hub)."""
        state = self.runner.message_hub.get_info(STATE_KEY)
        if state is not None and state.get('records') is not self.records:
            self.load_state_dict(state)
        self._publish_state()

    def _set_checkpoint_interval(self) -> None:
        """``CheckpointHook(interval='round')``: once per round."""
        for hook in self.runner.hooks:
            if isinstance(hook, CheckpointHook) and hook.interval == 'round':
                hook.interval = self.epochs_per_round

    # ------------------------------------------------------------ running
    def run(self) -> torch.nn.Module:
        """Launch the rounds."""
        self._restore_state()
        self._initial_lrs = [[
            group.get('initial_lr', group['lr'])
            for group in optim.param_groups
        ] for optim in self._optimizers()]
        self.runner.call_hook('before_train')
        while self._epoch < self._max_epochs and not self.stop_training:
            round_idx, round_end = self.round, self.at_round_end
            self.run_epoch()
            self._decide_current_val_interval()
            metrics = None
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                metrics = self.runner.val_loop.run()
            if round_end:
                self._finish_round(round_idx, metrics)
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch; a new round first resets (``reset=True``)."""
        if self.reset and self._epoch > 0 and \
                self._epoch % self.epochs_per_round == 0:
            self._reset_round(self.round)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        if self.at_round_end:
            self.round_record(self.round)['end_epoch'] = self._epoch + 1
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _finish_round(self, round_idx: int, metrics: Optional[Dict]) -> None:
        runner = self.runner
        record = self.round_record(round_idx)
        if metrics is not None:
            record['metrics'] = {k: float(v) for k, v in metrics.items()}
        if self.save_round_checkpoints:
            runner.save_checkpoint(
                runner.work_dir,
                f'round_{round_idx}.pth',
                save_optimizer=False,
                save_param_scheduler=False)
        runner.logger.info(f'Refinement round {round_idx} done: '
                           + json.dumps(record))
        runner.call_hook('after_train_round', round_idx=round_idx)
        best = self.best_round()
        if (self.early_stop_rounds is not None and best is not None
                and round_idx - best >= self.early_stop_rounds):
            runner.logger.info(
                f'Refinement stops: {self.best_metric} has not improved for '
                f'{round_idx - best} rounds (best round {best}).')
            self.stop_training = True

    # ------------------------------------------------------------- reset
    def _optimizers(self) -> List[torch.optim.Optimizer]:
        wrapper = self.runner.optim_wrapper
        if hasattr(wrapper, 'optim_wrappers'):  # OptimWrapperDict
            return [w.optimizer for w in wrapper.optim_wrappers.values()]
        return [wrapper.optimizer]

    def _reset_round(self, round_idx: int) -> None:
        """Fresh weights (seeded by round), optimizer state and schedule."""
        runner = self.runner
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        devices = [torch.cuda.current_device()
                   ] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed((runner.seed or 0) + round_idx)
            model.reset_parameters()
        for optim, lrs in zip(self._optimizers(), self._initial_lrs):
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


def refinement_loop(runner) -> Optional[RefinementLoop]:
    """The runner's train loop if it is a (built) :class:`RefinementLoop`,
    else None (another loop, or a runner that only tests)."""
    loop = getattr(runner, '_train_loop', None)
    return loop if isinstance(loop, RefinementLoop) else None
