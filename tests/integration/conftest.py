# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The refinement run shared by the integration tests that only read it."""
import pytest


@pytest.fixture(scope='session')
def refined_run(tiny_data, tmp_path_factory):
    """``(work_dir, proc)``: :data:`helpers.runs.REFINED_ROUNDS` x
    :data:`helpers.runs.REFINED_EPOCHS` of
    configs/refineloc/refineloc_i3d_4x10e_synthetic.py
    on the shared tiny set through tools/train.py, with the options of
    :func:`helpers.runs.refined_options` (``proc``: the finished process,
    its log in ``stdout`` / ``stderr``)."""
    from helpers.runs import (REFINED_EPOCHS, REFINED_ROUNDS,
                              refined_options, train)
    work_dir = tmp_path_factory.mktemp('refined_run')
    proc = train(work_dir, tiny_data, REFINED_ROUNDS, REFINED_EPOCHS,
                 options=refined_options(work_dir))
    return work_dir, proc
