# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The runner every RefineLoc config names (``runner_type``)."""
import copy

from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

from mmaction.registry import RUNNERS
from refineloc_mm.utils.malloc import reuse_freed_memory_if_configured
from refineloc_mm.utils.precision import apply_configured_amp


@RUNNERS.register_module()
class RefineLocRunner(Runner):
    """mmengine's Runner, applying what a RefineLoc config asks for.

    ``configs/_base_/default_runtime.py`` sets
    ``runner_type = 'RefineLocRunner'``; every launcher builds the runner
    with ``RUNNERS.build(cfg)`` when the config names one (MMAction2's
    ``tools/train.py`` and ``tools/test.py``, ``mim train``/``mim test``,
    this project's tools), so these settings take effect under each of
    them alike, before anything is built:

    - ``optim_wrapper.type='AmpOptimWrapper'`` (MMAction2's ``--amp``)
      runs bfloat16 autocast on a CPU and validation/testing under
      autocast (:func:`~refineloc_mm.utils.precision.apply_configured_amp`);
    - ``reuse_freed_memory = True`` tunes glibc's allocator
      (:func:`~refineloc_mm.utils.malloc.reuse_freed_memory`) before the
      DataLoader workers are forked.
    """

    @classmethod
    def from_cfg(cls, cfg: ConfigDict) -> 'RefineLocRunner':
        """Build the runner from a config, after applying the settings.

        Args:
            cfg (Config or ConfigDict): The (merged) config.

        Returns:
            RefineLocRunner: The runner.
        """
        # a deep copy keeps the file name; the caller's config is left
        # as it is
        cfg = copy.deepcopy(cfg) if isinstance(cfg, Config) else Config(cfg)
        messages = []
        if apply_configured_amp(cfg):
            messages.append(f'Mixed precision: {cfg.optim_wrapper.type}, '
                            'validation and testing under autocast')
        if reuse_freed_memory_if_configured(cfg):
            messages.append(
                'reuse_freed_memory: large blocks come from the heap and '
                'freed memory stays in the process (glibc mallopt)')
        runner = super().from_cfg(cfg)
        for message in messages:
            runner.logger.info(message)
        return runner
