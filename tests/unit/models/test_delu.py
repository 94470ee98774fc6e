# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's components beyond the parity fixtures: padded batches, the
curriculum counter, the pseudo ground truth loss, the post-processing
quirks, the batch sampler and the training-only snippet perturbation."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
from mmaction.registry import MODELS, TASK_UTILS
from refineloc_mm.models.utils.snippet_ops import length_mask

REPO_CONFIGS = ('configs/delu/delu_i3d_1x100e_thumos14.py',
                'configs/delu/delu_i3d_1x110e_activitynet12.py',
                'configs/delu/delu_i3d_1x24e_synthetic.py',
                'configs/delu/refineloc-delu_i3d_10x100e_thumos14.py',
                'configs/delu/refineloc-delu_i3d_10x110e_activitynet12.py',
                'configs/delu/refineloc-delu_i3d_4x16e_synthetic.py')


def small_head(**kwargs):
    init_default_scope('mmaction')
    torch.manual_seed(0)
    cfg = dict(type='DELUHead', num_classes=4, in_channels=16,
               attention_channels=8, cls_channels=12)
    cfg.update(kwargs)
    return MODELS.build(cfg)


class _Sample:

    def __init__(self, n, labels, pseudo=None):
        self.metainfo = dict(num_snippets=n, video_name=f'v{n}',
                             snippet_size=16, fps=25.)
        self.gt_label = torch.tensor(labels, dtype=torch.float32)
        if pseudo is not None:
            self.pseudo_label = torch.as_tensor(pseudo)

    def __contains__(self, key):
        return hasattr(self, key)


def test_padded_batch_equals_videos_alone():
    """Random weights: every hidden activation read by a kernel-3
    convolution is zeroed on padding, so a padded batch gives each video
    exactly its own outputs."""
    head = small_head().eval()
    lengths = [9, 4, 7]
    x = torch.randn(sum(lengths), 16)
    mask = length_mask(lengths, 9, x.device)
    with torch.no_grad():
        batch = head(x, mask)
        start = 0
        for b, n in enumerate(lengths):
            alone = head(x[start:start + n], length_mask([n], n, x.device))
            for key in ('feat', 'cas', 'attn', 'v_atn', 'f_atn', 'v_logit'):
                torch.testing.assert_close(batch[key][b, :n], alone[key][0],
                                           rtol=1e-5, atol=1e-6)
                assert not batch[key][b, n:].any()
            start += n


def test_widths_are_checked():
    with pytest.raises(ValueError, match='stream_channels'):
        small_head(stream_channels=(8, 4))
    with pytest.raises(ValueError, match='odd'):
        small_head(in_channels=15)
    head = small_head(stream_channels=(10, 6), fusion_channels=5)
    out = head(torch.randn(6, 16), length_mask([6], 6, torch.device('cpu')))
    assert out['feat'].shape == (1, 6, 5)
    with pytest.raises(ValueError, match='in_channels=16'):
        head(torch.randn(6, 8), length_mask([6], 6, torch.device('cpu')))


def test_curriculum_counter_and_pseudo_gt_gradient():
    """loss() advances the curriculum in training mode, a reset restarts
    it; the pseudo ground truth loss alone trains both attention blocks."""
    head = small_head().train()
    lengths = [6] * 6
    x = torch.randn(36, 16)
    mask = length_mask(lengths, 6, x.device)
    labels = [[1, 0, 0, 0]] * 2 + [[0, 1, 0, 0]] * 2 + [[0, 0, 1, 1]] * 2
    pseudo = [[1, 0, -1, 1, 0, 0]] * 6
    samples = [_Sample(6, y, p) for y, p in zip(labels, pseudo)]
    losses = head.loss(x, mask, samples)
    assert int(head.iteration) == 1
    assert set(losses) == {
        'loss_edl', 'loss_uct_guide', 'loss_mil_orig', 'loss_mil_supp',
        'loss_co_activity', 'loss_mutual', 'loss_norm', 'loss_guide',
        'loss_pseudo_gt'
    }
    head.zero_grad()
    losses['loss_pseudo_gt'].backward()
    for name in ('vAttn', 'fAttn'):
        grad = getattr(head, name).attention[5].weight.grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert head.classifier[4].weight.grad is None
    head.eval()
    head.loss(x, mask, samples)
    assert int(head.iteration) == 1
    head.reset_parameters()
    assert int(head.iteration) == 0
    with pytest.raises(ValueError, match='no action label'):
        head.loss(x, mask, [_Sample(6, [0, 0, 0, 0])] * 6)


