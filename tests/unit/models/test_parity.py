# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Parity with the authors' implementation on fixed inputs
(``tests/data/reference/reference_fixtures.{json,npz}``): head outputs, every
loss term, post-processed segments and pseudo labels from predictions."""
import json

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
from helpers.parity import assert_forward_close
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from refineloc_mm.base_models.refineloc.action_segment_predictor import \
    ActionSegmentPredictor
from refineloc_mm.models.task_modules.pseudo_gt_generator import \
    segments_to_labels


@pytest.fixture(scope='module')
def fixtures(reference_dir):
    ref = reference_dir
    with open(ref / 'reference_fixtures.json') as f:
        meta = json.load(f)
    arrays = dict(np.load(ref / 'reference_fixtures.npz'))
    return meta, arrays


def case_ids():
    return ['ckpt_dim1_L1', 'random_dim2_L2', 'random_dim1_L3_unweighted']


def get_case(fixtures, name):
    meta, arrays = fixtures
    case = next(c for c in meta['cases'] if c['name'] == name)
    return case, arrays


def pseudo_gt_loss_cfg(hp, loss_weight=None):
    """The reference's alpha_pgt / weighted as the head's PseudoGTLoss."""
    weighting = 'none'
    if hp['weighted']:
        weighting = 'class_balanced' if hp['dim'] == 2 \
            else 'sqrt_pos_weight'
    return dict(
        type='PseudoGTLoss',
        weighting=weighting,
        loss_weight=hp['alpha_pgt'] if loss_weight is None else loss_weight)


def build_model(case, arrays, post_cfg=None):
    """A RefineLoc model with the case's architecture and weights."""
    init_default_scope('mmaction')
    name, hp = case['name'], case['hparams']
    num_layers = len([k for k in arrays
                      if k.startswith(f'{name}/state/fc_cas.')]) // 2
    post = dict(type='ActionSegmentPredictor')
    if post_cfg is not None:
        post.update(
            top_k=post_cfg['top_k_labels'],
            min_cas_score=post_cfg['min_cas_score'],
            min_attention_score=post_cfg['min_attention_score'],
            padding=post_cfg['padding'])
    model = MODELS.build(
        dict(
            type='RefineLoc',
            cls_head=dict(
                type='RefineLocHead',
                num_classes=case['num_classes'],
                in_channels=case['in_channels'],
                num_layers=num_layers,
                attention_dim=hp['dim'],
                loss=dict(
                    type='RefineLocLoss',
                    alpha_l1=hp['alpha_l1'],
                    alpha_gs=hp['alpha_gs']),
                pseudo_gt_loss=pseudo_gt_loss_cfg(hp),
                post_processor=post)))
    prefix = f'{name}/state/'
    state = {
        'cls_head.' + k[len(prefix):]: torch.from_numpy(v)
        for k, v in arrays.items() if k.startswith(prefix)
    }
    model.load_state_dict(state)
    return model.eval()


def batch(case, arrays, with_pseudo=True):
    """Packed inputs and data samples of the case's videos."""
    name = case['name']
    inputs, samples = [], []
    for v in case['videos']:
        vid = v['video_name']
        inputs.append(torch.from_numpy(arrays[f'{name}/features/{vid}']))
        ds = ActionDataSample()
        ds.set_metainfo(
            dict(
                video_name=vid,
                num_snippets=v['num_snippets'],
                fps=v['fps'],
                snippet_size=case['snippet_size'],
                fg_weight=case['fg_class_loss_weight']))
        label = torch.zeros(case['num_classes'])
        label[v['label']] = 1
        ds.gt_label = label
        if with_pseudo:
            ds.pseudo_label = torch.from_numpy(
                arrays[f'{name}/pseudo_gt/{vid}'])
        samples.append(ds)
    return torch.cat(inputs), samples


@pytest.mark.parametrize('name', case_ids())
def test_head_outputs(fixtures, name):
    case, arrays = get_case(fixtures, name)
    model = build_model(case, arrays)
    inputs, samples = batch(case, arrays)
    with torch.no_grad():
        cas, attention = model(inputs, samples, mode='tensor')
    for i, v in enumerate(case['videos']):
        t = v['num_snippets']
        vid = v['video_name']
        assert_forward_close(cas[i, :t].numpy(), arrays[f'{name}/cas/{vid}'])
        assert_forward_close(attention[i, :t].numpy(),
                             arrays[f'{name}/attention/{vid}'])
        assert not cas[i, t:].any(), 'padding must stay zero'


