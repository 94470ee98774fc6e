# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Work-arounds for the pinned OpenMMLab stack, applied on import.

1. The ``mmaction2==1.2.0`` wheel on PyPI ships without
   ``mmaction/models/localizers/drn/``, so ``import mmaction.models`` fails.
   When (and only when) that sub-package is missing we install a small
   placeholder module whose ``DRN`` raises a clear error if somebody really
   tries to build it. A source install of mmaction2 is left untouched.
2. ``mmengine==0.10.7`` calls ``torch.load`` without ``weights_only``; with
   torch >= 2.6 this means ``weights_only=True`` and mmengine's own
   checkpoints (``HistoryBuffer``, numpy arrays in the message hub) are
   refused. We replace mmengine's local-file checkpoint loader by one that
   loads with ``weights_only=True`` inside a :func:`torch.serialization.
   safe_globals` context listing exactly the types our checkpoints contain.
   Anything else is refused with :class:`UnsafeCheckpointError` *before* it
   can run code. Remote checkpoints (``http(s)://``, ``torchvision://``,
   ``open-mmlab://``, ``mmcls://``) go through mmengine's ``load_url``,
   i.e. ``torch.hub.load_state_dict_from_url``, whose default is
   ``weights_only=False``; it is replaced the same way.
"""
import importlib.util
import os.path as osp
import pickle
import sys
import types
from typing import Any, List, Optional

import numpy as np
import torch

_DRN_MODULE = 'mmaction.models.localizers.drn'


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint asks to unpickle something outside the allowlist."""


def patch_mmaction_drn() -> bool:
    """Provide ``mmaction.models.localizers.drn`` if the wheel lacks it.

    Returns:
        bool: True if the placeholder was installed.
    """
    if _DRN_MODULE in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(_DRN_MODULE)
    except ModuleNotFoundError:
        spec = None
    if spec is not None:
        return False

    class DRN:  # noqa: D401 - placeholder
        """Placeholder for mmaction2's DRN, absent from the PyPI wheel."""

        def __init__(self, *args, **kwargs) -> None:
            raise ImportError(
                'mmaction.models.localizers.drn is missing from this '
                'mmaction2 installation (the 1.2.0 wheel on PyPI does not '
                'ship it); install mmaction2 from source to use DRN.')

    pkg = types.ModuleType(_DRN_MODULE)
    pkg.__path__ = []  # mark as a package
    mod = types.ModuleType(_DRN_MODULE + '.drn')
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules[_DRN_MODULE] = pkg
    sys.modules[_DRN_MODULE + '.drn'] = mod
    return True


_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to what mmengine pickles: the default statistics
    methods of ``HistoryBuffer`` (``HistoryBuffer.__getstate__`` stores
    them by reference). Anything else is refused."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Unsupported getattr({obj!r}, {name!r}): only the statistics '
        f'methods {_HISTORY_BUFFER_METHODS} of HistoryBuffer are allowed.')


def checkpoint_safe_globals() -> List[Any]:
    """The exact set of non-tensor types our checkpoints contain.

    mmengine stores the message hub (``HistoryBuffer`` objects holding numpy
    arrays and numpy scalars, plus their ``statistics_methods``, which
    pickle as ``getattr(HistoryBuffer, 'min')`` etc.) and the authors'
    RefineLoc checkpoints store numpy scalars in their settings. Nothing
    callable beyond numpy's array reconstruction helpers and
    :func:`_history_buffer_getattr` (standing in for ``builtins.getattr``)
    is allowed.
    """
    from mmengine.logging import HistoryBuffer
    from numpy._core.multiarray import _reconstruct, scalar

    allowed: List[Any] = [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        _reconstruct,
        scalar,
        # pickles written with numpy < 2 name the old module path
        (_reconstruct, 'numpy.core.multiarray._reconstruct'),
        (scalar, 'numpy.core.multiarray.scalar'),
    ]
    for name in ('Float64DType', 'Float32DType', 'Float16DType',
                 'Int64DType', 'Int32DType', 'Int8DType', 'UInt8DType',
                 'BoolDType'):
        allowed.append(getattr(np.dtypes, name))
    return allowed


def safe_torch_load(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and our allowlist.

    Args:
        filename (str): Path of the checkpoint.
        map_location: Same as :func:`torch.load`. Defaults to None.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        UnsafeCheckpointError: If the file needs a global outside the
            allowlist (for example a crafted pickle that would run code).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise _unsafe_checkpoint_error(filename, e) from None


def safe_load_url(url: str,
                  model_dir: Optional[str] = None,
                  map_location: Any = None,
                  progress: bool = True) -> Any:
    """mmengine's ``load_url`` (download into torch hub's cache, then
    load) with ``weights_only=True`` and our allowlist.

    Raises:
        UnsafeCheckpointError: If the downloaded file needs a global outside
            the allowlist.
    """
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.hub.load_state_dict_from_url(
                url,
                model_dir=model_dir,
                map_location=map_location,
                progress=progress,
                weights_only=True)
    except pickle.UnpicklingError as e:
        raise _unsafe_checkpoint_error(url, e) from None


def _unsafe_checkpoint_error(filename: str,
                             e: pickle.UnpicklingError) -> Exception:
    """The error raised for a checkpoint refused by the allowlist."""
    msg = str(e)
    detail = msg[msg.find('Unsupported'):].split('\n')[0] \
        if 'Unsupported' in msg else msg.split('\n')[0]
    return UnsafeCheckpointError(
        f'Refusing to load checkpoint {filename}: it needs objects '
        f'outside the refineloc_mm allowlist ({detail}). Checkpoints are '
        'only ever loaded with weights_only=True.')


def patch_mmengine_checkpoint_loader() -> None:
    """Route mmengine's local checkpoint loading through
    :func:`safe_torch_load` and its downloads through
    :func:`safe_load_url`."""
    from mmengine.runner import checkpoint
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location: Any = None) -> Any:
        return safe_torch_load(filename, map_location)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    # load_from_http (and the torchvision://, open-mmlab:// and mmcls://
    # schemes built on it) looks this name up at call time
    checkpoint.load_url = safe_load_url


def patch_mmengine_cpu_launcher() -> None:
    """Let ``--launcher pytorch`` run on machines without CUDA.

    mmengine 0.10.7's ``_init_dist_pytorch`` always calls
    ``torch.cuda.set_device``, which fails on a CPU-only torch; without CUDA
    we initialize the process group (gloo, see
    :func:`refineloc_mm.utils.launcher.set_launcher`) without it.
    """
    import mmengine.dist.utils as dist_utils
    original = getattr(dist_utils._init_dist_pytorch, '__wrapped__',
                       dist_utils._init_dist_pytorch)

    def _init_dist_pytorch(backend: str,
                           init_backend: str = 'torch',
                           **kwargs) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    _init_dist_pytorch.__wrapped__ = original
    dist_utils._init_dist_pytorch = _init_dist_pytorch


def apply_patches() -> None:
    """Apply every work-around; idempotent."""
    patch_mmaction_drn()
    patch_mmengine_checkpoint_loader()
    patch_mmengine_cpu_launcher()
