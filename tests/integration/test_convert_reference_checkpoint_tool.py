# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``tools/convert_reference_checkpoint.py`` as a command line: a
checkpoint the conversion refuses ends the tool with exit code 1 and the
reason on stderr (the conversion itself is tested through the package in
``tests/unit/utils/reference_checkpoint/``; the written config after the
checkout moves in ``test_converted_config_moves.py``)."""
import torch

from helpers.runs import run_tool
from refineloc_mm.utils.compat import safe_torch_load


def test_refused_checkpoint_exits_with_the_reason(reference_checkpoint,
                                                   tmp_path):
    ckpt = safe_torch_load(str(reference_checkpoint), map_location='cpu')
    ckpt['model']['fc_cas.linear_1.weight'] = torch.zeros(2, 2)
    src = tmp_path / 'modified.ckpt'
    torch.save(ckpt, src)
    out = tmp_path / 'out'
    proc = run_tool('tools/convert_reference_checkpoint.py', src, out,
                    check=False, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines()
              if ln.startswith('error: ')]
    assert len(errors) == 1, proc.stderr
    assert 'Unexpected key(s)' in errors[0]
    assert 'fc_cas.linear_1.weight' in errors[0] and str(src) in errors[0]
    assert 'Wrote' not in proc.stdout and not out.exists()