def test_post_processor_quirks(tmp_path):
    from refineloc_mm.base_models.delu import DELUPostProcessor
    cas = torch.zeros(1, 8, 3)
    cas[0, :, 0] = 2.
    attn = torch.full((1, 8), 0.05)
    mask = torch.ones(1, 8, dtype=torch.bool)
    # only snippet 0 is above every threshold: the original's .any() on the
    # indices gives nothing
    attn[0, 0] = 0.95
    pp = DELUPostProcessor()
    assert len(pp.proposals(cas, attn, mask)['score']) == 0
    keep = DELUPostProcessor(drop_if_only_position_zero=False)
    props = keep.proposals(cas, attn, mask)
    assert len(props['score']) == 20 and (props['start'] == 0).all()
    # 1-snippet proposals are dropped after the soft-NMS only
    assert len(keep(cas, attn, mask, [0.64])[0]) == 0
    attn[0, 1:3] = 0.95
    segs = pp(cas, attn, mask, [0.64])[0]
    assert len(segs) == 20
    np.testing.assert_allclose(segs[:, :2], [[0., 3 * 0.64]] * 20)
    # an ambiguous region drops what overlaps it
    amb = tmp_path / 'amb.txt'
    amb.write_text('v8  0.64 1.3\n')
    assert len(DELUPostProcessor(ambiguous_file=str(amb))(
        cas, attn, mask, [0.64], ['v8'])[0]) == 0
    # another post-processor reads the scores it needs, and names them
    with pytest.raises(ValueError, match='cas_softmax'):
        small_head().post_process(
            dict(cas=cas, attn=attn, mask=mask), [],
            TASK_UTILS.build(dict(type='SnippetThresholdSegmenter')))
    amb.write_text('v8 1.0\n')
    with pytest.raises(ValueError, match='amb.txt:1'):
        DELUPostProcessor(ambiguous_file=str(amb))


def test_soft_nms_matches_sequential_reference():
    """The all-groups soft-NMS against the original's loop, group by
    group, on random proposals with ties."""
    from refineloc_mm.base_models.delu.delu_post_processor import \
        soft_nms_groups
    rng = np.random.default_rng(0)
    m = 60
    group = rng.integers(0, 4, m)
    start = rng.integers(0, 30, m)
    end = start + rng.integers(1, 10, m)
    score = rng.integers(0, 5, m) / 4.
    idx, decayed, _ = soft_nms_groups(group, score, start, end)
    for g in range(4):
        sel = np.nonzero(group == g)[0]
        dets = np.stack([sel, score[sel], start[sel], end[sel]], 1)
        dets = np.concatenate([dets, (dets[:, 3] - dets[:, 2] + 1)[:, None]],
                              1)
        out = []
        while dets.size > 0:  # the original's utils.soft_nms
            i = np.argmax(dets[:, 1], axis=0)
            dets[[0, i], :] = dets[[i, 0], :]
            out.append(dets[0, :2].tolist())
            inter = np.maximum(
                np.minimum(dets[0, 3], dets[1:, 3]) -
                np.maximum(dets[0, 2], dets[1:, 2]) + 1, 0.)
            iou = inter / (dets[0, -1] + dets[1:, -1] - inter)
            dets[1:, 1] *= np.exp(-(iou * iou) / 0.3)
            dets = dets[1:]
        mine = group[idx] == g
        np.testing.assert_array_equal(idx[mine], [int(o[0]) for o in out])
        np.testing.assert_allclose(decayed[mine], [o[1] for o in out])


