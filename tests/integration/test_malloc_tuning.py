# Copyright (c) refineloc-mm contributors. All rights reserved.
"""glibc allocator tuning: large blocks come from the reused heap."""
import platform
import sys

import pytest

from helpers.runs import run

glibc = pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc',
    reason='glibc only')

PROBE = r'''
import ctypes, sys
import numpy as np
from refineloc_mm.utils.malloc import reuse_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
        'fsmblks', 'uordblks', 'fordblks', 'keepcost')]

libc = ctypes.CDLL('libc.so.6')
libc.mallinfo2.restype = MallInfo2
size = 64 << 20  # above glibc's largest mmap threshold (32 MB)

def mmapped_blocks_while_allocated():
    a = np.ones(size, dtype=np.uint8)
    blocks = libc.mallinfo2().hblks
    del a
    return blocks

before = mmapped_blocks_while_allocated() - libc.mallinfo2().hblks
assert reuse_freed_memory()
after = mmapped_blocks_while_allocated() - libc.mallinfo2().hblks
kept = libc.mallinfo2().fordblks  # freed bytes kept in the heap
print(before, after, kept >= size)
'''


@glibc
def test_large_blocks_come_from_the_heap_and_stay():
    out = run(sys.executable, '-c', PROBE).stdout.split()
    assert out == ['1', '0', 'True']
