# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Raw-video snippets: frame sampling per snippet and packing of clips.

A video of ``num_snippets`` = T snippets of ``snippet_size`` = s frames is
turned into T clips of ``clip_len`` = s' frames (s' <= s, evenly spaced
inside each snippet) by :class:`SampleSnippetFrames`; MMAction2's own
decoding and geometric transforms (``DecordInit``/``DecordDecode`` or
``OpenCVInit``/``OpenCVDecode``, ``Resize``, ``CenterCrop``,
``FormatShape``) then run unchanged, and :class:`PackSnippetClips` packs
the clips with the same data sample as for features.

Layouts of ``inputs`` (uint8, normalized later by
:class:`SnippetClipDataPreprocessor`):

- ``FormatShape('NCTHW')`` -> ``[T, C, s', H, W]`` (3D backbones),
- ``FormatShape('NCHW')`` -> ``[T, s', C, H, W]`` (2D backbones, frames
  of a snippet are pooled by :class:`SnippetClipBackbone`).
"""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .formatting import PackSnippetInputs


def snippet_frame_indices(num_snippets: int, snippet_size: int,
                          clip_len: int,
                          total_frames: int = None) -> np.ndarray:
    """[T * clip_len] frame indices: ``clip_len`` evenly spaced frames at
    the centres of ``clip_len`` equal parts of every snippet, clamped to
    the decoded length (decoders may count a frame or two fewer than the
    annotation)."""
    if clip_len > snippet_size:
        raise ValueError(f'clip_len={clip_len} exceeds snippet_size='
                         f'{snippet_size}')
    offsets = ((np.arange(clip_len) + 0.5) * snippet_size /
               clip_len).astype(np.int64)
    inds = (np.arange(num_snippets)[:, None] * snippet_size +
            offsets[None]).reshape(-1)
    if total_frames is not None:
        inds = np.clip(inds, 0, max(int(total_frames) - 1, 0))
    return inds


@TRANSFORMS.register_module()
class SampleSnippetFrames(BaseTransform):
    """Frame indices of every snippet of the video.

    Required keys: ``num_snippets``, ``snippet_size`` (set by
    :class:`RawVideoSnippetDataset`), ``total_frames`` (optional, set by
    the decoder's init transform). Added keys: ``frame_inds``,
    ``clip_len``, ``num_clips`` (= T), ``frame_interval``.

    Args:
        clip_len (int): Frames decoded per snippet. Defaults to 8.
    """

    def __init__(self, clip_len: int = 8) -> None:
        self.clip_len = clip_len

    def transform(self, results: Dict) -> Dict:
        t = results['num_snippets']
        results['frame_inds'] = snippet_frame_indices(
            t, results['snippet_size'], self.clip_len,
            results.get('total_frames'))
        results['clip_len'] = self.clip_len
        results['num_clips'] = t
        results['frame_interval'] = None
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(clip_len={self.clip_len})'


@TRANSFORMS.register_module()
class PackSnippetClips(PackSnippetInputs):
    """Pack ``imgs`` (after ``FormatShape``) as ``inputs`` [T, ...] with
    the data sample of :class:`PackSnippetInputs`.

    Args:
        input_format (str): The ``FormatShape`` format: ``'NCTHW'`` gives
            [T, C, s', H, W]; ``'NCHW'`` gives [T, s', C, H, W].
    """

    def __init__(self, input_format: str = 'NCTHW') -> None:
        if input_format not in ('NCTHW', 'NCHW'):
            raise ValueError(
                f'input_format must be NCTHW or NCHW, got {input_format}')
        self.input_format = input_format

    def transform(self, results: Dict) -> Dict:
        imgs = np.asarray(results.pop('imgs'))
        t = results['num_snippets']
        if self.input_format == 'NCHW':
            imgs = imgs.reshape((t, -1) + imgs.shape[1:])
        elif imgs.shape[0] != t:
            raise ValueError(
                f'video "{results["video_name"]}": {imgs.shape[0]} clips '
                f'for {t} snippets (one crop per snippet is supported)')
        results['features'] = np.ascontiguousarray(imgs)
        return super().transform(results)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_format={self.input_format})'
