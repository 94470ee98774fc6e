# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU against the outputs of the original code (MengyuanChen21/
ECCV2022-DELU @ a60e46d, ``tests/data/reference/base_models/delu/``):
forward, every loss term and the total (curriculum, ordering quirk),
gradients, proposals before and after the soft-NMS, the final detections,
the evaluator's mAP and the sampler's draws. Tolerances are the json's."""
import json

import numpy as np
import pytest
import torch


CASE = 'delu_2048'
CASES = ('delu_2048', 'delu_2048_t50')
ITRS = (0, 1000, 3750)
# fixture loss_dict keys -> DELULoss keys
LOSS_KEYS = {
    'edl_loss': 'loss_edl',
    'uct_guide_loss': 'loss_uct_guide',
    'loss_mil_orig': 'loss_mil_orig',
    'loss_mil_supp': 'loss_mil_supp',
    'loss_supp_contrastive': 'loss_co_activity',
    'mutual_loss': 'loss_mutual',
    'norm_loss': 'loss_norm',
    'guide_loss': 'loss_guide',
}


def close(actual, expected, rel=1e-5, what=''):
    """|actual - expected| <= rel * max(1, max|expected|)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    atol = rel * max(1., float(np.abs(expected).max(initial=0.)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol,
                               err_msg=what)


@pytest.fixture(scope='module')
def ref(reference_dir):
    # a missing file fails (FileNotFoundError), it is never skipped
    folder = reference_dir / 'base_models' / 'delu'
    npz = np.load(folder / 'delu_fixtures.npz')
    meta = json.loads((folder / 'delu_fixtures.json').read_text())
    return {k: npz[k] for k in npz.files}, meta


@pytest.fixture(scope='module')
def videos(ref):
    arrays, meta = ref
    return [v['name'] for v in meta['cases'][CASE]['videos']]


@pytest.fixture(scope='module')
def head(ref):
    import refineloc_mm  # noqa: F401
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    arrays, _ = ref
    model = MODELS.build(
        dict(type='DELU', cls_head=dict(type='DELUHead', num_classes=20,
                                        in_channels=2048)))
    prefix = f'{CASE}/state/'
    state = {
        k[len(prefix):]: torch.from_numpy(v)
        for k, v in arrays.items()
        if k.startswith(prefix) and not k.startswith(prefix + 'feat_encoder')
    }
    state['iteration'] = torch.zeros(())
    model.cls_head.load_state_dict(state, strict=True)
    return model.cls_head.eval()


def run_head(head, feats):
    """Forward of a list of [L, D] arrays as one padded batch."""
    from refineloc_mm.models.utils.snippet_ops import length_mask
    lengths = [len(f) for f in feats]
    x = torch.from_numpy(np.concatenate(feats))
    mask = length_mask(lengths, max(lengths), x.device)
    with torch.no_grad():
        return head(x, mask), mask


@pytest.fixture(scope='module')
def test_forward(ref, head, videos):
    arrays, _ = ref
    feats = [arrays[f'{CASE}/input/features/{v}'] for v in videos]
    return run_head(head, feats)


def train_batch(ref, case):
    arrays, meta = ref
    names = meta['cases'][case]['training_batch']['videos']
    feats = [
        arrays[f'{CASE}/input/features/{v}'][arrays[
            f'{case}/train/input/perturb_idx/{v}']] for v in names
    ]
    labels = torch.from_numpy(arrays[f'{CASE}/input/labels'])
    return feats, labels


@pytest.fixture(scope='module')
def train_forward(ref, head):
    return {
        case: run_head(head, train_batch(ref, case)[0])[0]
        for case in CASES
    }


def test_forward_every_video(ref, test_forward, videos):
    """Eval-mode forward of the 10 test videos (one padded batch: each
    video must get what it gets alone): feat, cas, attn, v_atn, f_atn."""
    arrays, _ = ref
    out, mask = test_forward
    for b, v in enumerate(videos):
        n = int(mask[b].sum())
        key = f'{CASE}/forward/{v}'
        for name in ('cas', 'attn', 'v_atn', 'f_atn'):
            close(out[name][b, :n], arrays[f'{key}/{name}'],
                  what=f'{v} {name}')
        feat = out['feat'][b, :n]
        close(feat.mean(0), arrays[f'{key}/feat_mean_over_time'],
              what=f'{v} feat mean over time')
        close(feat.mean(1), arrays[f'{key}/feat_mean_over_channels'],
              what=f'{v} feat mean over channels')
        if f'{key}/feat' in arrays:
            close(feat, arrays[f'{key}/feat'], what=f'{v} feat')


def test_forward_alone_equals_batched(ref, head, test_forward, videos):
    arrays, _ = ref
    out, mask = test_forward
    alone, _ = run_head(head, [arrays[f'{CASE}/input/features/{videos[1]}']])
    n = int(mask[1].sum())
    for name in ('cas', 'attn', 'feat'):
        torch.testing.assert_close(alone[name][0], out[name][1, :n],
                                   rtol=0, atol=1e-5)


@pytest.mark.parametrize('case', CASES)
def test_forward_training_batch(ref, train_forward, case):
    arrays, _ = ref
    out = train_forward[case]
    for name in ('cas', 'attn', 'v_atn', 'f_atn'):
        close(out[name], arrays[f'{case}/train/forward/{name}'],
              what=f'{case} {name}')
    close(out['feat'].mean(1),
          arrays[f'{case}/train/forward/feat_mean_over_time'])
    close(out['feat'].mean(2),
          arrays[f'{case}/train/forward/feat_mean_over_channels'])


def stored_outputs(ref, case, feat, requires_grad=False):
    arrays, _ = ref
    out = {
        k: torch.from_numpy(arrays[f'{case}/train/forward/{k}']).clone()
        .requires_grad_(requires_grad)
        for k in ('cas', 'attn', 'v_atn', 'f_atn')
    }
    out['feat'] = feat.detach()
    return out


def delu_loss(**kwargs):
    from mmaction.registry import MODELS
    return MODELS.build(dict(type='DELULoss', **kwargs))


@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('itr', ITRS)
def test_every_loss_term_and_total(ref, train_forward, case, itr):
    """The weighted terms and the total at each recorded iteration, on the
    stored training outputs (the co-activity term on this port's feat)."""
    arrays, _ = ref
    out = stored_outputs(ref, case, train_forward[case]['feat'])
    labels = torch.from_numpy(arrays[f'{CASE}/input/labels'])
    mask = torch.ones(out['cas'].shape[:2], dtype=torch.bool)
    losses = delu_loss()(out, labels, mask, itr)
    assert set(losses) == set(LOSS_KEYS.values())
    for orig, ours in LOSS_KEYS.items():
        close(losses[ours], arrays[f'{case}/train/loss/itr{itr}/{orig}'],
              what=f'{case} itr {itr} {orig}')
    close(sum(losses.values()),
          arrays[f'{case}/train/loss/itr{itr}/total_loss'], what='total')


@pytest.mark.parametrize('case', CASES)
def test_loss_parts(ref, case):
    """Intermediate values: EDL video logits, snippet uncertainty and its
    sort order, the per-video MIL losses, the curriculum curve, the raw
    (unweighted) terms."""
    from mmaction.registry import MODELS
    from refineloc_mm.base_models.delu.delu_loss import suppress
    arrays, _ = ref
    out = stored_outputs(ref, case, torch.zeros(1))
    labels = torch.from_numpy(arrays[f'{CASE}/input/labels'])
    cas, attn = out['cas'], out['attn']
    mask = torch.ones(cas.shape[:2], dtype=torch.bool)
    supp = suppress(cas, attn)
    parts = f'{case}/train/loss_parts'
    if f'{parts}/element_logits_supp' in arrays:
        close(supp, arrays[f'{parts}/element_logits_supp'])
    edl = MODELS.build(dict(type='VideoEvidentialLoss', loss_weight=1.))
    close(edl.video_logits(supp, attn, mask),
          arrays[f'{parts}/edl_video_logits'])
    close(edl(supp, attn, mask, labels), arrays[f'{case}/train/loss_raw/edl'])
    uct = MODELS.build(dict(type='UncertaintyGuideLoss', loss_weight=1.))
    u = uct.snippet_uncertainty(supp)
    close(u, arrays[f'{parts}/snippet_uncertainty'])
    np.testing.assert_array_equal(
        torch.sort(u, dim=1, stable=True)[1].numpy(),
        arrays[f'{parts}/uncertainty_sort_index_stable'])
    for itr in ITRS:
        close(uct.curve(itr, mask.sum(1), cas.shape[1])[0],
              arrays[f'{case}/train/curve/itr{itr}'], rel=1e-6)
        close(uct(cas, supp, attn, out['v_atn'], out['f_atn'], mask, itr),
              arrays[f'{case}/train/loss_raw/itr{itr}/uct_guide'])
    for key, back, x in (('mil_orig', True, cas), ('mil_supp', False, supp)):
        mil = MODELS.build(dict(type='BackgroundMILLoss',
                                with_background=back))
        close(mil.per_video(x, mask, labels),
              arrays[f'{parts}/{key}_per_video'])
        close(mil(x, mask, labels), arrays[f'{case}/train/loss_raw/{key}'])
    mutual = MODELS.build(dict(type='AttentionMutualLoss'))
    close(mutual(out['v_atn'], out['f_atn'], mask),
          arrays[f'{case}/train/loss_raw/mutual'])


def test_uncertainty_ordering_quirk(ref):
    """The original weights snippet j by the curve at the time index of the
    j-th least uncertain snippet (kept by default); the stable sort gives
    the fixture's stable-ties value; the paper's rank ordering is another
    loss."""
    from mmaction.registry import MODELS
    from refineloc_mm.base_models.delu.delu_loss import suppress
    arrays, _ = ref
    out = stored_outputs(ref, CASE, torch.zeros(1))
    cas, attn = out['cas'], out['attn']
    mask = torch.ones(cas.shape[:2], dtype=torch.bool)
    supp = suppress(cas, attn)
    args = (cas, supp, attn, out['v_atn'], out['f_atn'], mask, 0)
    stable = MODELS.build(dict(type='UncertaintyGuideLoss', loss_weight=1.,
                               stable_sort=True))
    close(stable(*args),
          arrays[f'{CASE}/train/loss_raw/itr0/uct_guide_stable_ties'])
    rank = MODELS.build(dict(type='UncertaintyGuideLoss', loss_weight=1.,
                             ordering='rank'))
    assert abs(float(rank(*args)) -
               float(arrays[f'{CASE}/train/loss_raw/itr0/uct_guide'])) > 1e-3
    # the curriculum: rising at itr 0, flat at max_iter / 2, falling after
    curve = stable.curve(0, mask.sum(1), 320)[0]
    assert curve[0] < 0.5 and curve[-1] > 1.5
    assert torch.allclose(stable.curve(2500, mask.sum(1), 320), torch.ones(1))


def test_gradients(ref, train_forward):
    """Gradients of the total at itr 1000 w.r.t. cas, attn, v_atn, f_atn
    (separate leaves), T = 50."""
    case = 'delu_2048_t50'
    arrays, _ = ref
    out = stored_outputs(ref, case, train_forward[case]['feat'], True)
    labels = torch.from_numpy(arrays[f'{CASE}/input/labels'])
    mask = torch.ones(out['cas'].shape[:2], dtype=torch.bool)
    total = sum(delu_loss()(out, labels, mask, 1000).values())
    total.backward()
    for name in ('cas', 'attn', 'v_atn', 'f_atn'):
        np.testing.assert_allclose(
            out[name].grad.numpy(),
            arrays[f'{case}/train/grad_itr1000/{name}'], rtol=0, atol=1e-6,
            err_msg=name)


@pytest.fixture(scope='module')
def post(ref, videos):
    """DELUPostProcessor on the stored cas/attn of the 10 test videos, one
    padded batch, with the fixture's ambiguous region."""
    from refineloc_mm.base_models.delu import DELUPostProcessor
    from refineloc_mm.models.utils.snippet_ops import length_mask
    arrays, meta = ref
    lengths = [len(arrays[f'{CASE}/forward/{v}/cas']) for v in videos]
    t = max(lengths)
    cas = np.zeros((len(videos), t, 21), np.float32)
    attn = np.zeros((len(videos), t), np.float32)
    for b, v in enumerate(videos):
        cas[b, :lengths[b]] = arrays[f'{CASE}/forward/{v}/cas']
        attn[b, :lengths[b]] = arrays[f'{CASE}/forward/{v}/attn'][:, 0]
    mask = length_mask(lengths, t, torch.device('cpu'))
    return cas, attn, mask, DELUPostProcessor()


def as_set(video, cls, start, end, score):
    rows = np.stack([video, cls, start, end, score], 1).astype(np.float64)
    return rows[np.lexsort(rows.T[::-1])]


def assert_same_proposals(actual, expected):
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual[:, :4], expected[:, :4])
    np.testing.assert_allclose(actual[:, 4], expected[:, 4], rtol=0,
                               atol=1e-5)


