# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The config written by tools/convert_reference_checkpoint.py loads and
tests after the checkout it was converted in is moved: it is written whole
(no ``_base_`` path into the checkout)."""
import json
import os
import shutil
import subprocess
import sys

from helpers.runs import PYTHONPATH, REPO

CKPT = 'ckpt'


def run(*args, cwd):
    proc = subprocess.run([str(a) for a in args],
                          cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=PYTHONPATH),
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return proc


def test_converted_config_tests_after_the_checkout_moves(
        reference_checkpoint, annotations_dir, tmp_path):
    checkout = tmp_path / 'checkout'
    for name in ('configs', 'tools'):
        shutil.copytree(REPO / name, checkout / name,
                        ignore=shutil.ignore_patterns('__pycache__'))
    out = checkout / 'work_dirs' / 'converted'
    csv = annotations_dir / 'thumos14' / 'thumos14_test_groundtruth.csv'
    run(sys.executable, checkout / 'tools' / 'convert_reference_checkpoint.py',
        reference_checkpoint, out, '--name', CKPT, '--classes-from', csv,
        cwd=checkout)
    text = (out / f'{CKPT}.py').read_text()
    code = [ln for ln in text.splitlines() if not ln.startswith('#')]
    assert not any('_base_' in ln for ln in code)
    assert not any(str(checkout) in ln for ln in code)

    moved = tmp_path / 'moved'
    shutil.move(checkout, moved)
    from refineloc_mm.datasets.synthetic import generate_synthetic
    data = tmp_path / 'data'
    # the converted model's input: stream 0 of 2 x 1024, 15-frame snippets
    generate_synthetic(str(data), num_train=2, num_test=6, feat_dim=2048,
                       snippet_size=15, duration_scale=0.15, seed=1)
    split = 'test_dataloader.dataset'
    converted = moved / 'work_dirs' / 'converted'
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    dump = elsewhere / 'results.json'
    proc = run(sys.executable, moved / 'tools' / 'test.py',
               converted / f'{CKPT}.py', converted / f'{CKPT}.pth',
               '--work-dir', elsewhere / 'work', '--dump', dump,
               '--cfg-options', f'{split}.data_root={data}',
               f'{split}.ann_file=synthetic_test_groundtruth.csv',
               f'{split}.feature_file=synthetic_test_features.hdf5',
               'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False',
               cwd=elsewhere)
    assert 'mAP@0.5' in proc.stdout + proc.stderr
    assert len(json.loads(dump.read_text())['results']) == 6
