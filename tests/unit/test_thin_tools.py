# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The benchmarks, the checkpoint converter and the pseudo-label quality
tool are command lines over the package: their files define ``parse_args``
and ``main`` only (the logic is in :mod:`refineloc_mm.utils.benchmark`,
:mod:`refineloc_mm.utils.reference_checkpoint` and
:mod:`refineloc_mm.models.pseudo_label_quality`, tested there)."""
import ast

import pytest

from helpers.runs import REPO

THIN = ('tools/benchmark.py', 'tools/benchmark_iteration.py',
        'tools/convert_reference_checkpoint.py',
        'tools/pseudo_label_quality.py')


@pytest.mark.parametrize('tool', THIN)
def test_tool_is_a_command_line(tool):
    tree = ast.parse((REPO / tool).read_text())
    defs = [
        node.name for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    ]
    assert defs == ['parse_args', 'main'], (
        f'{tool} defines {defs}: logic belongs in the package')
    imported = {
        node.module for node in tree.body
        if isinstance(node, ast.ImportFrom)
    }
    assert any(m and m.startswith('refineloc_mm.') for m in imported)
