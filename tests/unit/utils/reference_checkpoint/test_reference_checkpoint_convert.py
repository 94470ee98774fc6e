# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Tests of :mod:`refineloc_mm.utils.reference_checkpoint` (the logic of
``tools/convert_reference_checkpoint.py``): the authors' published
THUMOS14 UntrimmedNet checkpoint, converted, must reproduce the outputs of
the authors' code on the fixture videos (case ``ckpt_dim1_L1`` of
``tests/data/reference/reference_fixtures.{json,npz}``)."""
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
import torch

import refineloc_mm  # noqa: F401  (patches mmengine, registers)
import refineloc_mm.base_models.refineloc  # noqa: F401
from helpers.parity import assert_forward_close
from refineloc_mm.utils import reference_checkpoint as conv
from refineloc_mm.utils.compat import safe_torch_load

CASE = 'ckpt_dim1_L1'
NAME = 'thumos14_untrimmednet'


@pytest.fixture(scope='module')
def converted(reference_checkpoint: Path, annotations_dir: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    out_dir = tmp_path_factory.mktemp('converted')
    csv = annotations_dir / 'thumos14' / 'thumos14_valid_groundtruth.csv'
    assert csv.is_file(), f'{csv} is missing'
    return conv.convert(
        str(reference_checkpoint),
        str(out_dir),
        name=NAME,
        classes_from=str(csv))


@pytest.fixture(scope='module')
def model_and_cfg(converted: Dict[str, str]) -> Tuple[Any, Any]:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmaction.registry import MODELS

    cfg = Config.fromfile(converted['config'])
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, converted['checkpoint'], map_location='cpu',
                    strict=True)
    model.eval()
    return model, cfg


@pytest.fixture(scope='module')
def fixture_case(reference_dir: Path) -> Tuple[Dict, Any]:
    doc = json.loads((reference_dir / 'reference_fixtures.json').read_text())
    case = next(c for c in doc['cases'] if c['name'] == CASE)
    arrays = np.load(reference_dir / 'reference_fixtures.npz')
    return case, arrays


def _batch(case: Dict, arrays: Any) -> Tuple[torch.Tensor, List]:
    from mmaction.structures import ActionDataSample

    feats, samples = [], []
    for i, video in enumerate(case['videos']):
        x = arrays[f'{CASE}/features/video_{i}']
        assert x.shape == (video['num_snippets'], case['in_channels'])
        feats.append(torch.from_numpy(np.asarray(x, dtype=np.float32)))
        samples.append(
            ActionDataSample(
                metainfo=dict(
                    video_name=video['video_name'],
                    num_snippets=video['num_snippets'],
                    fps=video['fps'],
                    snippet_size=case['snippet_size'])))
    return torch.cat(feats), samples


def test_head_outputs_match_reference(model_and_cfg, fixture_case):
    model, _ = model_and_cfg
    case, arrays = fixture_case
    inputs, samples = _batch(case, arrays)
    with torch.no_grad():
        cas, attention = model(inputs, samples, mode='tensor')
    for i, video in enumerate(case['videos']):
        t = video['num_snippets']
        assert_forward_close(cas[i, :t].numpy(),
                             arrays[f'{CASE}/cas/video_{i}'],
                             err_msg=f'cas of video {i}')
        assert_forward_close(attention[i, :t].numpy(),
                             arrays[f'{CASE}/attention/video_{i}'],
                             err_msg=f'attention of video {i}')


def test_predictions_match_reference(model_and_cfg, fixture_case):
    from mmaction.registry import TASK_UTILS

    model, _ = model_and_cfg
    case, arrays = fixture_case
    num_cfgs = len(case['videos'][0]['post'])
    original = model.cls_head.post_processor
    try:
        for j in range(num_cfgs):
            ref_cfg = case['videos'][0]['post'][j]['cfg']
            model.cls_head.post_processor = TASK_UTILS.build(
                dict(
                    type='ActionSegmentPredictor',
                    top_k=ref_cfg['top_k_labels'],
                    min_cas_score=ref_cfg['min_cas_score'],
                    min_attention_score=ref_cfg['min_attention_score'],
                    padding=ref_cfg['padding']))
            inputs, samples = _batch(case, arrays)
            with torch.no_grad():
                out = model(inputs, samples, mode='predict')
            for i, (video, ds) in enumerate(zip(case['videos'], out)):
                assert video['post'][j]['cfg'] == ref_cfg
                want = np.asarray(video['post'][j]['segments'],
                                  dtype=np.float64).reshape(-1, 4)
                got = np.asarray(ds.pred_segments, dtype=np.float64)
                msg = f'video {i}, post cfg {ref_cfg}'
                assert got.shape == want.shape, msg
                np.testing.assert_allclose(
                    got[:, :2], want[:, :2], rtol=0, atol=1e-6, err_msg=msg)
                np.testing.assert_array_equal(got[:, 2], want[:, 2], msg)
                np.testing.assert_allclose(
                    got[:, 3], want[:, 3], rtol=0, atol=1e-5, err_msg=msg)
    finally:
        model.cls_head.post_processor = original


def test_config_follows_checkpoint_settings(model_and_cfg,
                                           reference_checkpoint):
    _, cfg = model_and_cfg
    ref = safe_torch_load(str(reference_checkpoint), map_location='cpu')
    s = ref['config']
    # the published UntrimmedNet run (METHOD.md)
    assert (s['snippet_size'], s['stream'], s['num_layers'],
            s['pseudo_gt_loss_dim']) == (15, 0, 1, 1)

    head = cfg.model.cls_head
    assert cfg.model.get('backbone') is None
    assert cfg.model.get('neck') is None
    assert (head.num_classes, head.in_channels, head.num_layers,
            head.attention_dim) == (20, 1024, 1, 1)
    assert head.num_classes == int(s['num_classes'])
    assert head.in_channels == s['input_size']
    assert head.pseudo_gt_loss.loss_weight == s['alpha_pseudo_gt_loss'] == 4
    # weighted, k = 1: BCE with pos_weight sqrt(w_fg)
    assert head.pseudo_gt_loss.weighting == 'sqrt_pos_weight'
    assert s['weighted_psgt_loss'] == 1
    assert head.loss.alpha_l1 == s['alpha_l1_loss']
    assert head.loss.alpha_gs == s['alpha_group_sparsity_loss']
    post = head.post_processor
    assert (post.top_k, post.min_cas_score, post.min_attention_score,
            post.padding) == (s['top_k_labels'], s['min_cas_score'],
                              s['min_attention_score'], s['padding'])
    assert post.min_cas_score == 0.02

    train_split = cfg.train_dataloader.dataset.dataset
    for split in (train_split, cfg.val_dataloader.dataset,
                  cfg.test_dataloader.dataset):
        assert (split.snippet_size, split.stream,
                split.in_channels) == (15, 0, 1024)
    assert cfg.train_dataloader.batch_size == s['batch_size'] == 32
    assert cfg.optim_wrapper.optimizer.lr == s['initial_lr']
    assert cfg.randomness.seed == s['seed']

    loop = cfg.train_cfg
    assert loop.type == 'RefinementLoop'
    assert loop.epochs_per_round == s['max_epoch'] == 100
    assert loop.num_rounds == s['refinement_iterations']
    assert loop.early_stop_rounds == s['refinement_early_stopping']
    gen = cfg.default_hooks.pseudo_labels.generator
    post = gen.post_processor
    assert post.type == 'ActionSegmentPredictor'
    assert (post.top_k, post.min_cas_score, post.min_attention_score,
            post.padding, gen.from_m_iterations, gen.dropout) == (
                s['refinement_top_k_labels'], s['refinement_min_cas_score'],
                s['refinement_min_attention_score'], s['refinement_padding'],
                s['refinement_from_m_iterations'], s['pseudo_gt_dropout'])
    assert (post.min_cas_score, post.min_attention_score,
            gen.dropout) == (0.34, 0.98, 0.2)
    # the evaluator keeps the base's thresholds, which include 0.5
    assert 0.5 in tuple(cfg.val_evaluator.tiou_thresholds)


def test_checkpoint_is_plain(converted, reference_checkpoint):
    # loads without any allowlist: only tensors and plain Python values
    ckpt = torch.load(
        converted['checkpoint'], map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert sorted(ckpt['state_dict']) == sorted([
        'cls_head.fc_cas.linear_0.weight', 'cls_head.fc_cas.linear_0.bias',
        'cls_head.fc_attention.linear_0.weight',
        'cls_head.fc_attention.linear_0.bias'
    ])
    ref = safe_torch_load(str(reference_checkpoint), map_location='cpu')
    for key, value in ref['model'].items():
        assert torch.equal(ckpt['state_dict'][f'cls_head.{key}'], value)
    meta = ckpt['meta']
    assert meta['source']['file'] == str(reference_checkpoint)
    assert meta['reference_config']['num_classes'] == 20
    assert type(meta['reference_config']['num_classes']) is int
    assert meta['refinement_round'] == 4
    assert meta['epoch'] == 4 * 100 + ref['convergence_epoch']
    # classes from the real THUMOS14 CSV (--classes-from)
    assert meta['dataset_meta']['classes'] == tuple(
        str(i) for i in range(20))


def _modified_source(reference_checkpoint: Path, tmp_path: Path,
                     edit) -> str:
    ckpt = safe_torch_load(str(reference_checkpoint), map_location='cpu')
    edit(ckpt['model'])
    path = tmp_path / 'modified.ckpt'
    torch.save(ckpt, path)
    return str(path)


def test_unexpected_key_is_refused(reference_checkpoint, tmp_path):
    src = _modified_source(
        reference_checkpoint, tmp_path,
        lambda m: m.__setitem__('fc_cas.linear_1.weight', torch.zeros(2, 2)))
    with pytest.raises(conv.ConversionError) as err:
        conv.convert(src, str(tmp_path / 'out'))
    msg = str(err.value)
    assert 'fc_cas.linear_1.weight' in msg and 'Unexpected' in msg
    assert src in msg
    assert not (tmp_path / 'out').exists()


def test_missing_key_and_bad_shape_are_refused(reference_checkpoint,
                                               tmp_path):
    src = _modified_source(reference_checkpoint, tmp_path,
                           lambda m: m.pop('fc_attention.linear_0.bias'))
    with pytest.raises(conv.ConversionError, match='Missing key.*'
                       'fc_attention.linear_0.bias'):
        conv.convert(src, str(tmp_path / 'out'))
    src = _modified_source(
        reference_checkpoint, tmp_path, lambda m: m.__setitem__(
            'fc_cas.linear_0.bias', torch.zeros(21)))
    with pytest.raises(conv.ConversionError,
                       match=r'fc_cas.linear_0.bias.*\(21,\)'):
        conv.convert(src, str(tmp_path / 'out'))


def test_not_a_reference_checkpoint_is_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={}), path)
    with pytest.raises(conv.ConversionError, match='config.*model'):
        conv.convert(str(path), str(tmp_path / 'out'))
