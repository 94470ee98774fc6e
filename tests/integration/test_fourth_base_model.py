# Copyright (c) refineloc-mm contributors. All rights reserved.
"""A fourth base model from a temporary folder only (issue 17): its own
head (a :class:`BaseSnippetHead`), localizer and post-processor, one
registered component per file in a package on ``PYTHONPATH``, and its
config (``custom_imports`` of that package, on top of RefineLoc's
synthetic refinement config) are refined by ``tools/train.py`` for two
rounds, with no edit outside the folder.

The model gives only what the contract names (``cas_softmax``,
``video_score``, ``foreground``): a generator, hook or tool that needed a
model-specific key, type or file would make the run fail."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

from helpers.runs import (PYTHONPATH, REPO, TRAIN_OPTIONS, load_labels,
                          make_tiny_data, refinement_synthetic_config,
                          tiny_options, trained_epochs)

PACKAGE = 'toy_wsal'
FILES = {
    '__init__.py': '''
        """A toy base model: linear CAS, linear foreground logit."""
        from .toy_head import ToyHead
        from .toy_localizer import ToyLocalizer
        from .toy_post_processor import ToyPostProcessor

        __all__ = ['ToyHead', 'ToyLocalizer', 'ToyPostProcessor']
        ''',
    'toy_localizer.py': '''
        from mmaction.registry import MODELS
        from refineloc_mm.models.localizers import BaseSnippetLocalizer


        @MODELS.register_module()
        class ToyLocalizer(BaseSnippetLocalizer):
            """Nothing but the contract."""
        ''',
    'toy_head.py': '''
        import torch
        import torch.nn as nn

        from mmaction.registry import MODELS
        from refineloc_mm.models.heads import BaseSnippetHead
        from refineloc_mm.models.utils.snippet_ops import (
            stack_video_labels, unpack)


        @MODELS.register_module()
        class ToyHead(BaseSnippetHead):
            """Linear CAS [B, T, N] and foreground logit [B, T]; the pseudo
            labels supervise the foreground (``fc_fg``)."""
            pseudo_label_branch = 'fc_fg'

            def __init__(self, num_classes, in_channels,
                         pseudo_gt_loss=dict(type='PseudoGTLoss',
                                             input_type='logits'),
                         post_processor=dict(type='ToyPostProcessor'),
                         init_cfg=None):
                super().__init__(num_classes, in_channels, pseudo_gt_loss,
                                 post_processor, init_cfg)
                self.fc_cas = nn.Linear(in_channels, num_classes)
                self.fc_fg = nn.Linear(in_channels, 1)

            def forward(self, x, mask):
                return (unpack(self.fc_cas(x), mask),
                        unpack(self.fc_fg(x), mask)[..., 0])

            @staticmethod
            def video_logits(cas, mask):
                m = mask[..., None].float()
                return (cas * m).sum(1) / m.sum(1)

            def loss_by_feat(self, outs, mask, data_samples):
                labels = stack_video_labels(data_samples, self.num_classes,
                                            mask.device)
                target = labels / labels.sum(-1, keepdim=True).clamp(min=1)
                log_p = self.video_logits(outs[0], mask).log_softmax(-1)
                return dict(loss_cls=-(target * log_p).sum(-1).mean())

            def pseudo_label_output(self, outs, mask, data_samples):
                return (outs[1], )

            def scores_by_feat(self, outs, mask, data_samples=None):
                cas, fg = outs
                return dict(
                    cas_softmax=cas.softmax(-1),
                    video_score=self.video_logits(cas, mask).softmax(-1),
                    foreground=torch.sigmoid(fg) * mask)
        ''',
    'toy_post_processor.py': '''
        import numpy as np

        from mmaction.registry import TASK_UTILS
        from refineloc_mm.models.task_modules import BaseSegmentPostProcessor
        from refineloc_mm.models.utils import connected_components, to_numpy
        from refineloc_mm.models.utils.snippet_ops import snippet_durations


        @TASK_UTILS.register_module()
        class ToyPostProcessor(BaseSegmentPostProcessor):
            """Runs of snippets whose foreground is above the video's mean,
            labelled with the video's top class."""

            def predict_segments(self, scores, data_samples):
                self.require_scores(
                    scores, ('video_score', 'foreground', 'mask'))
                fg = to_numpy(scores['foreground'].float())
                valid = to_numpy(scores['mask']).astype(bool)
                video = to_numpy(scores['video_score'].float())
                mean = (fg * valid).sum(1) / valid.sum(1)
                rows, first, last, _ = connected_components(
                    (fg > mean[:, None]) & valid)
                sps = np.asarray(snippet_durations(data_samples))[rows]
                cls = video.argmax(1)[rows].astype(np.float64)
                seg = np.stack([first * sps, (last + 1) * sps, cls,
                                np.ones_like(sps)], 1).reshape(-1, 4)
                splits = np.searchsorted(rows, np.arange(1, len(valid)))
                return np.split(seg, splits)
        ''',
}
CONFIG = '''
_base_ = [{base!r}]
# the toy model's package, on PYTHONPATH (no refineloc_mm.base_models.*)
custom_imports = dict(imports=['{package}'], allow_failed_imports=False)
model = dict(
    _delete_=True,
    type='ToyLocalizer',
    cls_head=dict(type='ToyHead', num_classes={num_classes},
                  in_channels=1024))
