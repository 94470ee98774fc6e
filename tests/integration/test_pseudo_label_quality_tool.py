# Copyright (c) refineloc-mm contributors. All rights reserved.
"""tools/pseudo_label_quality.py end to end on a tiny checkpoint: the
header and one tab-separated line per checkpoint and variant, in the
given order (the values are tested in
``tests/unit/models/test_pseudo_label_quality.py``)."""
import torch
from mmengine.config import Config

from helpers.runs import REPO, SYNTHETIC_CONFIG, run_tool, tiny_options

ALL = 'min_cas_score=-1.0,min_attention_score=-1.0'


def test_lines_per_checkpoint_and_variant(tiny_data, tmp_path):
    import refineloc_mm  # noqa: F401
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    cfg.model.cls_head.in_channels = 32  # as tiny_options
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpts = [tmp_path / 'round_0.pth', tmp_path / 'round_1.pth']
    for path in ckpts:
        torch.save(dict(state_dict=model.state_dict()), path)
    proc = run_tool('tools/pseudo_label_quality.py', SYNTHETIC_CONFIG,
                    *ckpts, '--variant', 'config', '--variant', ALL,
                    '--cfg-options', *tiny_options(tiny_data),
                    env=dict(OMP_NUM_THREADS='1'))
    lines = proc.stdout.splitlines()
    assert lines[0] == ('checkpoint\tvariant\tprecision %\trecall %\t'
                        'foreground %')
    rows = [ln.split('\t') for ln in lines[1:]]
    assert [r[:2] for r in rows] == [[str(p), v] for p in ckpts
                                     for v in ('config', ALL)]
    for r in rows:
        assert all(0 <= float(x) <= 100 for x in r[2:]), r
    # same weights, same numbers; every snippet labelled: recall 100 %
    assert rows[0][2:] == rows[2][2:] and rows[1][2:] == rows[3][2:]
    assert rows[1][3:] == ['100.0', '100.0']
