# Copyright (c) refineloc-mm contributors. All rights reserved.
import gc
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[1]
REFERENCE_CHECKPOINT = \
    'thumos14_untrimmednet_reference_best_refinement_state.ckpt'
# the only reason a test may be skipped: it needs CUDA (word in the reason)
ALLOWED_SKIP = 'CUDA'


def require(path: Path) -> Path:
    """``path`` if it exists; a test failure (never a skip) naming it
    otherwise: every fixture file ships with the repository."""
    if not path.exists():
        pytest.fail(f'{path} is missing: it ships with the repository '
                    '(tests/data/reference/, annotations/, checkpoints/)',
                    pytrace=False)
    return path


@pytest.fixture(scope='session')
def reference_dir() -> Path:
    """Outputs of the authors' implementation on fixed inputs
    (``tests/data/reference/``, with ``base_models/``)."""
    return require(REPO / 'tests' / 'data' / 'reference')


@pytest.fixture(scope='session')
def annotations_dir() -> Path:
    """The real THUMOS14 and ActivityNet v1.2 ground-truth CSVs
    (``annotations/{thumos14,activitynet_v1-2}/``)."""
    return require(REPO / 'annotations')


@pytest.fixture(scope='session')
def reference_checkpoint() -> Path:
    """The authors' published THUMOS14 UntrimmedNet checkpoint
    (``checkpoints/``)."""
    return require(REPO / 'checkpoints' / REFERENCE_CHECKPOINT)


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory) -> Path:
    """The tiny synthetic set of :func:`helpers.runs.make_tiny_data` (its
    defaults), generated once per session and shared by the tests that
    only read it."""
    from helpers.runs import make_tiny_data
    return make_tiny_data(tmp_path_factory.mktemp('tiny_synthetic'))


@pytest.fixture
def one_thread():
    """torch in one thread for the test (restored afterwards): the raw-video
    tests' tiny models (``pytestmark = pytest.mark.usefixtures(
    'one_thread')``)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class SkipGuard:
    """Counts skipped tests; any skip whose reason does not name CUDA
    fails the session (every fixture ships with the repository, so a
    missing file is a failure, never a skip)."""

    def __init__(self) -> None:
        self.skips: list = []

    @property
    def bad(self) -> list:
        return [(node, reason) for node, reason in self.skips
                if ALLOWED_SKIP not in reason]

    def _record(self, report) -> None:
        if report.skipped and not hasattr(report, 'wasxfail'):
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) and len(
                longrepr) == 3 else longrepr
            self.skips.append((report.nodeid, str(reason)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session,
                             exitstatus: int) -> None:
        if self.bad and exitstatus in (pytest.ExitCode.OK,
                                       pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        bad = self.bad
        terminalreporter.write_line(
            f'skipped: {len(self.skips)} ({len(self.skips) - len(bad)} '
            f'need {ALLOWED_SKIP}, {len(bad)} for other reasons)')
        for node, reason in bad:
            terminalreporter.write_line(
                f'FAILED (skipped; only tests that need {ALLOWED_SKIP} may '
                f'skip): {node}: {reason}', red=True)


# The two tiers, selected by folder (``make test-unit``, ``make
# test-integration``) or by the marker their folder gives every test:
# ``tests/unit/`` (fast, in process, mirrors the package) and
# ``tests/integration/`` (tools run as subprocesses, tools/train.py runs,
# 2-process runs, packaging, quick start, launchers).
TIERS = ('unit', 'integration')


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipGuard(), 'refineloc-skip-guard')
    for tier in TIERS:
        config.addinivalue_line(
            'markers', f'{tier}: a test under tests/{tier}/ (set by folder)')


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        try:
            tier = Path(item.fspath).resolve().relative_to(tests).parts[0]
        except ValueError:  # a test outside this folder
            continue
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


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
    """Messages sent to any MMLogger (warning and info, directly or
    through ``print_log``), as ``(level, message)`` pairs."""
    import logging

    from mmengine.logging import MMLogger
    records = []
    for level in ('warning', 'info'):

        def log(self, msg, *args, _level=level, **kwargs):
            records.append((_level, str(msg)))

        monkeypatch.setattr(MMLogger, level, log)

    def log_at(self, level, msg, *args, **kwargs):
        records.append((logging.getLevelName(level).lower(), str(msg)))

    monkeypatch.setattr(MMLogger, 'log', log_at)
    return records
