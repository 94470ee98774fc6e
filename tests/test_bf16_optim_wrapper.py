# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``--amp`` on CPU: bfloat16 autocast in the MLPs, float32 afterwards."""
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
from mmaction.registry import MODELS, OPTIM_WRAPPERS
from mmaction.structures import ActionDataSample


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