def test_class_scores_and_predicted_classes(ref, post):
    arrays, _ = ref
    cas, attn, mask, pp = post
    props = pp.proposals(cas, attn, mask)
    close(props['class_scores'], arrays[f'{CASE}/detect/class_scores'])
    video, cls = np.nonzero(props['pred'])
    np.testing.assert_array_equal(video,
                                  arrays[f'{CASE}/detect/pred_classes/video'])
    np.testing.assert_array_equal(cls,
                                  arrays[f'{CASE}/detect/pred_classes/class'])


def test_proposals_before_soft_nms(ref, post):
    arrays, _ = ref
    cas, attn, mask, pp = post
    props = pp.proposals(cas, attn, mask)
    key = f'{CASE}/proposals_pre_nms'
    assert_same_proposals(
        as_set(props['video'], props['cls'], props['start'], props['end'],
               props['score']),
        as_set(*(arrays[f'{key}/{k}']
                 for k in ('video', 'class', 'start', 'end', 'score'))))
    # the threshold of each proposal too
    mine = as_set(props['video'], props['cls'], props['start'], props['end'],
                  props['threshold_index'])
    theirs = as_set(*(arrays[f'{key}/{k}'] for k in (
        'video', 'class', 'start', 'end', 'threshold_index')))
    np.testing.assert_array_equal(mine, theirs)