# the pseudo labels from the model's own post-processing
default_hooks = dict(pseudo_labels=dict(generator=dict(post_processor=None)))
'''


def write_model(folder, base_config):
    """The toy model's package and config under ``folder``."""
    package = folder / PACKAGE
    package.mkdir(parents=True)
    for name, text in FILES.items():
        (package / name).write_text(textwrap.dedent(text).lstrip())
    base = Config.fromfile(str(REPO / base_config))
    num_classes = len(base.train_dataloader.dataset.dataset.classes)
    config = folder / 'toy_refineloc_synthetic.py'
    config.write_text(
        CONFIG.format(base=str(REPO / base_config), package=PACKAGE,
                      num_classes=num_classes))
    return config


@pytest.fixture(scope='module')
def toy_run(tmp_path_factory):
    """(work_dir, log) of 2 rounds of 2 epochs of the toy model."""
    base_config = refinement_synthetic_config('refineloc')
    assert base_config is not None
    folder = tmp_path_factory.mktemp('fourth_model')
    config = write_model(folder, base_config)
    data = make_tiny_data(tmp_path_factory.mktemp('synthetic'))
    # the tiny set, without RefineLoc's thresholds (not this model's keys)
    options = [
        o for o in tiny_options(data)
        if not o.startswith(('model.cls_head.post_processor',
                             'default_hooks.pseudo_labels.generator'))
    ] + TRAIN_OPTIONS
    work_dir = folder / 'work'
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([PYTHONPATH, str(folder)]))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work_dir), '--rounds', '2', '--epochs-per-round', '2',
         '--cfg-options', *options],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return work_dir, log


def test_fourth_model_is_refined(toy_run):
    """Round 0 trains without labels, the toy post-processor's segments of
    the training videos become labels, and round 1 learns them."""
    work_dir, log = toy_run
    assert 'ToyLocalizer' in (work_dir / 'toy_refineloc_synthetic.py'
                              ).read_text()
    assert trained_epochs(log) == [1, 2, 3, 4]
    labels, names = load_labels(work_dir, 1)
    assert len(names) > 0
    assert (labels == 1).any() and (labels == 0).any()
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    rounds = summary['rounds']
    assert [r['round'] for r in rounds] == [0, 1]
    assert rounds[0]['pseudo_labels_used']['coverage'] == 0
    assert rounds[1]['pseudo_labels_used']['coverage'] > 0
    pgt = [float(v) for v in re.findall(r'loss_pseudo_gt: ([\d.]+)', log)]
    assert pgt and pgt[0] == 0 and pgt[-1] > 0


def test_nothing_outside_the_folder_names_the_model(toy_run):
    """The repository knows nothing of the toy model: no file of the
    package, the configs or the tools names it."""
    for folder in ('refineloc_mm', 'configs', 'tools'):
        for path in (REPO / folder).rglob('*.py'):
            text = path.read_text()
            assert 'ToyHead' not in text and PACKAGE not in text, path
