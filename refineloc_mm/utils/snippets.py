# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Vectorized snippet bookkeeping shared by datasets and generators.

Videos of a split are handled as one flat array of snippets: video ``v``
owns the slice ``offsets[v]:offsets[v + 1]``.
"""
import numpy as np


def offsets_from_lengths(lengths: np.ndarray) -> np.ndarray:
    """[V] lengths -> [V + 1] offsets into the flat snippet array."""
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])


def fill_segments(num_snippets: np.ndarray, video_index: np.ndarray,
                  t_start: np.ndarray, t_end: np.ndarray, fps: np.ndarray,
                  snippet_size: np.ndarray) -> np.ndarray:
    """Mark the snippets covered by segments, for all videos at once.

    The rule of the reference implementation: snippets
    ``round(t_start * fps / snippet_size)`` ..
    ``round(t_end * fps / snippet_size)`` inclusive (round half to even, as
    Python and numpy do), clipped to the video, are set.

    Args:
        num_snippets (np.ndarray): [V] snippets per video.
        video_index (np.ndarray): [S] video of each segment.
        t_start (np.ndarray): [S] segment starts in seconds.
        t_end (np.ndarray): [S] segment ends in seconds.
        fps (np.ndarray): [V] frames per second.
        snippet_size (np.ndarray): [V] frames per snippet.

    Returns:
        np.ndarray: flat bool mask of ``num_snippets.sum()`` snippets.
    """
    num_snippets = np.asarray(num_snippets, dtype=np.int64)
    offsets = offsets_from_lengths(num_snippets)
    total = int(offsets[-1])
    video_index = np.asarray(video_index, dtype=np.int64)
    if video_index.size == 0:
        return np.zeros(total, dtype=bool)
    fps = np.broadcast_to(np.asarray(fps, np.float64), num_snippets.shape)
    size = np.broadcast_to(
        np.asarray(snippet_size, np.float64), num_snippets.shape)
    fps, size = fps[video_index], size[video_index]
    lengths = num_snippets[video_index]

    def to_index(t: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(t, np.float64) * fps / size).astype(
            np.int64)

    first = np.clip(to_index(t_start), 0, lengths)
    last_excl = np.clip(to_index(t_end) + 1, 0, lengths)
    keep = last_excl > first
    base = offsets[video_index]
    diff = np.zeros(total + 1, dtype=np.int64)
    np.add.at(diff, (base + first)[keep], 1)
    np.add.at(diff, (base + last_excl)[keep], -1)
    return np.cumsum(diff[:-1]) > 0