def test_proposals_after_soft_nms(ref, post, videos):
    arrays, meta = ref
    cas, attn, mask, pp = post
    dets = pp.soft_nms(pp.proposals(cas, attn, mask))
    key = f'{CASE}/proposals_soft_nms'
    cols = ('video', 'class', 'start', 'end', 'score')
    assert_same_proposals(
        as_set(dets['video'], dets['cls'], dets['start'], dets['end'],
               dets['score']), as_set(*(arrays[f'{key}/{k}'] for k in cols)))
    # the filters: ambiguous regions, then the 1-snippet drop
    amb = meta['cases'][CASE]['ambiguous_test_txt']
    pp.ambiguous = {name: [(t0, t1)] for name, t0, t1 in amb}
    dropped = pp.ambiguous_mask(dets, videos, [0.64] * len(videos))
    short = dets['end'] - dets['start'] < pp.min_length
    for flag, name in ((dropped, 'ambiguous_dropped'),
                       (short, 'short_dropped')):
        mine = as_set(dets['video'], dets['cls'], dets['start'],
                      dets['end'], flag)
        theirs = as_set(*(arrays[f'{key}/{k}']
                          for k in cols[:4] + (name, )))
        np.testing.assert_array_equal(mine, theirs, err_msg=name)
    pp.ambiguous = {}


