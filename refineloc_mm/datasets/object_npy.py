# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Reading pickled (``dtype=object``) ``.npy`` files without running code.

W-TALC / STPN-style feature bundles store the per-video features as one
object array and the annotations (label lists, segments) as object arrays
too, i.e. pickles. ``np.load(allow_pickle=True)`` would run whatever a
downloaded pickle asks for, and would hold every video's features in RAM
at once. Here the pickle is read by an unpickler that only resolves
numpy's array/dtype/scalar reconstruction (everything else is refused,
naming the file), and :func:`stream_object_npy` hands over the per-video
arrays one at a time, keeping none of them, so a bundle of any size is
converted in the memory of its largest video.

Pickles written by Python 2 (the original bundles) are read with
``encoding='bytes'``; :func:`to_str` decodes the names and labels.
"""
import os
import pickle
from typing import Any, Callable, Optional, Tuple

import numpy as np

__all__ = [
    'UnsafeNpyError', 'load_object_npy', 'stream_object_npy', 'to_str',
    'npy_header'
]

_MULTIARRAY = ('numpy.core.multiarray', 'numpy._core.multiarray')
_NUMERIC = ('numpy.core.numeric', 'numpy._core.numeric')
# bytes/arrays above this size are not kept in the unpickler's memo while
# streaming (numpy pickles never refer to them again)
_MEMO_LIMIT = 1 << 16


class UnsafeNpyError(pickle.UnpicklingError):
    """A pickled ``.npy`` needs something other than numpy data."""


def npy_header(f) -> Tuple[Tuple[int, ...], bool, np.dtype]:
    """Read the header of an open ``.npy`` file (positioned at its start);
    leaves the file at the first data byte."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    return np.lib.format._read_array_header(f, version)


def to_str(value: Any) -> str:
    """A name or label as ``str`` (bytes are UTF-8)."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode('utf-8')
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return to_str(value.item())
    return str(value)


def _reconstruct(cls, shape, dtype):
    """numpy's ``_reconstruct``, for plain ndarrays only."""
    if cls is not np.ndarray:
        raise UnsafeNpyError(f'refusing to reconstruct {cls!r}')
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _scalar(dtype, data=None):
    """numpy's ``scalar`` (numpy scalars inside lists), numeric only."""
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise UnsafeNpyError(f'refusing a numpy scalar of dtype {dtype!r}')
    if isinstance(data, str):  # Python 2 pickles read with latin1
        data = data.encode('latin1')
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _dtype(*args):
    return np.dtype(*args)


def _codecs_encode(obj, encoding='utf-8'):
    import codecs
    return codecs.encode(obj, encoding)


class _StreamedArray:
    """Stands for a per-video array handed to the callback."""

    def __init__(self, index: int, shape: Tuple[int, ...], dtype: np.dtype):
        self.index, self.shape, self.dtype = index, shape, dtype


class _Memo(dict):
    """The unpickler's memo, without the large buffers (streaming)."""

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray) or (isinstance(
                value, (bytes, bytearray)) and len(value) > _MEMO_LIMIT):
            value = None
        super().__setitem__(key, value)


