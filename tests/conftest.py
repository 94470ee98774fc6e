# Copyright (c) refineloc-mm contributors. All rights reserved.
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
