# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The README's quick start, run as written: every shell block of its
"Quick start" section, in a scratch copy of the checkout, on a 1 x 1
schedule (``DEMO_ROUNDS`` / ``DEMO_EPOCHS``, variables of the Makefile).

``make test`` is skipped: it is the command running this test. A small
synthetic set is written first, so make demo skips generating the full
one (200 + 212 videos, 1.3 GB). The
scratch copy uses the project's venv (creating it is what ``make test``
has just done) behind an up-to-date stamp."""
import os
import re
import shutil
import subprocess

from helpers.runs import REPO

COPIED = ('Makefile', 'setup.py', 'requirements.txt', 'requirements-dev.txt',
          'requirements-mim.txt', 'constraints.txt', 'configs', 'tools')


def quick_start_commands(readme):
    """The commands of the shell blocks of the README's quick start."""
    section = readme.split('\n## Quick start\n', 1)[1].split('\n## ', 1)[0]
    commands = []
    for block in re.findall(r'```bash\n(.*?)```', section, re.S):
        for line in block.splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                commands.append(line)
    return commands


def test_quick_start_blocks_run(tmp_path):
    readme = (REPO / 'README.md').read_text()
    commands = quick_start_commands(readme)
    assert commands == ['make demo', 'make test', 'make test-unit']
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name,
                            ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy2(src, tmp_path / name)
    # the project's venv, behind a stamp newer than the copied
    # requirements (their times are kept): make leaves the venv alone
    venv = tmp_path / '.venv'
    venv.mkdir()
    for name in ('bin', 'lib'):
        (venv / name).symlink_to(REPO / '.venv' / name)
    shutil.copy2(REPO / '.venv' / 'pyvenv.cfg', venv / 'pyvenv.cfg')
    (venv / '.installed').touch()
    dry = subprocess.run(['make', '-n', 'demo'], cwd=tmp_path,
                         capture_output=True, text=True)
    assert 'pip install' not in dry.stdout, dry.stdout
    # a small set where make demo looks for it (it generates the full
    # 200 + 212 videos, 1.3 GB, only when the folder is empty)
    from refineloc_mm.datasets.synthetic import generate_synthetic
    generate_synthetic(str(tmp_path / 'data' / 'synthetic'), num_train=20,
                       num_test=12, duration_scale=0.3, seed=0)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(DEMO_ROUNDS='1', DEMO_EPOCHS='1')
    for command in commands:
        if command.startswith('make test'):
            continue
        proc = subprocess.run(['bash', '-c', command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-5000:]
    # what the README shows make demo printing: the per-round table
    header = next(ln for ln in readme.splitlines()
                  if ln.startswith('| round | mAP@0.1'))
    assert 'Validation mAP (%) per refinement round; best round by ' \
        'mAP@0.5: 0' in proc.stdout
    assert header in proc.stdout
    demo = tmp_path / 'work_dirs' / 'demo'
    for name in ('results.json', 'refinement_curves.png', 'round_0.pth'):
        assert (demo / name).is_file(), name
    assert list((demo / 'timelines' / 'train').glob('*.png'))


def anchor(heading):
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def test_docs_are_linked_and_links_resolve():
    pages = [REPO / 'README.md'] + sorted((REPO / 'docs').glob('*.md'))
    assert len((REPO / 'README.md').read_text().splitlines()) <= 150
    linked = set()
    for page in pages:
        for target in re.findall(r'\]\(([^)\s]+)\)', page.read_text()):
            if target.startswith(('http://', 'https://')):
                continue
            path, _, frag = target.partition('#')
            dest = (page.parent / path).resolve() if path else page
            assert dest.exists(), f'{page.name}: broken link {target}'
            linked.add(dest)
            if frag and dest.suffix == '.md':
                headings = re.findall(r'^#+ (.*)$', dest.read_text(), re.M)
                assert frag in {anchor(h) for h in headings}, (
                    f'{page.name}: no heading for {target}')
    for page in pages[1:]:
        assert page.resolve() in linked, f'{page.name} is linked nowhere'
