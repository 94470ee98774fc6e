# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``--amp``: bfloat16 autocast in the snippet MLPs on CPU (training,
pseudo-label scoring, testing), float32 everywhere else."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.refineloc  # noqa: F401
from mmaction.registry import MODELS, OPTIM_WRAPPERS
from mmaction.structures import ActionDataSample
from refineloc_mm.models.utils.snippet_ops import autocast_input


def test_bf16_train_step_runs_mlps_in_bf16_and_updates_fp32_weights():
    init_default_scope('mmaction')
    model = MODELS.build(
        dict(
            type='RefineLoc',
            cls_head=dict(
                type='RefineLocHead',
                num_classes=4,
                in_channels=16,
                num_layers=2,
                attention_dim=1)))
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='BFloat16OptimWrapper',
            optimizer=torch.optim.Adam(model.parameters(), lr=1e-2)))
    seen = {}

    def record(module, inputs, output):
        seen['mlp'] = output.dtype

    model.cls_head.fc_cas.linear_1.register_forward_hook(record)
    samples = []
    for t in (5, 3):
        ds = ActionDataSample()
        ds.set_metainfo(dict(num_snippets=t, fps=30., snippet_size=16))
        ds.gt_label = torch.tensor([1., 0., 0., 1.])
        samples.append(ds)
    data = dict(inputs=[torch.randn(5, 16), torch.randn(3, 16)],
                data_samples=samples)
    before = model.cls_head.fc_cas.linear_0.weight.detach().clone()
    losses = model.train_step(data, wrapper)
    assert seen['mlp'] == torch.bfloat16
    assert torch.isfinite(torch.as_tensor(losses['loss']))
    weight = model.cls_head.fc_cas.linear_0.weight
    assert weight.dtype == torch.float32
    assert not torch.equal(before, weight.detach())


def _tiny_model(in_channels=16):
    init_default_scope('mmaction')
    return MODELS.build(
        dict(
            type='RefineLoc',
            cls_head=dict(
                type='RefineLocHead',
                num_classes=4,
                in_channels=in_channels,
                num_layers=2,
                attention_dim=2)))


def _samples(lengths):
    samples = []
    for t in lengths:
        ds = ActionDataSample()
        ds.set_metainfo(dict(num_snippets=t, fps=30., snippet_size=16))
        ds.gt_label = torch.tensor([0., 1., 0., 0.])
        samples.append(ds)
    return samples


def test_autocast_input_casts_once_and_buckets_rows():
    x = torch.randn(5, 3, requires_grad=True)
    assert autocast_input(x) is x  # outside autocast: untouched
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = autocast_input(x, multiple=4)
    assert y.shape == (8, 3) and y.dtype == torch.bfloat16
    torch.testing.assert_close(y[:5].float(), x.detach().bfloat16().float())
    assert not y[5:].any()
    (y[:5].float() * 2).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((5, 3), 2.))


def test_only_the_mlps_run_in_bfloat16():
    """Under autocast the snippet outputs, the softmaxes, the einsum video
    score and the losses are float32 and close to a float32 pass; padding
    rows never reach the outputs."""
    torch.manual_seed(0)
    model = _tiny_model().eval()
    lengths = (300, 7)  # 307 rows: padded to 512 under CPU autocast
    inputs = torch.randn(sum(lengths), 16)
    samples = _samples(lengths)
    ref = model.snippet_scores(inputs, samples)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model.snippet_scores(inputs, samples)
        losses = model(inputs, samples, mode='loss')
    for key, value in out.items():
        if key != 'mask':
            assert value.dtype == torch.float32, key
            torch.testing.assert_close(value, ref[key], atol=2e-2, rtol=0)
    for key, value in losses.items():
        assert value.dtype == torch.float32, key
    torch.testing.assert_close(out['video_score'].sum(1), torch.ones(2))


def test_enable_amp_sets_training_validation_and_testing():

    from refineloc_mm.utils.precision import enable_amp
    cfg = Config(
        dict(
            optim_wrapper=dict(optimizer=dict(type='Adam')),
            val_cfg=dict(type='ValLoop'),
            test_cfg=dict(type='TestLoop')))
    enable_amp(cfg)
    expected = 'AmpOptimWrapper' if torch.cuda.is_available() \
        else 'BFloat16OptimWrapper'
    assert cfg.optim_wrapper.type == expected
    assert cfg.val_cfg.fp16 and cfg.test_cfg.fp16
    test_only = Config(dict(test_cfg=dict(type='TestLoop')))
    assert enable_amp(test_only, train=False).test_cfg.fp16
    bad = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        enable_amp(bad)


@pytest.mark.parametrize('wrapper, fp16, expected',
                         [('OptimWrapper', None, False),
                          ('BFloat16OptimWrapper', None, True),
                          ('BFloat16OptimWrapper', False, False),
                          ('OptimWrapper', True, True)])
def test_regeneration_precision_follows_training(wrapper, fp16, expected):
    from refineloc_mm.engine.hooks import PseudoLabelHook
    model = _tiny_model()
    runner = SimpleNamespace(optim_wrapper=OPTIM_WRAPPERS.build(
        dict(
            type=wrapper,
            optimizer=torch.optim.Adam(model.parameters()))))
    hook = PseudoLabelHook(fp16=fp16)
    assert hook._autocast_enabled(runner) is expected