class _SafeUnpickler(pickle._Unpickler):
    """Pure-Python unpickler resolving only numpy data globals."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, path: str,
                 on_array: Optional[Callable[[int, np.ndarray], None]] = None
                 ) -> None:
        super().__init__(file, encoding='bytes')
        self.path = path
        self.on_array = on_array
        self.count = 0
        if on_array is not None:
            self.memo = _Memo()

    def find_class(self, module: str, name: str) -> Any:
        if module in _MULTIARRAY and name == '_reconstruct':
            return _reconstruct
        if module in _MULTIARRAY and name == 'scalar':
            return _scalar
        if module in _NUMERIC and name == '_frombuffer':
            return self._frombuffer  # pickle protocol 5
        if module == 'numpy' and name == 'ndarray':
            return np.ndarray
        if module == 'numpy' and name == 'dtype':
            return _dtype
        if module == '_codecs' and name == 'encode':
            return _codecs_encode
        raise UnsafeNpyError(
            f'{self.path}: refusing to unpickle {module}.{name}; a feature '
            'or annotation .npy file only needs numpy arrays, lists, '
            'numbers and strings.')

    def _streamed(self, arr: np.ndarray) -> Any:
        """Hand a finished numeric array to the callback (streaming)."""
        if self.on_array is None or arr.dtype.hasobject:
            return arr
        index = self.count
        self.count += 1
        self.on_array(index, arr)
        return _StreamedArray(index, arr.shape, arr.dtype)

    def _frombuffer(self, buf, dtype, shape, order):
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise UnsafeNpyError(f'{self.path}: refusing a buffer of dtype '
                                 f'{dtype!r}')
        arr = np.frombuffer(buf, dtype=dtype)
        arr = arr.reshape(shape, order='F' if order == 'F' else 'C')
        return self._streamed(arr)

    def load_build(self) -> None:
        state = self.stack[-1]
        inst = self.stack[-2]
        if isinstance(inst, np.dtype):
            self.stack.pop()
            inst.__setstate__(state)
            return
        if not isinstance(inst, np.ndarray):
            raise UnsafeNpyError(
                f'{self.path}: refusing to set the state of '
                f'{type(inst).__name__}')
        self.stack.pop()
        inst.__setstate__(state)
        self.stack[-1] = self._streamed(inst)

    dispatch[pickle.BUILD[0]] = load_build


def load_object_npy(path: str) -> np.ndarray:
    """Load a ``.npy`` file, object arrays included, running no code.

    Raises:
        UnsafeNpyError: If the pickle needs anything but numpy data.
    """
    with open(path, 'rb') as f:
        shape, fortran, dtype = npy_header(f)
        if not dtype.hasobject:
            f.seek(0)
            return np.load(f, allow_pickle=False)
        arr = _SafeUnpickler(f, path).load()
    if not isinstance(arr, np.ndarray):
        raise ValueError(f'{path}: the pickle holds a '
                         f'{type(arr).__name__}, not an array.')
    return arr


def stream_object_npy(path: str,
                      on_array: Callable[[int, np.ndarray], None]) -> int:
    """Call ``on_array(i, array_i)`` for each element of a 1-D object
    array of numeric arrays (or each row of a numeric array), in order,
    holding one element at a time.

    Returns:
        int: The number of elements.

    Raises:
        UnsafeNpyError: If the pickle needs anything but numpy data.
        ValueError: If the elements are not numeric arrays, one each.
    """
    with open(path, 'rb') as f:
        shape, fortran, dtype = npy_header(f)
        offset = f.tell()
        if not dtype.hasobject:  # a plain [N, T, D] array: memory-map it
            size = os.fstat(f.fileno()).st_size
            if size < offset + int(np.prod(shape)) * dtype.itemsize:
                raise ValueError(f'{path}: truncated file')
            data = np.memmap(
                path,
                dtype=dtype,
                mode='r',
                offset=offset,
                shape=tuple(shape),
                order='F' if fortran else 'C')
            for i in range(shape[0]):
                on_array(i, np.array(data[i]))
            del data
            return int(shape[0])
        unpickler = _SafeUnpickler(f, path, on_array)
        arr = unpickler.load()
    if not isinstance(arr, np.ndarray) or arr.ndim != 1:
        raise ValueError(f'{path}: expected a 1-D object array of per-video '
                         f'features, got {type(arr).__name__} '
                         f'{getattr(arr, "shape", "")}.')
    for i, item in enumerate(arr):
        if not isinstance(item, _StreamedArray) or item.index != i:
            raise ValueError(
                f'{path}: element {i} is not a numeric array of its own '
                f'({type(item).__name__}); expected one feature array per '
                'video.')
    return len(arr)
