# Copyright (c) refineloc-mm contributors. All rights reserved.
"""SIGKILL a training process at a chosen point, for crash-resume tests.

Imported by the training process through ``custom_imports`` when
``REFINELOC_KILL_AT`` is set to one of

* ``mid_epoch:E`` -- after the first iteration of epoch E (0-based);
* ``before_regeneration:E`` -- at the end of epoch E, before the
  pseudo-label hook regenerates the pseudo labels;
* ``during_regeneration:R`` -- while the labels for round R are saved:
  after the label file was written under its temporary name, before it is
  renamed.
"""
import os
import signal

from refineloc_mm.engine.hooks import pseudo_label_hook as hook_module

POINT, _, EPOCH = os.environ.get('REFINELOC_KILL_AT', '').partition(':')


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if POINT == 'mid_epoch':

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.epoch == int(EPOCH) and batch_idx == 0:
            _kill()

    hook_module.PseudoLabelHook.after_train_iter = after_train_iter

elif POINT == 'before_regeneration':
    _after_train_epoch = hook_module.PseudoLabelHook.after_train_epoch

    def after_train_epoch(self, runner):
        if runner.epoch == int(EPOCH):
            _kill()
        _after_train_epoch(self, runner)

    hook_module.PseudoLabelHook.after_train_epoch = after_train_epoch

elif POINT == 'during_regeneration':
    _atomic_write = hook_module.atomic_write

    def atomic_write(path, write):
        if path.endswith(f'round_{EPOCH}.npz'):
            write(f'{path}.tmp{os.getpid()}')
            _kill()
        _atomic_write(path, write)

    hook_module.atomic_write = atomic_write
elif POINT:
    raise ValueError(f'unknown REFINELOC_KILL_AT point {POINT!r}')
