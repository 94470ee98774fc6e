# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The refinement wraps any base model of the contract
(:class:`BaseSnippetLocalizer`): a fourth base model, defined only in this
file (head, localizer and post-processor), is refined by the real
RefinementLoop and PseudoLabelHook through the real Runner, and nothing in
the hooks, the generators, the pseudo-label wrapper, the metric or the
tools names a model type."""
import re
from typing import Dict

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.refineloc  # noqa: F401
from helpers.runs import REPO, SYNTHETIC_CONFIG, make_tiny_data, tiny_options
from mmaction.registry import MODELS, TASK_UTILS
from refineloc_mm.engine.hooks import PseudoLabelHook
from refineloc_mm.models.heads import BaseSnippetHead
from refineloc_mm.models.localizers import BaseSnippetLocalizer
from refineloc_mm.models.task_modules import BaseSegmentPostProcessor
from refineloc_mm.models.utils.snippet_ops import snippet_durations, unpack


@TASK_UTILS.register_module(force=True)
class ContractTestPostProcessor(BaseSegmentPostProcessor):
    """Runs of snippets whose probability of the video's top class is
    above its mean over the video; counts its calls."""
    calls = 0

    def predict_segments(self, scores, data_samples):
        type(self).calls += 1
        out = []
        p = scores['cas_softmax'].float().cpu().numpy()
        mask = scores['mask']
        for b, sps in enumerate(snippet_durations(data_samples)):
            t = int(mask[b].sum())
            cls = p[b, :t].mean(0).argmax()
            prob = p[b, :t, cls]
            keep = np.r_[False, prob > prob.mean(), False]
            edges = np.flatnonzero(np.diff(keep.astype(np.int8)))
            starts, ends = edges[0::2], edges[1::2]
            out.append(
                np.stack([
                    starts * sps, ends * sps,
                    np.full(len(starts), float(cls)),
                    np.ones(len(starts))
                ], 1).reshape(-1, 4))
        return out


@MODELS.register_module(force=True)
class ContractTestHead(BaseSnippetHead):
    """A linear CAS, mean-pooled video scores, and a class-agnostic
    foreground logit supervised by the pseudo labels only."""
    pseudo_label_branch = 'fc_fg'

    def __init__(self, num_classes: int, in_channels: int,
                 with_foreground: bool = True,
                 pseudo_gt_loss: dict = dict(type='PseudoGTLoss'),
                 post_processor: dict = dict(
                     type='ContractTestPostProcessor')) -> None:
        super().__init__(num_classes, in_channels,
                         pseudo_gt_loss=pseudo_gt_loss,
                         post_processor=post_processor)
        self.fc_cas = nn.Linear(in_channels, num_classes)
        self.fc_fg = nn.Linear(in_channels, 1) if with_foreground else None

    def forward(self, x, mask):
        cas = unpack(self.fc_cas(x), mask)
        fg = None if self.fc_fg is None else unpack(self.fc_fg(x), mask)
        return cas, fg

    @staticmethod
    def _video(cas, mask):
        m = mask.unsqueeze(-1).float()
        return (cas * m).sum(1) / m.sum(1)

    def scores_by_feat(self, outs, mask, data_samples=None) -> Dict:
        cas, fg = outs
        out = dict(cas_softmax=cas.softmax(-1),
                   video_score=self._video(cas, mask).softmax(-1))
        if fg is not None:
            out['foreground'] = torch.sigmoid(fg[..., 0])
        return out

    def loss_by_feat(self, outs, mask, data_samples) -> Dict:
        video = self._video(outs[0], mask)
        labels = torch.stack([ds.gt_label for ds in data_samples])
        target = labels / labels.sum(-1, keepdim=True)
        return dict(loss_cls=-(target * video.log_softmax(-1)).sum(-1).mean())

    def pseudo_label_output(self, outs, mask, data_samples):
        return None if outs[1] is None else (outs[1][..., 0], )


@MODELS.register_module(force=True)
class ContractTestLocalizer(BaseSnippetLocalizer):
    """The fourth base model: nothing but the contract."""


def build_runner(tmp_path_factory, generator: dict, with_foreground=True):
    data = make_tiny_data(tmp_path_factory.mktemp('synthetic'))
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    opts = {}
    for kv in tiny_options(data):
        key, value = kv.split('=', 1)
        if key.startswith(('model.', 'default_hooks.pseudo_labels.')):
            continue
        opts[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(opts)
    width = cfg.train_dataloader.dataset.dataset.in_channels
    cfg.model = dict(
        type='ContractTestLocalizer',
        cls_head=dict(
            type='ContractTestHead',
            num_classes=len(cfg.train_dataloader.dataset.dataset.classes),
            in_channels=width,
            with_foreground=with_foreground))
    cfg.work_dir = str(tmp_path_factory.mktemp('work'))
    cfg.train_cfg.num_rounds = 2
    cfg.train_cfg.epochs_per_round = 2
    cfg.default_hooks.pseudo_labels = dict(
        type='PseudoLabelHook', generator=generator, progress_bar=False)
    return Runner.from_cfg(cfg)


def test_fourth_base_model_is_refined(tmp_path_factory):
    """Round 0 trains without labels; the hook scores the training split
    with the model's own post-processing, labels supervise round 1 (whose
    pseudo ground truth loss is non-zero), and round 1 writes new
    labels."""
    ContractTestPostProcessor.calls = 0
    runner = build_runner(
        tmp_path_factory,
        dict(type='PseudoGTGenerator', source='predictions', dropout=0.2))
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    dataset = runner.train_dataloader.dataset
    assert ContractTestPostProcessor.calls > 0
    # labels of round 1 (the last round ends)
    assert len(hook.generator.history) == 1
    labels = dataset.labels
    assert (labels == 1).any() and (labels == 0).any() and (labels
                                                           == -1).any()
    pgt = runner.message_hub.get_scalar('train/loss_pseudo_gt').data[0]
    assert pgt[0] == 0 and max(pgt) > 0  # round 0: no labels yet
    records = runner.train_loop.records
    assert [e['round'] for e in records] == [0, 1]
    assert 'mAP@0.5' in records[1]['metrics']


def test_attention_labeler_needs_a_foreground_score(tmp_path_factory):
    """The foreground-threshold labeler refuses a base model without a
    class-agnostic foreground score, naming the missing score; the
    CAS-threshold one works without it."""
    runner = build_runner(
        tmp_path_factory,
        dict(type='PseudoGTGenerator', post_processor=dict(
            type='SnippetThresholdSegmenter', min_cas_score=0.,
            min_attention_score=0.92)),
        with_foreground=False)
    with pytest.raises(ValueError, match="SnippetThresholdSegmenter.*"
                       "'foreground'"):
        runner.train()
    runner = build_runner(
        tmp_path_factory, dict(type='PseudoGTGenerator', post_processor=dict(
            type='SnippetThresholdSegmenter', min_attention_score=0.,
            require_foreground=False)),
        with_foreground=False)
    runner.train()
    assert (runner.train_dataloader.dataset.labels == 1).any()


# files that must work for every base model unchanged
GENERIC = [
    'refineloc_mm/engine/hooks/pseudo_label_hook.py',
    'refineloc_mm/engine/hooks/refinement_summary_hook.py',
    'refineloc_mm/engine/runner/refinement_loop.py',
    'refineloc_mm/models/scoring.py',
    'refineloc_mm/models/pseudo_label_quality.py',
    'refineloc_mm/utils/benchmark/iteration.py',
    'refineloc_mm/models/task_modules/pseudo_gt_generator.py',
    'refineloc_mm/datasets/pseudo_label_dataset.py',
    'refineloc_mm/evaluation/metrics/temporal_map_metric.py',
    'tools/train.py', 'tools/test.py', 'tools/analyze_refinement.py',
    'tools/visualize.py', 'tools/pseudo_label_quality.py',
    'tools/benchmark_iteration.py'
]
MODEL_TYPES = re.compile(
    r'\b(RefineLocHead|WTALC\w*|BaSNet\w*|fc_attention|fc_cas)\b'
    r'|isinstance\([^)]*(model|head)[^)]*\)|type\((model|head)\)\s*(==|is)')


@pytest.mark.parametrize('path', GENERIC)
def test_no_model_type_branch(path):
    """No model class, head layer or type test in the generic parts."""
    text = (REPO / path).read_text()
    assert not MODEL_TYPES.findall(text), MODEL_TYPES.findall(text)
