# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Import boundaries of the base models (issue 17): a base model is a
folder, ``refineloc_mm/base_models/<name>/``. No file of one base model
imports another base model's files, and no generic file (the rest of
``refineloc_mm``: heads, task modules, losses, utils, engine, datasets,
evaluation, visualization; and ``tools/``) imports any base model's file.
Imports are read with ``ast`` (relative ones resolved), not executed.

A base model's original arithmetic for the iteration benchmark
(``<folder>/benchmark_original.py``, loaded by path in processes that must
not import the package) imports the standard library and ``torch`` only:
nothing of the package, not even its own folder."""
import ast
import sys
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = 'refineloc_mm'
BASE_MODELS = f'{PACKAGE}.base_models'


def module_name(path: Path, root: Path = REPO) -> str:
    """Dotted module name of a file under ``root``."""
    parts = list(path.relative_to(root).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def imported_modules(path: Path,
                     root: Path = REPO) -> Iterator[Tuple[int, str]]:
    """(line, absolute module) of every import of ``path``; ``from X
    import Y`` yields both X and X.Y (Y may be a submodule)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == '__init__.py' else name.rpartition(
        '.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split('.')
                base = parts[:len(parts) - (node.level - 1)]
                target = '.'.join(base + ([node.module] if node.module
                                          else []))
            else:
                target = node.module or ''
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f'{target}.{alias.name}'


def base_model_of(module: str) -> str:
    """The base model a module belongs to ('' for a generic module)."""
    if module.startswith(BASE_MODELS + '.'):
        return module[len(BASE_MODELS) + 1:].split('.')[0]
    return ''


def boundary_violations(root: Path = REPO) -> List[str]:
    """Every import that crosses a base model's folder."""
    files = sorted((root / PACKAGE).rglob('*.py')) + sorted(
        (root / 'tools').rglob('*.py'))
    out = {}
    for path in files:
        owner = base_model_of(module_name(path, root))
        for line, target in imported_modules(path, root):
            model = base_model_of(target)
            where = f'{path.relative_to(root)}:{line}'
            if model and model != owner and where not in out:
                who = f'base model {owner!r}' if owner else 'a generic file'
                out[where] = f'{where}: {who} imports {target}'
    return sorted(out.values())


def original_import_violations(root: Path = REPO) -> List[str]:
    """Every import of a base model's ``benchmark_original.py`` that is
    neither the standard library nor ``torch`` (relative ones included)."""
    allowed = set(sys.stdlib_module_names) | {'torch'}
    out = []
    for path in sorted((root / BASE_MODELS.replace('.', '/')).glob(
            '*/benchmark_original.py')):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ['.' * node.level + (node.module or '')]
            else:
                continue
            for name in names:
                if name.startswith('.') or name.split('.')[0] not in allowed:
                    out.append(f'{path.relative_to(root)}:{node.lineno}: '
                               f'imports {name}')
    return out


def test_base_models_are_found():
    models = [p.name for p in (REPO / PACKAGE / 'base_models').iterdir()
              if (p / '__init__.py').is_file()]
    assert {'refineloc', 'wtalc', 'basnet', 'delu'} <= set(models)


def test_no_import_crosses_a_base_model_folder():
    assert boundary_violations() == []


@pytest.mark.parametrize('file,line', [
    # a generic head importing a model's head
    ('refineloc_mm/models/heads/base_snippet_head.py',
     'from refineloc_mm.base_models.refineloc import RefineLocHead\n'),
    # one model importing another's building block (relative import)
    ('refineloc_mm/base_models/wtalc/wtalc_head.py',
     'from ..refineloc.refineloc_head import RefineLocHead\n'),
    # a shared __init__ listing a model
    ('refineloc_mm/base_models/__init__.py', 'from . import delu\n'),
    # a tool
    ('tools/train.py', 'import refineloc_mm.base_models.basnet\n'),
])
def test_a_crossing_import_is_caught(tmp_path, file, line):
    """The check fails on a planted crossing import (a copy of the
    package and tools with one line added)."""
    import shutil
    for folder in (PACKAGE, 'tools'):
        shutil.copytree(REPO / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns('__pycache__'))
    target = tmp_path / file
    target.write_text(target.read_text() + line)
    found = boundary_violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(file), found


def test_benchmark_originals_import_torch_only():
    assert original_import_violations() == []


@pytest.mark.parametrize('line', [
    'from refineloc_mm.models.utils.snippet_ops import unpack\n',
    'from .wtalc_head import WTALCHead\n',
    'import mmengine\n',
])
def test_an_original_importing_the_project_is_caught(tmp_path, line):
    import shutil
    shutil.copytree(REPO / PACKAGE / 'base_models',
                    tmp_path / PACKAGE / 'base_models',
                    ignore=shutil.ignore_patterns('__pycache__'))
    target = tmp_path / PACKAGE / 'base_models' / 'wtalc' / \
        'benchmark_original.py'
    target.write_text(target.read_text() + line)
    found = original_import_violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(
        'refineloc_mm/base_models/wtalc/benchmark_original.py'), found
