# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Checkpoints load with ``weights_only=True`` and an allowlist only."""
import builtins
import importlib
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint

import refineloc_mm  # noqa: F401
from refineloc_mm.utils import compat
from refineloc_mm.utils.compat import UnsafeCheckpointError, safe_torch_load


class TinyModel(BaseModel):
    """One linear layer; the loss is the mean squared output."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs) if isinstance(inputs, list)
                          else inputs)
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out


class GetattrPayload:
    """Unpickling calls ``getattr(target, name)``."""

    def __init__(self, target, name):
        self.target, self.name = target, name

    def __reduce__(self):
        return (getattr, (self.target, self.name))


class Payload:
    """Unpickling runs ``exec`` and creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.exec, (f'open({self.marker!r}, "w").close()', ))


def save(obj, path, fmt):
    """``torch.save`` (zip or legacy format) or a plain pickle."""
    if fmt == 'zip':
        torch.save(obj, path)
    elif fmt == 'legacy':
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        with open(path, 'wb') as f:
            pickle.dump(obj, f, protocol=2)


@pytest.fixture
def torch_load_calls(monkeypatch):
    """Keyword arguments of every ``torch.load`` call."""
    calls, load = [], torch.load

    def recording_load(*args, **kwargs):
        calls.append(kwargs)
        return load(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', recording_load)
    return calls


@pytest.fixture
def runner_checkpoint(tmp_path):
    """A checkpoint written by mmengine's Runner after one epoch."""
    dataset = [dict(inputs=torch.full((4, ), float(i))) for i in range(4)]
    runner = Runner(
        model=TinyModel(),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            dataset=dataset,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmaction',
        log_level='WARNING',
        experiment_name=f'safe_loading_{tmp_path.name}')
    runner.train()
    path = tmp_path / 'work' / 'epoch_1.pth'
    assert path.is_file()
    return runner, path


def test_runner_checkpoint_loads_weights_only(runner_checkpoint,
                                              torch_load_calls):
    """A Runner checkpoint (HistoryBuffers in the message hub) loads,
    also when the Runner resumes from it."""
    runner, path = runner_checkpoint
    ckpt = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch_load_calls
    assert all(c.get('weights_only') is True for c in torch_load_calls)
    buffers = ckpt['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert np.isfinite(buffers['train/loss'].statistics('mean'))
    assert ckpt['meta']['epoch'] == 1
    assert 'state' in ckpt['optimizer']

    model = TinyModel()
    load_checkpoint(model, str(path), map_location='cpu')
    torch.testing.assert_close(model.linear.weight,
                               ckpt['state_dict']['linear.weight'])

    calls = len(torch_load_calls)
    runner.resume(str(path), map_location='cpu')
    assert len(torch_load_calls) > calls
    assert runner.epoch == 1
    assert all(c.get('weights_only') is True for c in torch_load_calls)


@pytest.mark.parametrize('payload', [
    GetattrPayload(np.ndarray, 'tofile'),
    GetattrPayload(HistoryBuffer, '__setstate__'),
    GetattrPayload(HistoryBuffer, 'register_statistics'),
],
                         ids=['ndarray.tofile', 'setstate', 'register'])
def test_getattr_limited_to_history_buffer_methods(tmp_path, payload):
    """``getattr`` is allowed only for HistoryBuffer's statistics."""
    path = tmp_path / 'getattr.pth'
    torch.save(dict(meta=payload), path)
    with pytest.raises(UnsafeCheckpointError, match='getattr.pth'):
        safe_torch_load(str(path))


def test_non_allowlisted_global_refused(tmp_path):
    """A class outside the allowlist is refused, naming the file."""
    path = tmp_path / 'odd.pth'
    torch.save(dict(state_dict={}, extra=TinyModel), path)
    with pytest.raises(UnsafeCheckpointError, match='odd.pth'):
        safe_torch_load(str(path))


@pytest.mark.parametrize('fmt', ['zip', 'legacy', 'pickle'])
def test_code_running_checkpoint_refused(tmp_path, fmt):
    """A pickle that would run code is refused before it runs."""
    marker = tmp_path / 'MARKER'
    pickle.loads(pickle.dumps(Payload(marker)))  # the payload is live
    assert marker.exists()
    marker.unlink()

    path = tmp_path / f'evil_{fmt}.pth'
    save(dict(state_dict={'w': torch.zeros(2)}, meta=Payload(marker)), path,
         fmt)
    with pytest.raises(UnsafeCheckpointError, match=f'evil_{fmt}.pth'):
        safe_torch_load(str(path), map_location='cpu')
    assert not marker.exists()
    with pytest.raises(UnsafeCheckpointError, match=f'evil_{fmt}.pth'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()
    with pytest.raises(UnsafeCheckpointError, match=f'evil_{fmt}.pth'):
        load_checkpoint(TinyModel(), str(path), map_location='cpu')
    assert not marker.exists()


def test_downloaded_checkpoint_refused(tmp_path, monkeypatch):
    """http(s) checkpoints (torch.hub download) use the allowlist too."""
    marker = tmp_path / 'MARKER'
    evil = tmp_path / 'evil.pth'
    save(dict(state_dict={}, meta=Payload(marker)), evil, 'zip')

    def fake_download(url, dst, *args, **kwargs):
        shutil.copyfile(evil, dst)

    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        CheckpointLoader.load_checkpoint(
            'https://example.com/evil.pth', map_location='cpu')
    assert not marker.exists()


def test_reference_checkpoint_loads(reference_checkpoint, torch_load_calls):
    """The legacy-format reference pickle (numpy scalars) loads safely."""
    ckpt = safe_torch_load(str(reference_checkpoint), map_location='cpu')
    assert all(c.get('weights_only') is True for c in torch_load_calls)
    model = ckpt['model']
    assert set(model) >= {
        'fc_cas.linear_0.weight', 'fc_cas.linear_0.bias',
        'fc_attention.linear_0.weight', 'fc_attention.linear_0.bias'
    }
    assert tuple(model['fc_cas.linear_0.weight'].shape) == (20, 1024)
    assert tuple(model['fc_attention.linear_0.weight'].shape) == (1, 1024)
    assert int(ckpt['config']['num_classes']) == 20
    same = CheckpointLoader.load_checkpoint(
        str(reference_checkpoint), map_location='cpu')
    torch.testing.assert_close(same['model']['fc_cas.linear_0.bias'],
                               model['fc_cas.linear_0.bias'])


def test_mmaction_models_imports():
    """``import mmaction.models`` works; DRN is a placeholder only when
    the installed mmaction2 lacks it."""
    models = importlib.import_module('mmaction.models')
    assert hasattr(models, 'BMN')
    drn = sys.modules[compat._DRN_MODULE]
    import mmaction
    shipped = (Path(mmaction.__file__).parent / 'models' / 'localizers' /
               'drn').is_dir()
    if shipped:
        assert getattr(drn, '__file__', None)
    else:
        with pytest.raises(ImportError, match='DRN|drn'):
            drn.drn.DRN()
    assert compat.patch_mmaction_drn() is False  # idempotent


def test_drn_placeholder_not_installed_over_real_module(monkeypatch):
    """With a real ``drn`` sub-package on the path nothing is replaced."""
    monkeypatch.delitem(sys.modules, compat._DRN_MODULE)
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *args: object())
    assert compat.patch_mmaction_drn() is False
    assert compat._DRN_MODULE not in sys.modules
