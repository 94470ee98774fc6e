# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Tensor helpers shared by the heads of every base model: padded/packed
snippet layouts, masks, pseudo labels of a batch and the autocast policy
(only the snippet networks run in reduced precision)."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

from mmaction.utils import SampleList

NEG_INF = float('-inf')
# packed-row bucket of the snippet networks under CPU autocast, see
# :func:`autocast_input`
ROW_MULTIPLE = 256


def length_mask(lengths: Sequence[int], num_snippets: int,
                device: torch.device) -> torch.Tensor:
    """[B, T] bool mask, True on the first ``lengths[b]`` snippets."""
    lengths = torch.tensor(list(lengths), device=device)
    return torch.arange(num_snippets, device=device)[None] < lengths[:, None]


def snippet_mask(data_samples: SampleList, num_snippets: int,
                 device: torch.device) -> torch.Tensor:
    """[B, T] bool mask, True on the real snippets of each video."""
    return length_mask([ds.metainfo['num_snippets'] for ds in data_samples],
                       num_snippets, device)


def masked_softmax_over_time(x: torch.Tensor,
                             mask: torch.Tensor) -> torch.Tensor:
    """Softmax over dim 1 restricted to valid snippets.

    Args:
        x (Tensor): [B, T] scores.
        mask (Tensor): [B, T] bool, True for real (unpadded) snippets.

    Returns:
        Tensor: [B, T], zero on padded snippets, rows summing to one.
    """
    return torch.softmax(x.masked_fill(~mask, NEG_INF), dim=1)


