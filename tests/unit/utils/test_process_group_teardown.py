# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``close_process_group`` destroys the gloo backend and joins its threads
(the cause of the exit-time aborts of distributed runs was these threads
outliving the process group), and reports threads left over."""
import gc

import pytest
import torch
import torch.distributed as dist

from refineloc_mm.utils import launcher


def ddp_in_a_cycle():
    """A DDP model that ran a step, inside a reference cycle (as the
    runner's model is): the backend has started its threads."""
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    model(torch.randn(3, 2)).sum().backward()
    holder = {'model': model}
    holder['self'] = holder
    return holder


@pytest.fixture
def group(tmp_path, monkeypatch):
    """A one-process gloo group; yields the warnings of ``close``."""
    if not dist.is_available() or dist.is_initialized():
        pytest.skip('needs torch.distributed and no open process group')
    warnings = []
    monkeypatch.setattr(launcher, 'print_log',
                        lambda msg, **kwargs: warnings.append(msg))
    store = dist.FileStore(str(tmp_path / 'store'), 1)
    dist.init_process_group('gloo', store=store, rank=0, world_size=1)
    yield warnings
    if dist.is_initialized():
        dist.destroy_process_group()
    gc.collect()


def test_close_joins_the_backend_threads(group):
    holder = ddp_in_a_cycle()
    assert 'pt_gloo_runloop' in launcher.collective_threads()
    del holder  # unreachable, but in a cycle: only gc frees it
    launcher.close_process_group(completed=True)
    assert not dist.is_initialized()
    assert launcher.collective_threads() == []
    assert group == []


def test_close_reports_threads_that_outlive_the_group(group):
    holder = ddp_in_a_cycle()
    launcher.close_process_group(completed=True)
    left = launcher.collective_threads()
    assert 'pt_gloo_runloop' in left
    assert len(group) == 1
    assert 'still referenced' in group[0] and str(left) in group[0]
    del holder
    gc.collect()
    assert launcher.collective_threads() == []