def final_detections(ref, post, videos, tmp_path):
    """The post-processor's output (seconds) with the fixture's ambiguous
    file, as [video, class, start, end, score] rows."""
    from refineloc_mm.base_models.delu import DELUPostProcessor
    _, meta = ref
    cas, attn, mask, _ = post
    amb = tmp_path / 'Ambiguous_test.txt'
    amb.write_text(''.join(f'{n}  {a} {b}\n'
                           for n, a, b in meta['cases'][CASE][
                               'ambiguous_test_txt']))
    pp = DELUPostProcessor(ambiguous_file=str(amb))
    segs = pp(cas, attn, mask, [0.64] * len(videos), videos)
    return np.concatenate([
        np.concatenate([np.full((len(s), 1), v), s[:, [2, 0, 1, 3]]], 1)
        for v, s in enumerate(segs)
    ])


def test_final_detections(ref, post, videos, tmp_path):
    arrays, _ = ref
    rows = final_detections(ref, post, videos, tmp_path)
    key = f'{CASE}/proposals_soft_nms'
    kept = (arrays[f'{key}/ambiguous_dropped'] == 0) & (
        arrays[f'{key}/short_dropped'] == 0)
    assert len(rows) == kept.sum() == \
        ref[1]['cases'][CASE]['test']['evaluator_prediction_count']
    mine = as_set(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4])
    theirs = as_set(*(arrays[f'{key}/{k}'][kept] for k in (
        'video', 'class', 'start_sec', 'end_sec', 'score')))
    np.testing.assert_array_equal(mine[:, :2], theirs[:, :2])
    np.testing.assert_allclose(mine[:, 2:4], theirs[:, 2:4], rtol=0,
                               atol=1e-6)
    np.testing.assert_allclose(mine[:, 4], theirs[:, 4], rtol=0, atol=1e-5)