class _Dataset:

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(labels=self.labels[i])


def test_batch_sampler_pairs_and_epochs():
    from mmengine.dataset import DefaultSampler

    from refineloc_mm.base_models.delu import DELUBatchSampler
    # class 2 has one video: never drawn as a pair
    labels = [[0], [0, 1], [1], [0], [2], [1]]
    sampler = DELUBatchSampler(
        DefaultSampler(_Dataset(labels), shuffle=True, seed=3),
        batch_size=6, num_similar=2, num_batches=7)
    assert len(sampler.class_videos) == 2
    batches = list(sampler)
    assert len(batches) == 7
    for batch in batches:
        for i in range(2):
            a, b = batch[2 * i], batch[2 * i + 1]
            assert a != b and set(labels[a]) & set(labels[b]) - {2}
    assert batches == list(sampler)  # same epoch, same batches
    sampler.set_epoch(1)
    assert batches != list(sampler)
    with pytest.raises(ValueError, match='no class has 2'):
        DELUBatchSampler(DefaultSampler(_Dataset([[0], [1]]), seed=0),
                         batch_size=4, num_similar=1)


def test_random_perturb_snippets_training_only():
    from refineloc_mm.base_models.delu import RandomPerturbSnippets
    t = RandomPerturbSnippets(num_segments=8)
    feats = np.arange(20, dtype=np.float32)[:, None].repeat(3, 1)
    results = dict(features=feats, num_snippets=20, snippet_size=16,
                   video_name='v')
    out = t(dict(results))
    assert out['num_snippets'] == 20 and out['features'] is feats
    pseudo = np.arange(20) % 3 - 1
    out = t(dict(results, pseudo_label=pseudo, sample_view='train'))
    inds = out['snippet_inds']
    assert out['num_snippets'] == 8 and len(inds) == 8
    assert (np.diff(inds) >= 0).all()
    np.testing.assert_array_equal(out['features'][:, 0], inds)
    np.testing.assert_array_equal(out['pseudo_label'], pseudo[inds])
    assert out['snippet_size'] == 16 * 20 / 8


@pytest.mark.parametrize('path', REPO_CONFIGS)
def test_configs_build(path):
    """Every DELU config builds its model, and the THUMOS14 recipe has the
    original's training settings."""
    from refineloc_mm.base_models.delu import DELUPostProcessor  # noqa
    cfg = Config.fromfile(path)
    init_default_scope('mmaction')
    if 'synthetic' not in path:
        cfg.model.cls_head.update(cls_channels=8, fusion_channels=8,
                                  attention_channels=4)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'DELU'
    sampler = cfg.train_dataloader.batch_sampler
    assert sampler.type == 'DELUBatchSampler' and sampler.num_similar == 3
    assert cfg.train_dataloader.batch_size == 10
    if path == 'configs/delu/delu_i3d_1x100e_thumos14.py':
        opt = cfg.optim_wrapper.optimizer
        assert (opt.type, opt.lr, opt.weight_decay) == ('Adam', 5e-5, 1e-3)
        assert cfg.randomness.seed == 0
        assert cfg.train_dataloader.dataset.dataset.pipeline[1] == dict(
            type='RandomPerturbSnippets', num_segments=320)
        iters = sampler.num_batches * cfg.train_cfg.max_epochs
        assert iters == 5000 == \
            cfg.model.cls_head.loss.uct_guide_loss.max_iter
        # model selection on the last model, not on the test split
        assert cfg.train_cfg.val_interval == cfg.train_cfg.max_epochs
        assert cfg.default_hooks.checkpoint.save_best is None
