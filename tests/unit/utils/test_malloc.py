# Copyright (c) refineloc-mm contributors. All rights reserved.
"""glibc allocator tuning: applied only when the config asks for it (the
probe of the heap in a fresh process is in
``tests/integration/test_malloc_tuning.py``)."""
from mmengine.config import Config

from helpers.runs import REPO


def test_only_when_configured(monkeypatch):
    from refineloc_mm.utils import malloc
    calls = []
    monkeypatch.setattr(malloc, 'reuse_freed_memory',
                        lambda: calls.append(1) or True)
    assert malloc.reuse_freed_memory_if_configured(Config(dict())) is False
    assert malloc.reuse_freed_memory_if_configured(
        Config(dict(reuse_freed_memory=True))) is True
    assert calls == [1]
    configs = REPO / 'configs'
    assert Config.fromfile(
        configs / 'refineloc/refineloc_i3d_4x10e_synthetic.py'
    ).reuse_freed_memory
    # 256-video batches: the heap would keep the largest ones
    assert not Config.fromfile(
        configs / 'refineloc/refineloc_i3d_50x50e_activitynet12-npy.py'
    ).reuse_freed_memory
