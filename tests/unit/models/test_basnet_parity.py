# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Parity of the BaS-Net port with the original code (``Pilhyeon/BaSNet-
pytorch`` @ c8c6bbd) on the fixtures ``tests/data/reference/base_models/
base_model_fixtures.{json,npz}`` (cases basnet_small, basnet_small_t200,
basnet_2048): forward outputs, the min-max normalised CAS, the binarised
test scores, every loss, the proposals before the NMS, the final segments
and the resampling indices, all through components built from config dicts
(``MODELS``, ``TASK_UTILS``, ``TRANSFORMS``)."""
import json

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
from helpers.parity import assert_forward_close, forward_atol
from mmaction.registry import MODELS, TASK_UTILS, TRANSFORMS
from mmaction.structures import ActionDataSample
from refineloc_mm.base_models.basnet.basnet_post_processor import \
    minmax_norm

CASES = ['basnet_small', 'basnet_small_t200', 'basnet_2048']
OUTPUTS = ['score_base', 'cas_base', 'score_supp', 'cas_supp', 'fore_weights']
SNIPPET_SIZE, FPS = 16, 25
LOSS_TOL = 1e-5
TIME_TOL, SCORE_TOL = 1e-6, 1e-5


@pytest.fixture(scope='module')
def fixtures(reference_dir):
    ref = reference_dir / 'base_models'
    with open(ref / 'base_model_fixtures.json') as f:
        meta = json.load(f)
    return meta, np.load(ref / 'base_model_fixtures.npz')


def resampled_metainfo(length, num_segments, training=False):
    """Run ``ResampleSnippets`` on a raw video of ``length`` snippets."""
    init_default_scope('mmaction')
    resample = TRANSFORMS.build(
        dict(type='ResampleSnippets', num_segments=num_segments))
    results = dict(
        video_name='v', num_snippets=length, snippet_size=SNIPPET_SIZE,
        fps=FPS, features=np.arange(length, dtype=np.float32)[:, None])
    if training:
        results['pseudo_label'] = np.zeros(length, np.int64)
        results['sample_view'] = 'train'
    return resample(results)


class Case:
    """A fixture case: the model built from config with its weights, its
    samples and the outputs of one scoring pass."""

    def __init__(self, name, meta, arrays):
        init_default_scope('mmaction')
        self.name = name
        self.info = meta['cases'][name]
        self.arrays = arrays
        x = torch.from_numpy(self.get('input/x'))
        self.num_videos, self.num_segments, dim = x.shape
        self.model = MODELS.build(
            dict(
                type='BaSNet',
                cls_head=dict(
                    type='BaSNetHead',
                    num_classes=self.info['num_classes'],
                    in_channels=dim,
                    loss=dict(type='BaSNetLoss', alpha=self.info['alpha']),
                    post_processor=dict(
                        type='BaSNetPostProcessor',
                        class_thresh=self.info['class_thresh'],
                        scale=self.info['scale'],
                        nms_thresh=self.info['nms_thresh']))))
        prefix = f'{name}/state/'
        state = {
            'cls_head.' + k[len(prefix):]: torch.from_numpy(arrays[k])
            for k in arrays.files if k.startswith(prefix)
        }
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        assert not unexpected and all(
            not k.startswith('cls_head.') for k in missing), (missing,
                                                              unexpected)
        self.model.eval()
        self.lengths = self.get('input/vid_num_seg')
        self.samples = []
        for i, video in enumerate(self.info['videos']):
            meta_i = resampled_metainfo(int(self.lengths[i]),
                                        self.num_segments)
            ds = ActionDataSample()
            ds.set_metainfo(
                dict(video_name=video['name'], fps=FPS,
                     num_snippets=meta_i['num_snippets'],
                     snippet_size=meta_i['snippet_size']))
            ds.gt_label = torch.from_numpy(self.get('input/labels')[i])
            self.samples.append(ds)
        # packed [S, D] inputs, as the data preprocessor makes them
        self.scores = self.model.snippet_scores(x.flatten(0, 1), self.samples)

    def get(self, key):
        return self.arrays[f'{self.name}/{key}']

    def rows(self, group, video):
        """[M, 4] (start, end, class, score) of ``group`` for one video."""
        keep = self.get(f'{group}/video') == video
        return np.stack([
            self.get(f'{group}/start'), self.get(f'{group}/end'),
            self.get(f'{group}/class'), self.get(f'{group}/score')
        ], 1)[keep]


@pytest.fixture(scope='module')
def cases(fixtures):
    built = {}

    def get(name):
        if name not in built:
            built[name] = Case(name, *fixtures)
        return built[name]

    return get


@pytest.mark.parametrize('name', CASES)
def test_forward_outputs(cases, name):
    case = cases(name)
    s = case.scores
    ours = dict(
        score_base=s['score_base'], cas_base=s['cas_base'],
        score_supp=s['score_supp'], cas_supp=s['cas_supp'],
        fore_weights=s['foreground'][..., None])
    for key in OUTPUTS:
        ref = case.get(f'forward/{key}')
        assert ours[key].shape == ref.shape, key
        assert_forward_close(ours[key].numpy(), ref, err_msg=key)
    # tensor mode gives the same outputs, in the original's order
    with torch.no_grad():
        x = torch.from_numpy(case.get('input/x'))
        out = case.model(x[:1, :40], mode='tensor')  # padded [B, T, D]
    assert len(out) == 5 and out[4].shape == (1, 40, 1)


@pytest.mark.parametrize('name', CASES)
def test_contract_scores(cases, name):
    """cas_softmax: softmax over the action classes of cas_supp;
    video_score: the action classes of score_supp."""
    s = cases(name).scores
    n = s['video_score'].shape[1]
    torch.testing.assert_close(s['video_score'], s['score_supp'][:, :n])
    torch.testing.assert_close(s['cas_softmax'],
                               torch.softmax(s['cas_supp'][..., :n], -1))


@pytest.mark.parametrize('name', CASES)
def test_losses(cases, name):
    case = cases(name)
    s = case.scores
    loss = case.model.cls_head.loss_module
    kwargs = dict(
        score_base=s['score_base'], score_supp=s['score_supp'],
        fore_weights=s['foreground'], mask=s['mask'],
        video_labels=torch.from_numpy(case.get('input/labels')))
    terms = loss.terms(**kwargs)
    weighted = loss(**kwargs)
    for ours, key in (('base', 'loss_base'), ('supp', 'loss_supp')):
        np.testing.assert_allclose(
            float(terms[ours]), case.get(f'loss/{key}'), rtol=0,
            atol=LOSS_TOL, err_msg=key)
    np.testing.assert_allclose(
        float(terms['norm']), case.get('loss/loss_norm'), rtol=LOSS_TOL,
        atol=0)
    total = sum(v for k, v in weighted.items() if k.startswith('loss'))
    np.testing.assert_allclose(
        float(total), case.get('loss/loss_total'), rtol=0, atol=LOSS_TOL)
    # the pseudo ground truth loss is the head's, not BaSNetLoss's
    assert 'loss_pseudo_gt' not in weighted


@pytest.mark.parametrize('name', CASES)
def test_minmax_and_binarized_scores(cases, name):
    case = cases(name)
    ref = case.get('post/cas_supp_minmax')
    mask = case.scores['mask']
    # the normalisation itself, on the original's CAS
    exact = minmax_norm(torch.from_numpy(case.get('forward/cas_supp')), mask)
    np.testing.assert_allclose(exact.numpy(), ref, rtol=0, atol=1e-6)
    # on our CAS: the forward tolerance in CAS units (max - min scales it)
    cas = case.scores['cas_supp']
    ours = minmax_norm(cas, mask).numpy()
    delta = np.maximum(
        torch.relu(cas.amax(1)).numpy() - torch.relu(cas.amin(1)).numpy(),
        1e-12)
    assert (np.abs(ours - ref) * delta[:, None]).max() <= forward_atol(
        case.get('forward/cas_supp'))
    # test.py's binarised class scores and its accuracy
    post = case.model.cls_head.post_processor
    scores = case.scores['video_score'].numpy()
    binarized = (scores >= post.class_thresh).astype(np.float32)
    np.testing.assert_array_equal(binarized, case.get('test/score_binarized'))
    labels = case.get('input/labels')
    acc = (binarized == labels).all(1).mean()
    np.testing.assert_allclose(acc, case.get('eval/test_acc'))


def sort_rows(rows):
    """Rows sorted by (class, start, end) for comparing as sets."""
    return rows[np.lexsort((rows[:, 1], rows[:, 0], rows[:, 2]))]


def assert_rows_equal(ours, ref, what):
    assert len(ours) == len(ref), f'{what}: {len(ours)} vs {len(ref)}'
    if not len(ref):
        return
    np.testing.assert_array_equal(ours[:, 2], ref[:, 2], err_msg=what)
    np.testing.assert_allclose(ours[:, :2], ref[:, :2], rtol=0,
                               atol=TIME_TOL, err_msg=what)
    np.testing.assert_allclose(ours[:, 3], ref[:, 3], rtol=0,
                               atol=SCORE_TOL, err_msg=what)


@pytest.mark.parametrize('name', CASES)
def test_proposals_before_nms(cases, name):
    """Every proposal of the ten thresholds, in the order the original
    hands them to its NMS (class, threshold, time)."""
    case = cases(name)
    # a post-processor built on its own, with the case's settings
    post = TASK_UTILS.build(
        dict(type='BaSNetPostProcessor',
             class_thresh=case.info['class_thresh'],
             act_thresh=case.info['act_thresh'], scale=case.info['scale'],
             lambda_=case.info['oic']['lambda'],
             gamma=case.info['oic']['gamma'],
             nms_thresh=case.info['nms_thresh']))
    s = case.scores
    norm = minmax_norm(s['cas_supp'], s['mask']).numpy()
    n = s['video_score'].shape[1]
    total = 0
    for v in range(case.num_videos):
        sps = case.samples[v].metainfo['snippet_size'] / FPS
        ours = post.proposals(norm[v, :, :n], s['video_score'][v].numpy(),
                              sps)
        ref = case.rows('proposals_before_nms', v)
        assert_rows_equal(ours, ref, f'{name} video {v}')
        total += len(ref)
    assert total == len(case.get('proposals_before_nms/video')) > 0


@pytest.mark.parametrize('name', CASES)
def test_segments(cases, name):
    """Final segments (after the per-class NMS) as sets, per video."""
    case = cases(name)
    segments = case.model.post_process(case.scores, case.samples)
    assert len(segments) == case.num_videos
    for v, ours in enumerate(segments):
        assert ours.dtype == np.float64 and ours.shape[1:] == (4, )
        ref = case.rows('segments', v)
        assert_rows_equal(sort_rows(ours), sort_rows(ref),
                          f'{name} video {v}')
    assert sum(len(s) for s in segments) == len(case.get('segments/video'))


@pytest.mark.parametrize('name', CASES)
def test_resampling_indices(fixtures, name):
    """ResampleSnippets draws the original's indices: uniform for inference
    samples, ``random_perturb`` for training samples (np.random seeded as
    the fixtures, videos in json order)."""
    meta, arrays = fixtures
    info = meta['cases'][name]
    t = info['num_segments']
    for video in info['videos']:
        out = resampled_metainfo(video['L'], t)
        ref = arrays[f'{name}/input/uniform_idx/{video["name"]}']
        np.testing.assert_array_equal(out['snippet_inds'], ref)
        np.testing.assert_array_equal(out['features'][:, 0], ref)
        assert out['num_snippets'] == t and out['raw_num_snippets'] == \
            video['L']
    np.random.seed(meta['seed'])
    for video in info['videos']:
        out = resampled_metainfo(video['L'], t, training=True)
        ref = arrays[f'{name}/input/random_perturb_idx/{video["name"]}']
        np.testing.assert_array_equal(out['snippet_inds'], ref)
        np.testing.assert_array_equal(out['features'][:, 0], ref)
