# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Raw-video snippets: frame sampling per snippet and packing of clips.

A video of ``num_snippets`` = T snippets of ``snippet_size`` = s frames is
turned into T clips of ``clip_len`` = s' frames (s' <= s, evenly spaced
inside each snippet) by :class:`SampleSnippetFrames`; MMAction2's own
decoding and geometric transforms (``DecordInit``/``DecordDecode`` or
``OpenCVInit``/``OpenCVDecode``, ``Resize``, ``CenterCrop``,
``FormatShape``) then run unchanged, and :class:`PackSnippetClips` packs
the clips with the same data sample as for features.

Memory stays bounded on long videos in two ways:

- training: ``SampleSnippetFrames(max_snippets=K)`` keeps K snippets of a
  training video (TSN-style, one per equal segment) together with their
  pseudo labels;
- decoding: :class:`DecodeSnippetChunks` runs the decoder, the
  geometric transforms and ``FormatShape`` on the frames of
  ``chunk_size`` snippets at a time, so the full-resolution frames of one
  chunk only exist at once and the video is held once, as its small
  uint8 crops;
- inference (streaming): ``DecodeSnippetChunks(lazy=True)`` decodes
  nothing in the pipeline; ``imgs`` is a :class:`SnippetClipStream`, a
  small picklable recipe that the model decodes chunk by chunk while it
  encodes them (:class:`SnippetClipBackbone`), so no more than about two
  chunks of a video are held at once, whatever its length.
  ``lazy='inference'`` in a training pipeline streams exactly the samples
  without pseudo labels (the refinement hook's scoring of the training
  split), the rule of :class:`SampleSnippetFrames`.

Layouts of ``inputs`` (uint8; normalized chunk by chunk inside
:class:`SnippetClipBackbone` with the mean/std of
:class:`SnippetClipDataPreprocessor`):