def autocast_input(x: torch.Tensor, multiple: int = ROW_MULTIPLE
                   ) -> torch.Tensor:
    """Packed features [S, D] as the MLPs consume them under autocast.

    Outside autocast ``x`` is returned as is. Under autocast it is cast to
    the autocast dtype once (instead of once per MLP) and, on CPUs, zero
    rows pad S up to a multiple of ``multiple``: oneDNN keeps a primitive
    (and scratch memory) per matrix shape, and packed batches of videos
    give a new S almost every iteration, which grows the resident memory
    of a long schedule by gigabytes; with buckets a few dozen shapes recur.
    Callers drop the rows past S from the outputs (zero rows get no
    gradient from them).

    Args:
        x (Tensor): [S, D].
        multiple (int): Row bucket on CPUs.

    Returns:
        Tensor: [S', D] with S' >= S.
    """
    device = x.device.type
    if not torch.is_autocast_enabled(device):
        return x
    dtype = torch.get_autocast_dtype(device)
    if device != 'cpu':
        return x.to(dtype)
    rows = -(-x.shape[0] // multiple) * multiple
    out = x.new_empty((rows, ) + x.shape[1:], dtype=dtype)
    out[:x.shape[0]] = x
    out[x.shape[0]:] = 0
    return out


def no_autocast(x: torch.Tensor) -> torch.autocast:
    """Autocast off on ``x``'s device: under ``--amp`` only the snippet
    MLPs run in reduced precision, the softmaxes, the attention-weighted
    video score (an einsum, which autocast would cast down) and the losses
    in float32."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def unpack(packed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Scatter packed rows [S, C] into a zero-padded [B, T, C] tensor."""
    out = packed.new_zeros((mask.numel(), ) + packed.shape[1:])
    index = mask.flatten().nonzero().squeeze(1)
    return out.index_copy(0, index, packed).view(mask.shape +
                                                  packed.shape[1:])


def snippet_durations(data_samples: SampleList) -> List[float]:
    """Seconds covered by one snippet (snippet_size / fps) per video."""
    return [
        ds.metainfo['snippet_size'] / ds.metainfo['fps']
        for ds in data_samples
    ]


def stack_pseudo_labels(data_samples: SampleList,
                        mask: torch.Tensor) -> torch.Tensor:
    """Pad the per-video pseudo labels into [B, T] with -1 (ignore).

    Returns None when the samples carry no ``pseudo_label`` (plain
    datasets, round 0 without the pseudo-label wrapper).
    """
    if not all('pseudo_label' in ds for ds in data_samples):
        return None
    out = pad_sequence([ds.pseudo_label.long() for ds in data_samples],
                       batch_first=True,
                       padding_value=-1).to(mask.device)
    if out.shape[1] < mask.shape[1]:
        out = F.pad(out, (0, mask.shape[1] - out.shape[1]), value=-1)
    return out


def stack_video_labels(data_samples: SampleList,
                       num_classes: int,
                       device: torch.device,
                       dtype: torch.dtype = torch.float32,
                       require_label: Optional[str] = None) -> torch.Tensor:
    """Multi-hot video labels [B, N] of a batch, checked against the
    head's ``num_classes``.

    Args:
        require_label (str, optional): What needs at least one class per
            video (e.g. ``"W-TALC's MIL loss needs"``), named in the error
            if a video has none; None: videos without a class are allowed.

    Raises:
        ValueError: A label of another width, naming the video; a video
            without a class (with ``require_label``), naming the videos.
    """
    labels = torch.stack([ds.gt_label for ds in data_samples]).to(
        device=device, dtype=dtype)
    if labels.shape[1] != num_classes:
        raise ValueError(
            f'video "{data_samples[0].metainfo.get("video_name")}" has a '
            f'{labels.shape[1]}-class label, but the head has '
            f'num_classes={num_classes}; set the dataset classes '
            'and model.cls_head.num_classes consistently.')
    if require_label is not None:
        empty = (labels.sum(1) <= 0).nonzero().flatten().tolist()
        if empty:
            names = [data_samples[i].metainfo.get('video_name') for i in empty]
            raise ValueError(
                f'videos {names} have no action label: {require_label} '
                'at least one class per training video.')
    return labels


def max_over_labelled_classes(values: torch.Tensor,
                               video_labels: torch.Tensor) -> torch.Tensor:
    """Per snippet, the max of ``values`` over the video's labelled
    classes (the class-agnostic view of a CAS that pseudo labels restricted
    to the video's classes supervise).

    Args:
        values (Tensor): [B, T, C'] per-class scores, C' >= C (columns past
            the C action classes, e.g. a background class, are ignored).
        video_labels (Tensor): [B, C] multi-hot. A video without any label
            takes the max over all C action classes.

    Returns:
        Tensor: [B, T].
    """
    num_classes = video_labels.shape[1]
    labelled = video_labels > 0
    labelled = labelled | ~labelled.any(1, keepdim=True)
    return values[..., :num_classes].masked_fill(
        ~labelled[:, None], float('-inf')).amax(-1)


def topk_counts(mask: torch.Tensor, divisor: int = 8,
                rounding: str = 'ceil') -> torch.Tensor:
    """k of the top-k pooling per video: ``T_i / divisor`` rounded.

    W-TALC rounds up in its MIL loss and video score (``ceil(T/8)``) and
    down in its test-time class filter (``int(T/8)``, 0 for T < 8); DELU's
    ``'eighth'`` video score rounds up.

    Args:
        mask (Tensor): [B, T] bool, True on real snippets.
        divisor (int): Defaults to 8 (W-TALC's).
        rounding (str): ``'ceil'`` or ``'floor'``.

    Returns:
        Tensor: [B] long.
    """
    lengths = mask.sum(1)
    if rounding == 'ceil':
        return torch.div(lengths + divisor - 1, divisor, rounding_mode='floor')
    if rounding == 'floor':
        return torch.div(lengths, divisor, rounding_mode='floor')
    raise ValueError(f"rounding must be 'ceil' or 'floor', got {rounding!r}")


def topk_mean_over_time(scores: torch.Tensor, mask: torch.Tensor,
                        k: torch.Tensor) -> torch.Tensor:
    """Mean of the ``k[b]`` largest values over time, per video and class,
    for all videos at once (one ``topk``, no loop over videos): the video
    scores of W-TALC (MIL) and BaS-Net.

    Args:
        scores (Tensor): [B, T, C].
        mask (Tensor): [B, T] bool, True on real snippets.
        k (Tensor): [B] long, 1 <= k[b] <= valid length of video b
            (k[b] = 0 gives NaN, the mean of nothing, as numpy's).

    Returns:
        Tensor: [B, C].
    """
    kmax = int(k.max())
    top = torch.topk(
        scores.masked_fill(~mask[..., None], NEG_INF), kmax, dim=1)[0]
    keep = torch.arange(kmax, device=scores.device)[None] < k[:, None]
    total = top.masked_fill(~keep[..., None], 0.).sum(dim=1)
    return total / k[:, None].to(scores.dtype)
