# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The iteration benchmark finds a base model's original arithmetic in the
model's own folder (``<folder>/benchmark_original.py``, next to the module
of the registered class), with no generic map of models: a new model's
folder brings its own file. Each original's ``benchmark_step`` trains on
tiny shapes; the "original" worker loads the file by path and imports no
``refineloc_mm``, mmengine or MMAction2. (The arithmetic of each original
is tested against the originals' fixtures in
``tests/unit/models/test_*_benchmark_original.py``.)"""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from refineloc_mm.utils.benchmark.config import load_config
from refineloc_mm.utils.benchmark.iteration import (ORIGINAL_FILE, WORKER,
                                                    benchmark_labels,
                                                    iteration_shapes,
                                                    load_original,
                                                    original_step,
                                                    resolve_original)

REPO = Path(__file__).resolve().parents[4]
ORIGINALS = sorted((REPO / 'refineloc_mm' / 'base_models').glob(
    f'*/{ORIGINAL_FILE}'))
CONFIGS = {
    'basnet': 'configs/basnet/basnet_i3d_1x115e_thumos14.py',
    'wtalc': 'configs/wtalc/wtalc_i3d_1x200e_thumos14.py',
    'delu': 'configs/delu/delu_i3d_1x100e_thumos14.py',
}
REFINELOC = 'configs/refineloc/refineloc_i3d_50x100e_thumos14.py'


def test_the_three_originals_are_found():
    assert {p.parent.name for p in ORIGINALS} >= set(CONFIGS)


@pytest.mark.parametrize('path', ORIGINALS, ids=lambda p: p.parent.name)
def test_original_steps_train(path):
    """Each original's iteration runs on tiny shapes and updates the
    weights (the loss is finite)."""
    widths = dict(cas_channels=16, filter_channels=8, attention_channels=8,
                  cls_channels=16)
    torch.manual_seed(0)
    step, model = load_original(str(path)).benchmark_step(
        labels=benchmark_labels(6, 4, 3), num_snippets=24, in_channels=16,
        num_pairs=3, **widths)
    before = [p.detach().clone() for p in model.parameters()]
    loss = step()
    assert torch.isfinite(loss)
    changed = [not torch.equal(b, p) for b, p in
               zip(before, model.parameters())]
    assert any(changed)


def test_benchmark_labels_pairs_share_a_class():
    labels = benchmark_labels(10, 20, 3)
    assert labels.sum(1).eq(1).all()
    for p in range(3):
        assert torch.equal(labels[2 * p], labels[2 * p + 1])
    assert F.cosine_similarity(labels[6], labels[7], dim=0) == 0


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_auto_finds_the_file_next_to_the_model_class(name):
    shapes = iteration_shapes(load_config(CONFIGS[name], []))
    folder = REPO / 'refineloc_mm' / 'base_models' / name
    assert resolve_original('auto', shapes['model']) == (
        name, str(folder / ORIGINAL_FILE))
    # the folder name, or the file, picks it explicitly
    assert resolve_original(name, 'Whatever') == (
        name, str(folder / ORIGINAL_FILE))
    assert resolve_original(str(folder / ORIGINAL_FILE), 'Whatever') == (
        name, str(folder / ORIGINAL_FILE))


def test_no_original():
    shapes = iteration_shapes(load_config(REFINELOC, []),
                              whole_video_snippets=8)
    assert resolve_original('auto', shapes['model']) == ('none', None)
    assert resolve_original('none', 'BaSNet') == ('none', None)
    with pytest.raises(ValueError, match='no benchmark_original.py'):
        resolve_original('refineloc', 'RefineLoc')  # a folder without one
    with pytest.raises(ValueError, match='no benchmark_original.py'):
        resolve_original('no_such_model', 'RefineLoc')


TOY = {
    '__init__.py': 'from .toy_bench_model import ToyBenchModel\n',
    'toy_bench_model.py': '''
        import torch.nn as nn
        from mmaction.registry import MODELS


        @MODELS.register_module(force=True)
        class ToyBenchModel(nn.Module):
            """A registered model class (its folder is what counts)."""
        ''',
    ORIGINAL_FILE: '''
        import torch


        def benchmark_step(labels, num_snippets, in_channels, **_):
            batch, num_classes = labels.shape
            model = torch.nn.Linear(in_channels, num_classes)
            optim = torch.optim.SGD(model.parameters(), lr=0.1)
            x = torch.randn(batch, num_snippets, in_channels)

            def step():
                loss = (model(x).mean(1) - labels).square().mean()
                optim.zero_grad()
                loss.backward()
                optim.step()
                return loss

            return step, model
        ''',
}


def _worker(spec):
    """Run the benchmark's worker script in a fresh interpreter: its
    result and the project modules that process imported."""
    code = textwrap.dedent(f'''
        import json, runpy, sys
        run_worker = runpy.run_path({str(WORKER)!r})['run_worker']
        result = run_worker(json.loads(sys.argv[1]))
        print(json.dumps([result, sorted(
            m for m in sys.modules
            if m.split('.')[0] in ('refineloc_mm', 'mmengine', 'mmaction'))]))
        ''')
    proc = subprocess.run([sys.executable, '-c', code, json.dumps(spec)],
                          capture_output=True, text=True, check=True,
                          env=dict(__import__('os').environ,
                                   OMP_NUM_THREADS='1'))
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_new_model_folder_brings_its_own_original(tmp_path, monkeypatch):
    """A model outside this repository (a package on the path) is timed
    against its own folder's file, found through its registered class;
    the worker loads that file alone."""
    package = tmp_path / 'toy_bench'
    package.mkdir()
    for name, text in TOY.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    import toy_bench  # noqa: F401 (registers ToyBenchModel)
    name, path = resolve_original('auto', 'ToyBenchModel')
    assert (name, path) == ('toy_bench', str(package / ORIGINAL_FILE))
    shapes = dict(model='ToyBenchModel', batch=2, num_snippets=5,
                  in_channels=3, num_classes=4, num_pairs=1)
    step, model = original_step(path, shapes)
    assert model.weight.shape == (4, 3) and torch.isfinite(step())
    result, imported = _worker(dict(
        impl='original', original=name, original_path=path, shapes=shapes,
        iters=1, warmup=0, threads=1))
    assert result['num_parameters'] == 4 * 3 + 4 and imported == []


def test_the_original_worker_imports_no_project_module():
    """BaS-Net's original at tiny widths, in the worker script: no
    ``refineloc_mm`` (nor mmengine / MMAction2) module is imported."""
    opts = ['model.cls_head.in_channels=8', 'model.cls_head.cas_channels=8',
            'model.cls_head.filter_channels=4']
    shapes = iteration_shapes(load_config(CONFIGS['basnet'], opts), batch=2,
                              num_snippets=16)
    name, path = resolve_original('auto', shapes['model'])
    result, imported = _worker(dict(
        impl='original', original=name, original_path=path, shapes=shapes,
        iters=1, warmup=0, threads=1))
    assert len(result['times_s']) == 1 and imported == []
