# Copyright (c) refineloc-mm contributors. All rights reserved.
import gc
import os
from pathlib import Path

import pytest


@pytest.fixture(scope='session')
def shared_dir() -> Path:
    """The shared data folder (``$REFINELOC_SHARED``, else ``../shared``)."""
    default = Path(__file__).resolve().parents[2] / 'shared'
    path = Path(os.environ.get('REFINELOC_SHARED', str(default)))
    if not path.is_dir():
        pytest.skip(f'shared data folder {path} is absent '
                    '(set REFINELOC_SHARED to its location)')
    return path


@pytest.fixture
def mmaction_dataset_scope(monkeypatch):
    """Dataset tests: pipeline transforms live in mmaction's registry.

    Also skips the full ``gc.collect()`` that ``BaseDataset`` runs after
    serializing its data list (about 0.25 s per dataset with torch and
    mmaction loaded); it frees nothing the tests' tiny datasets need.
    """
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    monkeypatch.setattr(gc, 'collect', lambda *args: 0)


@pytest.fixture
def log_records(monkeypatch):
    """Messages sent to any MMLogger (warning and info), as
    ``(level, message)`` pairs."""
    from mmengine.logging import MMLogger
    records = []
    for level in ('warning', 'info'):

        def log(self, msg, *args, _level=level, **kwargs):
            records.append((_level, str(msg)))

        monkeypatch.setattr(MMLogger, level, log)
    return records
