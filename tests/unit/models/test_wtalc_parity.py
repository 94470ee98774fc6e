# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Parity of W-TALC with the original implementation (``sujoyp/wtalc-pytorch``
@ 81ea982) on fixed inputs (``tests/data/reference/base_models/``): forward
outputs, MIL / co-activity / total loss, video scores and the test-time
segments of every W-TALC case, through the registered components built from
config dicts."""
import json

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.wtalc  # noqa: F401
from helpers.parity import assert_forward_close
from mmaction.registry import MODELS, TASK_UTILS
from mmaction.structures import ActionDataSample

CASES = ['wtalc_small', 'wtalc_2048']
LOSS_TOL = 1e-5
TIME_TOL = 1e-6
SCORE_TOL = 1e-5


@pytest.fixture(scope='module')
def fixtures(reference_dir):
    folder = reference_dir / 'base_models'
    with open(folder / 'base_model_fixtures.json') as f:
        meta = json.load(f)
    return meta, np.load(folder / 'base_model_fixtures.npz')


def arrays_of(fixtures, case, group):
    """``{sub key: array}`` of ``CASE/group/...``."""
    _, npz = fixtures
    prefix = f'{case}/{group}/'
    return {k[len(prefix):]: npz[k] for k in npz.files if k.startswith(prefix)}


def build(fixtures, case):
    """The model of the case (W-TALC's settings from the fixture json),
    its packed inputs and data samples."""
    init_default_scope('mmaction')
    meta, npz = fixtures
    info = meta['cases'][case]
    args = info['args']
    model = MODELS.build(
        dict(
            type='WTALC',
            cls_head=dict(
                type='WTALCHead',
                num_classes=info['num_class'],
                in_channels=info['feature_size'],
                mil_loss=dict(type='MILLoss', loss_weight=args['Lambda']),
                casl_loss=dict(
                    type='CoActivitySimilarityLoss',
                    num_similar=info['n_similar'],
                    loss_weight=1 - args['Lambda']))))
    state = {
        f'cls_head.{k}': torch.from_numpy(v)
        for k, v in arrays_of(fixtures, case, 'state').items()
        if not k.startswith('fc1.')  # unused by the original's forward
    }
    model.load_state_dict(state, strict=True)
    model.eval()
    names = [v['name'] for v in info['videos']]
    feats = [
        torch.from_numpy(npz[f'{case}/input/features/{n}']) for n in names
    ]
    labels = torch.from_numpy(npz[f'{case}/input/labels'])
    samples = []
    for name, feat, label in zip(names, feats, labels):
        ds = ActionDataSample()
        ds.set_metainfo(
            dict(video_name=name, num_snippets=len(feat), fps=25.,
                 snippet_size=16))
        ds.gt_label = label
        samples.append(ds)
    assert [len(f) for f in feats] == npz[f'{case}/input/seq_len'].tolist()
    return model, torch.cat(feats), samples


@pytest.mark.parametrize('case', CASES)
def test_forward(fixtures, case):
    model, x, samples = build(fixtures, case)
    ref = arrays_of(fixtures, case, 'forward')
    with torch.no_grad():
        h, cas = model(x, samples, mode='tensor')
    for i, ds in enumerate(samples):
        name, t = ds.metainfo['video_name'], ds.metainfo['num_snippets']
        assert_forward_close(h[i, :t].numpy(), ref[f'{name}/features'])
        assert_forward_close(cas[i, :t].numpy(),
                             ref[f'{name}/element_logits'])
        assert not h[i, t:].any() and not cas[i, t:].any()


@pytest.mark.parametrize('case', CASES)
def test_losses(fixtures, case):
    """MIL, CASL and the total through the head (dropout is off in eval
    mode, as in the fixtures), and the loss modules built alone."""
    model, x, samples = build(fixtures, case)
    ref = arrays_of(fixtures, case, 'loss')
    meta, _ = fixtures
    lam = meta['cases'][case]['args']['Lambda']
    losses = model(x, samples, mode='loss')
    assert set(losses) == {'loss_mil', 'loss_casl'}
    total = sum(losses.values())
    np.testing.assert_allclose(total.item(), ref['total_loss'], atol=LOSS_TOL)
    np.testing.assert_allclose(losses['loss_mil'].item() / lam,
                               ref['milloss'], atol=LOSS_TOL)
    np.testing.assert_allclose(losses['loss_casl'].item() / (1 - lam),
                               ref['casloss'], atol=LOSS_TOL)
    # the registered losses alone, unweighted
    with torch.no_grad():
        h, cas = model(x, samples, mode='tensor')
    mask = torch.zeros(cas.shape[:2], dtype=torch.bool)
    for i, ds in enumerate(samples):
        mask[i, :ds.metainfo['num_snippets']] = True
    labels = torch.stack([ds.gt_label for ds in samples])
    mil = MODELS.build(dict(type='MILLoss', loss_weight=1.))
    casl = MODELS.build(
        dict(type='CoActivitySimilarityLoss', num_similar=3, loss_weight=1.))
    np.testing.assert_allclose(
        mil(cas, mask, labels).item(), ref['milloss'], atol=LOSS_TOL)
    np.testing.assert_allclose(
        casl(h, cas, mask, labels).item(), ref['casloss'], atol=LOSS_TOL)


@pytest.mark.parametrize('case', CASES)
def test_video_scores(fixtures, case):
    model, x, samples = build(fixtures, case)
    _, npz = fixtures
    scores = model.snippet_scores(x, samples)
    assert_forward_close(scores['video_score'].numpy(),
                         npz[f'{case}/test/video_scores'])
    # plain W-TALC has no class-agnostic foreground score
    assert 'foreground' not in scores
    assert torch.allclose(scores['cas_softmax'],
                          torch.softmax(scores['cas'], -1))


def sorted_rows(rows: np.ndarray) -> np.ndarray:
    """Rows (class, start, end, score) sorted by class, start, end."""
    return rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]


@pytest.mark.parametrize('case', CASES)
def test_segments(fixtures, case):
    """Segments per video as sets: same count, times 1e-6 s, scores 1e-5;
    through the model's own post-processing and through the registered
    post-processor built alone."""
    model, x, samples = build(fixtures, case)
    meta, _ = fixtures
    seconds = meta['cases'][case]['post_processing']['seconds_per_snippet']
    ref = arrays_of(fixtures, case, 'segments')
    scores = model.snippet_scores(x, samples)
    own = model.post_process(scores, samples)
    post = TASK_UTILS.build(dict(type='WTALCPostProcessor'))
    alone = post(
        cas=scores['cas'], mask=scores['mask'],
        seconds_per_snippet=[seconds] * len(samples))
    assert sum(len(s) for s in own) == len(ref['video']) > 0
    for i in range(len(samples)):
        sel = ref['video'] == i
        expected = sorted_rows(
            np.stack([
                ref['class'][sel], ref['start'][sel] * seconds,
                ref['end'][sel] * seconds, ref['score'][sel]
            ], 1).astype(np.float64))
        for segments in (own[i], alone[i]):
            assert segments.dtype == np.float64 and segments.shape[1] == 4
            got = sorted_rows(segments[:, [2, 0, 1, 3]])
            assert len(got) == len(expected), f'video {i}'
            np.testing.assert_array_equal(got[:, 0], expected[:, 0])
            np.testing.assert_allclose(
                got[:, 1:3], expected[:, 1:3], rtol=0, atol=TIME_TOL)
            np.testing.assert_allclose(
                got[:, 3], expected[:, 3], rtol=0, atol=SCORE_TOL)