@pytest.mark.parametrize('name', case_ids())
def test_loss_terms(fixtures, name):
    case, arrays = get_case(fixtures, name)
    model = build_model(case, arrays)
    inputs, samples = batch(case, arrays)
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
    ref = case['loss']
    hp = case['hparams']
    head = model.cls_head
    x, mask = model._packed_features(inputs, samples)
    cas, attention = head(x, mask)
    video = head.video_level(cas, attention, mask)
    terms = head.loss_module.terms(
        cas=cas,
        attention=attention,
        attention_time=video['attention_time'],
        mask=mask,
        video_labels=torch.stack([s.gt_label for s in samples]))
    # the unweighted pseudo ground truth loss on the head's output
    (pred, ) = head.pseudo_label_output((cas, attention), mask, samples)
    pgt = MODELS.build(pseudo_gt_loss_cfg(hp, loss_weight=1.))
    pgt.input_type = head.pseudo_gt_loss.input_type
    terms['pseudo_gt'] = pgt(
        pred,
        torch.nn.utils.rnn.pad_sequence(
            [s.pseudo_label for s in samples],
            batch_first=True,
            padding_value=-1), mask, case['fg_class_loss_weight'])
    for key in ('video_label', 'l1', 'group_sparsity', 'pseudo_gt'):
        assert float(terms[key]) == pytest.approx(
            ref[f'{key}_loss'], abs=1e-5), key
    assert float(losses['loss_video_label']) == pytest.approx(
        ref['video_label_loss'], abs=1e-5)
    assert float(losses['loss_pseudo_gt']) == pytest.approx(
        hp['alpha_pgt'] * ref['pseudo_gt_loss'], abs=1e-5)
    assert float(sum(losses.values())) == pytest.approx(ref['loss'], abs=1e-5)


@pytest.mark.parametrize('name', case_ids())
@pytest.mark.parametrize('post_index', [0, 1, 2])
def test_post_processing(fixtures, name, post_index):
    case, arrays = get_case(fixtures, name)
    post_cfg = case['videos'][0]['post'][post_index]['cfg']
    model = build_model(case, arrays, post_cfg)
    inputs, samples = batch(case, arrays, with_pseudo=False)
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
    for v, ds in zip(case['videos'], out):
        assert v['post'][post_index]['cfg'] == post_cfg
        ref = np.array(v['post'][post_index]['segments'],
                       dtype=np.float64).reshape(-1, 4)
        got = ds.pred_segments
        assert got.shape == ref.shape, v['video_name']
        np.testing.assert_allclose(got[:, :2], ref[:, :2], atol=1e-6, rtol=0)
        np.testing.assert_array_equal(got[:, 2], ref[:, 2])
        np.testing.assert_allclose(got[:, 3], ref[:, 3], atol=1e-5, rtol=0)


def test_pseudo_labels_from_predictions(fixtures):
    meta, arrays = fixtures
    spec = meta['pseudo_from_predictions']
    case, _ = get_case(fixtures, spec['case'])
    post_cfg = case['videos'][0]['post'][spec['post_cfg_index']]['cfg']
    model = build_model(case, arrays)
    inputs, samples = batch(case, arrays, with_pseudo=False)
    predictor = ActionSegmentPredictor(
        top_k=post_cfg['top_k_labels'],
        min_cas_score=post_cfg['min_cas_score'],
        min_attention_score=post_cfg['min_attention_score'],
        padding=post_cfg['padding'])
    scores = model.snippet_scores(inputs, samples)
    segments = predictor(scores['cas_softmax'], scores['foreground'],
                         scores['video_score'], scores['mask'],
                         [case['snippet_size'] / v['fps']
                          for v in case['videos']])
    lengths = np.array([v['num_snippets'] for v in case['videos']])
    labels = segments_to_labels(
        segments, lengths, np.array([v['fps'] for v in case['videos']]),
        np.full(len(lengths), case['snippet_size']))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for i, v in enumerate(case['videos']):
        ref = arrays[f'pseudo_from_predictions/{case["name"]}/'
                     f'{v["video_name"]}']
        np.testing.assert_array_equal(
            labels[offsets[i]:offsets[i + 1]].astype(np.int64), ref)