def test_video_scores(ref, head, test_forward):
    """The classification video score (k = 1: max over time)."""
    arrays, _ = ref
    out, mask = test_forward
    close(head.video_score(out['cas'], mask),
          arrays[f'{CASE}/test/video_scores'])


def test_evaluator_map(ref, post, videos, tmp_path):
    """The project's metric on the final detections (snippets) equals the
    original evaluator's AP table and mAP (literal tIoU list, ground truth
    rounded to snippets)."""
    from refineloc_mm.evaluation.metrics.temporal_map_metric import \
        temporal_detection_ap
    arrays, meta = ref
    case = meta['cases'][CASE]
    rows = final_detections(ref, post, videos, tmp_path)
    gt = [(v, c, s, e) for v, info in enumerate(case['videos'])
          for c, s, e in info['ground_truth_snippets']]
    gt = np.asarray(gt, dtype=np.float64)
    assert len(gt) == case['test']['evaluator_ground_truth_count']
    tious = case['test']['eval_tiou']
    ap, classes = temporal_detection_ap(
        rows[:, 0], rows[:, 1], rows[:, 2:4] / 0.64, rows[:, 4], gt[:, 0],
        gt[:, 1], gt[:, 2:4], tious)
    np.testing.assert_array_equal(classes, np.arange(20))
    np.testing.assert_allclose(ap, arrays[f'{CASE}/eval/ap'], rtol=0,
                               atol=1e-6)
    np.testing.assert_allclose(ap.mean(1), arrays[f'{CASE}/eval/mAP'],
                               rtol=0, atol=1e-6)
    assert abs(ap.mean() - float(arrays[f'{CASE}/eval/average_mAP'])) < 1e-6


class _Dataset:

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(labels=self.labels[i])


def test_sampler_draws(ref):
    """DELUBatchSampler.draw_batch and the perturbation of every drawn
    video, from one generator as the original's load_data: the same
    videos, random videos and snippet indices."""
    from mmengine.dataset import DefaultSampler

    from refineloc_mm.base_models.delu import DELUBatchSampler
    from refineloc_mm.datasets.transforms.resample_snippets import \
        random_indices
    arrays, meta = ref
    video_labels = arrays['sampler/video_labels']
    labels = [list(np.nonzero(row)[0]) for row in video_labels]
    lengths = arrays['sampler/video_lengths']
    sampler = DELUBatchSampler(
        DefaultSampler(_Dataset(labels), shuffle=False, seed=0),
        batch_size=10, num_similar=3)
    assert len(sampler.class_videos) == 20
    rng = np.random.RandomState(meta['seed'])
    for d in range(3):
        key = f'sampler/draw{d}'
        batch = sampler.draw_batch(rng)
        np.testing.assert_array_equal(batch, arrays[f'{key}/video_index'])
        np.testing.assert_array_equal(batch[6:],
                                      arrays[f'{key}/rand_sampleid'])
        np.testing.assert_array_equal(video_labels[batch],
                                      arrays[f'{key}/labels'])
        perturb = np.stack(
            [random_indices(int(lengths[i]), 320, rng) for i in batch])
        np.testing.assert_array_equal(perturb, arrays[f'{key}/perturb_idx'])


def test_random_perturb_and_uniform_sampling(ref):
    from refineloc_mm.datasets.transforms.resample_snippets import (
        random_indices, uniform_indices)
    arrays, meta = ref
    rng = np.random.RandomState(meta['seed'])
    for n in meta['cases']['sampler']['random_perturb_lengths']:
        np.testing.assert_array_equal(
            random_indices(n, 320, rng),
            arrays[f'sampler/random_perturb/L{n}'], err_msg=f'L={n}')
        np.testing.assert_array_equal(
            uniform_indices(n, 320), arrays[f'sampler/uniform_sampling/L{n}'])
