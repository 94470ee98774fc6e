# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The suite's skip policy (tests/conftest.py): the skip count is printed,
a skip for any reason but needing CUDA fails the session, and a missing
fixture file is a failure naming it, never a skip."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / 'conftest.py'

TESTS = '''
import pytest

def test_runs():
    pass

@pytest.mark.skipif(True, reason='needs CUDA')
def test_needs_cuda():
    pass
'''


def run_pytest(tmp_path: Path, extra: str = '') -> subprocess.CompletedProcess:
    """pytest on a folder with the suite's conftest and ``TESTS``."""
    shutil.copy(CONFTEST, tmp_path / 'conftest.py')
    (tmp_path / 'test_tiny.py').write_text(TESTS + extra)
    return subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_cuda_skip_is_allowed_and_counted(tmp_path):
    proc = run_pytest(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'skipped: 1 (1 need CUDA, 0 for other reasons)' in proc.stdout


def test_other_skip_fails_the_session(tmp_path):
    proc = run_pytest(
        tmp_path, '''
def test_without_fixture():
    pytest.skip('fixture folder is absent')
''')
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'skipped: 2 (1 need CUDA, 1 for other reasons)' in proc.stdout
    assert ('test_tiny.py::test_without_fixture: Skipped: fixture folder '
            'is absent') in proc.stdout


def test_module_skip_fails_the_session(tmp_path):
    proc = run_pytest(
        tmp_path, '''
pytest.skip('no data', allow_module_level=True)
''')
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'for other reasons' in proc.stdout and 'no data' in proc.stdout


def test_missing_fixture_file_fails(tmp_path, request):
    """``require`` (behind reference_dir, annotations_dir and
    reference_checkpoint) fails the test, naming the path."""
    # tests/conftest.py as pytest loaded it (``import conftest`` would give
    # whichever conftest.py of the tiers was imported last)
    require = next(
        plugin.require
        for plugin in request.config.pluginmanager.get_plugins()
        if Path(getattr(plugin, '__file__', None) or '.').resolve() ==
        CONFTEST)
    missing = tmp_path / 'reference_fixtures.json'
    with pytest.raises(pytest.fail.Exception, match=str(missing)):
        require(missing)
    assert require(tmp_path) == tmp_path


def test_shipped_fixtures_are_present(reference_dir, annotations_dir,
                                      reference_checkpoint):
    """What the parity tests and the README need is in the repository."""
    for name in ('reference_fixtures.json', 'reference_fixtures.npz',
                 'eval_groundtruth.csv', 'eval_predictions.csv',
                 'base_models/base_model_fixtures.json',
                 'base_models/base_model_fixtures.npz'):
        assert (reference_dir / name).is_file(), reference_dir / name
    for name in ('thumos14/thumos14_valid_groundtruth.csv',
                 'thumos14/thumos14_test_groundtruth.csv',
                 'activitynet_v1-2/activitynet_v1-2_train_groundtruth.csv',
                 'activitynet_v1-2/activitynet_v1-2_valid_groundtruth.csv'):
        assert (annotations_dir / name).is_file(), annotations_dir / name
    assert reference_checkpoint.stat().st_size == 263621
