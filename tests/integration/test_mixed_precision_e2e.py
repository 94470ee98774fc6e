# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``--amp`` end to end: ``tools/train.py --amp`` and ``tools/test.py
--amp`` on CPU against a float32 test of the same checkpoint."""
import json

from mmengine.config import Config

import refineloc_mm  # noqa: F401
from helpers.runs import (SYNTHETIC_CONFIG, SYNTHETIC_NAME, logged_metrics,
                          run_tool,
                          tiny_options, train)

# |bf16 - fp32| allowed per metric of the end-to-end test (mAP in [0, 1]).
# Measured on the tiny set: the bfloat16 scores differ, the metrics are
# equal to 4 decimals (fp32 mAP@0.1 0.5208, average mAP 0.2345).
AMP_METRIC_TOLERANCE = 0.02


def test_amp_training_and_testing_end_to_end(tmp_path, tiny_data):
    """``tools/train.py --amp`` and ``tools/test.py --amp`` on CPU: the
    rounds train under bfloat16, the training split is scored and the
    test split evaluated under autocast (its predictions are not the
    float32 ones), and the test metrics stay within
    ``AMP_METRIC_TOLERANCE`` of a float32 test of the same checkpoint, on
    a set where they are clearly non-zero."""
    data = tiny_data
    work_dir = tmp_path / 'amp'
    train(work_dir, data, 2, 2, '--amp')
    cfg = Config.fromfile(work_dir / SYNTHETIC_NAME)
    assert cfg.optim_wrapper.type == 'BFloat16OptimWrapper'
    assert cfg.val_cfg.fp16 and cfg.test_cfg.fp16
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    assert summary['rounds'][0]['pseudo_labels_generated']['coverage'] > 0
    results, metrics = {}, {}
    for name, extra in (('fp32', ()), ('bf16', ('--amp', ))):
        dump = tmp_path / f'{name}.json'
        proc = run_tool('tools/test.py', SYNTHETIC_CONFIG,
                        work_dir / 'round_1.pth', '--work-dir',
                        tmp_path / name, '--dump', dump, *extra,
                        '--cfg-options', *tiny_options(data))
        results[name] = json.loads(dump.read_text())['results']
        metrics[name] = logged_metrics(proc.stdout + proc.stderr)
    # the amp test ran in bfloat16: scores differ from float32
    assert results['bf16'] != results['fp32']
    fp32, bf16 = metrics['fp32'], metrics['bf16']
    assert fp32['mAP@0.1'] > 0.2 and fp32['average_mAP'] > 0.1
    assert fp32.keys() == bf16.keys()
    diffs = {k: abs(bf16[k] - fp32[k]) for k in fp32}
    assert max(diffs.values()) <= AMP_METRIC_TOLERANCE, (fp32, bf16)