- ``FormatShape('NCTHW')`` -> ``[T, C, s', H, W]`` (3D backbones),
- ``FormatShape('NCHW')`` -> ``[T, s', C, H, W]`` (2D backbones, frames
  of a snippet are pooled by :class:`SnippetClipBackbone`).
"""
from concurrent.futures import ThreadPoolExecutor
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmcv.transforms import BaseTransform, Compose

from mmaction.registry import TRANSFORMS
from .formatting import PackSnippetInputs
from .snippet_selection import (SNIPPET_KEYS, is_training_sample,
                                select_snippets)

# decoder -> the init transform that opens the video for it
DECODER_INITS = {
    'DecordDecode': 'DecordInit',
    'OpenCVDecode': 'OpenCVInit',
    'PyAVDecode': 'PyAVInit',
}
# entries of a data_info dict that a SnippetClipStream keeps to decode
STREAM_KEYS = ('filename', 'modality', 'start_index', 'frame_inds',
               'clip_len', 'num_clips')


def snippet_frame_indices(num_snippets: int,
                          snippet_size: int,
                          clip_len: int,
                          total_frames: Optional[int] = None,
                          snippet_inds: Optional[np.ndarray] = None
                          ) -> np.ndarray:
    """Frame indices of snippet clips.

    ``clip_len`` evenly spaced frames at the centres of ``clip_len`` equal
    parts of every snippet, clamped to the decoded length (decoders may
    count a frame or two fewer than the annotation).

    Args:
        num_snippets (int): T, snippets of the video.
        snippet_size (int): Frames per snippet.
        clip_len (int): Frames per clip (<= ``snippet_size``).
        total_frames (int, optional): Decoded frames, for clamping.
        snippet_inds (np.ndarray, optional): [K] snippets to take, in
            order. Defaults to all T.

    Returns:
        np.ndarray: [K * clip_len] int64 frame indices, snippet-major.
    """
    if clip_len > snippet_size:
        raise ValueError(f'clip_len={clip_len} exceeds snippet_size='
                         f'{snippet_size}')
    offsets = ((np.arange(clip_len) + 0.5) * snippet_size /
               clip_len).astype(np.int64)
    if snippet_inds is None:
        snippet_inds = np.arange(num_snippets)
    inds = (np.asarray(snippet_inds, dtype=np.int64)[:, None] *
            snippet_size + offsets[None]).reshape(-1)
    if total_frames is not None:
        inds = np.clip(inds, 0, max(int(total_frames) - 1, 0))
    return inds


def segment_snippets(num_snippets: int, num_segments: int,
                     test_mode: bool = False) -> np.ndarray:
    """TSN-style choice of ``num_segments`` of ``num_snippets`` snippets.

    [0, T) is split into ``num_segments`` = K equal segments (K < T, each
    at least one snippet long) and one snippet is taken in each: a random
    one (``np.random``, seeded per DataLoader worker by mmengine) or, in
    ``test_mode``, the centre one.

    Returns:
        np.ndarray: [K] increasing int64 snippet indices (all T when
        T <= K).
    """
    if num_snippets <= num_segments:
        return np.arange(num_snippets)
    bounds = np.arange(num_segments + 1) * num_snippets // num_segments
    starts, lengths = bounds[:-1], np.diff(bounds)
    if test_mode:
        return starts + (lengths - 1) // 2
    return starts + np.random.randint(lengths)


@TRANSFORMS.register_module()
class SampleSnippetFrames(BaseTransform):
    """Frame indices of the snippets of a video.

    Every snippet is kept, except for training samples of videos longer
    than ``max_snippets``: those keep ``max_snippets`` snippets (one per
    equal segment of the video, see :func:`segment_snippets`), and their
    per-snippet targets (``snippet_keys``: the pseudo labels, the true
    foreground mask) are sliced alike, ``num_snippets`` becomes the kept
    count and ``snippet_inds`` records which snippets were kept (metainfo
    of the packed sample). Training samples are those with
    ``sample_view='train'``, which :class:`PseudoLabelDataset` (the wrapper
    of every training split) sets. The refinement hook scores the training
    split through the wrapped dataset itself, with the same pipeline in the
    scoring view, so pseudo labels are always generated from every
    snippet, as validation and test always see every snippet.
    ``gt_segments`` (seconds, for the metric only) stay as they are; the
    sampled snippets are consecutive for the attention softmax over time
    and the group-sparsity regularizer (off in the recipes).

    Required keys: ``num_snippets``, ``snippet_size`` (set by
    :class:`RawVideoSnippetDataset`), ``total_frames`` (optional, set by
    the decoder's init transform), ``snippet_keys`` (optional). Added
    keys: ``frame_inds``, ``clip_len``, ``num_clips`` (= T),
    ``frame_interval``, ``snippet_inds`` (when sampled). Modified keys:
    ``num_snippets`` and ``snippet_keys`` (when sampled).

    Args:
        clip_len (int): Frames decoded per snippet. Defaults to 8.
        max_snippets (int, optional): Snippets kept per training video;
            None (default) keeps every snippet.
        test_mode (bool): Take the centre snippet of each segment instead
            of a random one (deterministic). Defaults to False.
        snippet_keys (Sequence[str]): Per-snippet [T, ...] entries sliced
            with the snippets. Defaults to ``('pseudo_label',
            'fg_mask')``.
    """

    def __init__(self,
                 clip_len: int = 8,
                 max_snippets: Optional[int] = None,
                 test_mode: bool = False,
                 snippet_keys: Sequence[str] = SNIPPET_KEYS) -> None:
        if max_snippets is not None and max_snippets < 1:
            raise ValueError(f'max_snippets must be >= 1 or None, got '
                             f'{max_snippets}')
        self.clip_len = clip_len
        self.max_snippets = max_snippets
        self.test_mode = test_mode
        self.snippet_keys = tuple(snippet_keys)

    def _sample(self, results: Dict) -> None:
        """Keep ``max_snippets`` snippets of a training sample."""
        t = results['num_snippets']
        inds = segment_snippets(t, self.max_snippets, self.test_mode)
        select_snippets(results, self.snippet_keys, inds)

    def transform(self, results: Dict) -> Dict:
        if (self.max_snippets is not None and is_training_sample(results)
                and results['num_snippets'] > self.max_snippets):
            self._sample(results)
        results['frame_inds'] = snippet_frame_indices(
            results['num_snippets'], results['snippet_size'], self.clip_len,
            results.get('total_frames'), results.get('snippet_inds'))
        results['clip_len'] = self.clip_len
        results['num_clips'] = results['num_snippets']
        results['frame_interval'] = None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'max_snippets={self.max_snippets}, '
                f'test_mode={self.test_mode})')


def iter_snippet_chunks(results: Dict, transforms: Callable,
                        chunk_size: int) -> Iterator[Tuple[int, Dict]]:
    """Run ``transforms`` on the frames of ``chunk_size`` snippets at a
    time.

    Each chunk gets a shallow copy of ``results`` with its own
    ``frame_inds`` and ``num_clips``; the decoders' ``video_reader`` is
    left open in ``results`` for the next chunk.

    Args:
        results (dict): With ``frame_inds`` ([T * clip_len]),
            ``clip_len`` and the decoder's ``video_reader``.
        transforms (callable): E.g. ``Compose([DecordDecode, Resize,
            CenterCrop])``.
        chunk_size (int): Snippets per chunk.

    Yields:
        tuple[int, dict]: Index of the chunk's first snippet and the
        chunk's transformed results (``imgs``: its n * clip_len frames).
    """
    inds = results['frame_inds']
    clip_len = results['clip_len']
    num = len(inds) // clip_len
    for start in range(0, num, max(int(chunk_size), 1)):
        n = min(chunk_size, num - start)
        chunk = dict(
            results,
            num_clips=n,
            frame_inds=inds[start * clip_len:(start + n) * clip_len])
        yield start, transforms(chunk)


def pack_snippet_clips(imgs: np.ndarray,
                       num_snippets: int,
                       input_format: str,
                       video_name: Optional[str] = None) -> np.ndarray:
    """Clips after ``FormatShape`` -> one row per snippet.

    Args:
        imgs (np.ndarray): [n, C, s', H, W] (``'NCTHW'``) or
            [n * s', C, H, W] (``'NCHW'``) of n snippets.
        num_snippets (int): n.
        input_format (str): ``'NCTHW'`` or ``'NCHW'``.
        video_name (str, optional): For the error message.

    Returns:
        np.ndarray: [n, C, s', H, W] or [n, s', C, H, W], contiguous.
    """
    if input_format == 'NCHW':
        imgs = imgs.reshape((num_snippets, -1) + imgs.shape[1:])
    elif imgs.shape[0] != num_snippets:
        raise ValueError(
            f'video "{video_name}": {imgs.shape[0]} clips for '
            f'{num_snippets} snippets (one crop per snippet is supported)')
    return np.ascontiguousarray(imgs)


class SnippetClipStream:
    """The snippet clips of one video, decoded chunk by chunk on demand.

    Made by ``DecodeSnippetChunks(lazy=True)`` (inference pipelines) in
    place of the decoded ``imgs``: it holds only what decoding needs (the
    video file name, the [T * s'] frame indices, ``clip_len``, the number
    of snippets, the configs of the decoding transforms, ``chunk_size``
    and the config of the decoder's init transform, ``reopen``), so it is
    small and picklable (it crosses from DataLoader workers to the main
    process; the open video handle is not kept). Iterating opens the video
    again (``reopen``) and runs the transforms on ``chunk_size`` snippets
    at a time with :func:`iter_snippet_chunks`, as the eager
    ``DecodeSnippetChunks`` does, optionally decoding the next chunk on
    one background thread (``prefetch``) while the current one is used.

    Chunks are uint8 arrays equal to the corresponding rows of the eager
    ``DecodeSnippetChunks`` output ([n, C, s', H, W] or [n * s', C, H, W]
    after ``FormatShape``); once :class:`PackSnippetClips` has set
    ``input_format``, they come in its packed layout ([n, C, s', H, W] or
    [n, s', C, H, W]), n <= ``chunk_size``.

    Args:
        results (dict): The pipeline's results with ``frame_inds``
            ([T * s']), ``clip_len``, ``num_clips`` (= T), ``filename``.
        transforms (list[dict]): Configs of the decoder, the geometric
            transforms and ``FormatShape``.
        reopen (dict): Config of the init transform that opens the video
            for the decoder, e.g. ``dict(type='DecordInit')``.
        chunk_size (int): Snippets per chunk.
        prefetch (bool): Decode the next chunk on a background thread.
            Defaults to False.
    """

    def __init__(self,
                 results: Dict,
                 transforms: List[dict],
                 reopen: dict,
                 chunk_size: int,
                 prefetch: bool = False) -> None:
        self.results = {k: results[k] for k in STREAM_KEYS if k in results}
        self.video_name = results.get('video_name')
        self.transforms = [dict(t) for t in transforms]
        self.reopen = dict(reopen)
        self.chunk_size = chunk_size
        self.prefetch = prefetch
        self.input_format: Optional[str] = None  # set by PackSnippetClips

    def __len__(self) -> int:
        """T, the snippets of the video."""
        return self.results['num_clips']

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(video={self.video_name!r}, '
                f'snippets={len(self)}, chunk_size={self.chunk_size}, '
                f'input_format={self.input_format})')

    def _chunks(self) -> Iterator[np.ndarray]:
        """Decode, transform and lay out chunk after chunk."""
        results = TRANSFORMS.build(self.reopen)(dict(self.results))
        transforms = Compose([TRANSFORMS.build(t) for t in self.transforms])
        for _, out in iter_snippet_chunks(results, transforms,
                                          self.chunk_size):
            imgs = np.asarray(out['imgs'])
            if self.input_format is None:
                yield np.ascontiguousarray(imgs)
            else:
                yield pack_snippet_clips(imgs, out['num_clips'],
                                         self.input_format, self.video_name)
        results['video_reader'] = None

    def __iter__(self) -> Iterator[np.ndarray]:
        """Chunks of the video, in order (see the class docstring)."""
        chunks = self._chunks()
        if not self.prefetch:
            yield from chunks
            return
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(next, chunks, None)
            while True:
                chunk = pending.result()
                if chunk is None:
                    break
                pending = pool.submit(next, chunks, None)
                yield chunk


@TRANSFORMS.register_module()
class DecodeSnippetChunks(BaseTransform):
    """Decoding (and the transforms after it) applied chunk by chunk.

    The given transforms (a decoder, per-frame geometric transforms and
    optionally ``FormatShape``, all of MMAction2) run on the frames of
    ``chunk_size`` snippets at a time; each chunk's ``imgs`` are copied
    into one uint8 array as soon as they are transformed, so the
    full-resolution frames of one chunk only exist at once and the whole
    video is held once, as its final crops. The output equals that of the
    transforms applied to all frames at once: ``imgs`` [T * s', H, W, C]
    after geometric transforms, or, with ``FormatShape`` inside (which
    saves the copy it would make of the whole video), [T, C, s', H, W]
    (``'NCTHW'``) or [T * s', C, H, W] (``'NCHW'``).

    Streaming (``lazy``, for inference pipelines only): nothing is
    decoded here; ``imgs`` becomes a :class:`SnippetClipStream` that the
    model (:class:`SnippetClipBackbone`, in eval mode) decodes chunk by
    chunk while it encodes the chunks, so inference memory does not grow
    with the video's length. The video is opened again for that by
    ``reopen``. ``lazy=True`` streams every sample and refuses training
    samples (``sample_view='train'``, which must be decoded for the
    backbone's backward pass); ``lazy='inference'``, for training
    pipelines, streams exactly the samples of the scoring view (the
    refinement hook's scoring of the training split through the wrapped
    dataset; the rule of :class:`SampleSnippetFrames`) and decodes
    training samples eagerly.

    Required keys: ``frame_inds``, ``clip_len``, ``num_clips``,
    ``video_reader`` (``filename`` when lazy) and what the transforms
    require. Added keys: ``imgs`` (np.ndarray, or a
    :class:`SnippetClipStream` when lazy) and, when not lazy, those the
    transforms add (``input_shape`` is that of the whole ``imgs``);
    ``video_reader`` is closed (None), as after a decoder.

    Args:
        transforms (list[dict | callable]): E.g. ``[dict(type=
            'DecordDecode'), dict(type='Resize', scale=(-1, 128)),
            dict(type='CenterCrop', crop_size=112)]``, optionally followed
            by ``dict(type='FormatShape', input_format='NCTHW')``. Random
            transforms would draw per chunk; use deterministic ones.
            When lazy: configs (dicts) ending with ``FormatShape``.
        chunk_size (int): Snippets per chunk. Defaults to 32.
        lazy (bool | str): False (default): decode here; True: stream
            (inference pipelines); ``'inference'``: stream the samples
            of the scoring view only (training pipelines).
        reopen (dict, optional): Config of the transform that opens the
            video again for a stream. Defaults to the init transform of
            the decoder (``DecordInit``, ``OpenCVInit`` or ``PyAVInit``).
        prefetch (bool): Streams decode their next chunk on a background
            thread while the model encodes the current one (overlaps
            decoding with a GPU's work; the peak then holds a second
            chunk's decoding working set: 0.1-0.4 GiB more with the X3D
            config in ``tools/raw_video_memory.py`` runs, see
            ``docs/raw_video.md``).
            Defaults to False.
    """

    def __init__(self,
                 transforms: List[Union[dict, Callable]],
                 chunk_size: int = 32,
                 lazy: Union[bool, str] = False,
                 reopen: Optional[dict] = None,
                 prefetch: bool = False) -> None:
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        if lazy not in (False, True, 'inference'):
            raise ValueError(f"lazy must be False, True or 'inference', "
                             f'got {lazy!r}')
        self.transforms = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ])
        self.chunk_size = chunk_size
        self.lazy = lazy
        self.prefetch = prefetch
        self.transform_cfgs: List[dict] = []
        self.reopen = reopen
        if lazy:
            self.transform_cfgs, self.reopen = self._stream_configs(
                transforms, reopen)

    @staticmethod
    def _stream_configs(transforms: List[Union[dict, Callable]],
                        reopen: Optional[dict]) -> Tuple[List[dict], dict]:
        """Check what a stream needs: configs, ``FormatShape`` last and
        the init transform of the decoder."""
        if not all(isinstance(t, dict) for t in transforms):
            raise TypeError('lazy DecodeSnippetChunks needs transform '
                            'configs (dicts), which streams rebuild')
        types = [t['type'] for t in transforms]
        if not types or types[-1] != 'FormatShape':
            raise ValueError(
                'lazy DecodeSnippetChunks needs FormatShape as its last '
                f'transform (streams are packed by PackSnippetClips), got '
                f'{types}')
        if reopen is None:
            if types[0] not in DECODER_INITS:
                raise ValueError(
                    f'cannot tell how to reopen the video for decoder '
                    f'{types[0]!r} (known: {tuple(DECODER_INITS)}): give '
                    "reopen=dict(type='<its init transform>')")
            reopen = dict(type=DECODER_INITS[types[0]])
        return [dict(t) for t in transforms], dict(reopen)

    def _streams(self, results: Dict) -> bool:
        """Whether this sample is streamed (see ``lazy``)."""
        training = is_training_sample(results)
        if self.lazy is True and training:
            raise ValueError(
                f'video "{results.get("video_name")}": lazy=True streams '
                'inference samples only, got a training sample (with '
                "pseudo labels); use lazy='inference' in training "
                'pipelines')
        return bool(self.lazy) and not training

    def transform(self, results: Dict) -> Dict:
        if self._streams(results):
            results['imgs'] = SnippetClipStream(
                results, self.transform_cfgs, self.reopen, self.chunk_size,
                self.prefetch)
            results['video_reader'] = None
            return results
        num = results['num_clips']
        imgs, out = None, results
        for start, out in iter_snippet_chunks(results, self.transforms,
                                              self.chunk_size):
            chunk = out.pop('imgs')
            rows = len(chunk) // out['num_clips']  # per snippet
            if imgs is None:
                imgs = np.empty((num * rows, ) + chunk[0].shape,
                                chunk[0].dtype)
            for i, row in enumerate(chunk, start * rows):
                imgs[i] = row
            del chunk  # frees the chunk's frames now
        out.update(
            imgs=imgs,
            frame_inds=results['frame_inds'],
            num_clips=num,
            video_reader=None)
        if 'input_shape' in out:
            out['input_shape'] = imgs.shape
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f'chunk_size={self.chunk_size}, lazy={self.lazy!r})')


@TRANSFORMS.register_module()
class PackSnippetClips(PackSnippetInputs):
    """Pack ``imgs`` (after ``FormatShape``) as ``inputs`` [T, ...] with
    the data sample of :class:`PackSnippetInputs`, plus the metainfo
    ``snippet_inds`` ([T] kept snippets) when :class:`SampleSnippetFrames`
    sampled the video.

    A :class:`SnippetClipStream` (``DecodeSnippetChunks(lazy=True)``) is
    packed as is: ``inputs`` is the stream, which then yields its chunks
    in the same layout, [n, C, s', H, W] or [n, s', C, H, W].

    Args:
        input_format (str): The ``FormatShape`` format: ``'NCTHW'`` gives
            [T, C, s', H, W]; ``'NCHW'`` gives [T, s', C, H, W].
    """

    def __init__(self, input_format: str = 'NCTHW') -> None:
        if input_format not in ('NCTHW', 'NCHW'):
            raise ValueError(
                f'input_format must be NCTHW or NCHW, got {input_format}')
        self.input_format = input_format

    def pack_inputs(self, results: Dict) -> Any:
        """[T, ...] uint8 tensor of the clips, or their stream."""
        imgs = results.pop('imgs')
        t = results['num_snippets']
        if isinstance(imgs, SnippetClipStream):
            if len(imgs) != t:
                raise ValueError(f'video "{results.get("video_name")}": a '
                                 f'stream of {len(imgs)} clips for {t} '
                                 'snippets')
            imgs.input_format = self.input_format
            return imgs
        return torch.from_numpy(
            pack_snippet_clips(
                np.asarray(imgs), t, self.input_format,
                results.get('video_name')))

    def transform(self, results: Dict) -> Dict:
        packed = super().transform(results)
        if 'snippet_inds' in results:
            packed['data_samples'].set_metainfo(
                dict(snippet_inds=results['snippet_inds']))
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_format={self.input_format})'
