# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Untrimmed raw videos, cut into the same snippets as the features.

Annotations are the reference ground-truth CSV; videos are files
``video_dir/filename_tmpl.format(video_name)``. A video has
T = floor(video-num-frames / snippet_size) snippets (the CSV's frame
count), exactly as many as its pre-extracted features, so ``num_snippets``,
``fg_mask``, pseudo labels, the refinement hook and the metric are the
same as with features. Frames are decoded lazily by the pipeline
(:class:`SampleSnippetFrames`, then MMAction2's decoding and geometric
transforms, chunk by chunk in :class:`DecodeSnippetChunks`).

Indexing the dataset itself gives every snippet of a video (validation,
test, and the refinement hook's scoring of the training split); a
training pipeline with ``SampleSnippetFrames(max_snippets=K)`` keeps K
snippets only of the samples that :class:`PseudoLabelDataset` serves,
which carry pseudo labels.
"""
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmaction.registry import DATASETS
from .base_snippet_dataset import BaseSnippetDataset
from .snippet_feature_dataset import read_groundtruth_csv

# bounded memory without a configured pipeline: at most 256 snippets of a
# training video (samples with pseudo labels); every other sample (val,
# test, the refinement hook's scoring) is streamed chunk by chunk
DEFAULT_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleSnippetFrames', clip_len=8, max_snippets=256),
    dict(
        type='DecodeSnippetChunks',
        chunk_size=32,
        lazy='inference',
        transforms=[
            dict(type='DecordDecode'),
            dict(type='Resize', scale=(-1, 128)),
            dict(type='CenterCrop', crop_size=112),
            dict(type='FormatShape', input_format='NCTHW'),
        ]),
    dict(type='PackSnippetClips', input_format='NCTHW'),
]


@DATASETS.register_module()
class RawVideoSnippetDataset(BaseSnippetDataset):
    """Raw videos + the reference ground-truth CSV.

    Args:
        ann_file (str): Ground-truth CSV of the split.
        video_dir (str): Folder of the videos (under ``data_root``).
        filename_tmpl (str): Video file name of a video name. Defaults to
            ``'{}.mp4'``.
        snippet_size (int): Frames per snippet. Defaults to 16.
        classes, on_error, pipeline, data_root, metainfo, test_mode: as
            for :class:`SnippetFeatureDataset`. ``on_error='skip'`` leaves
            out videos whose file is missing or that have no snippet.
    """

    def __init__(self,
                 ann_file: str,
                 video_dir: str = '',
                 filename_tmpl: str = '{}.mp4',
                 snippet_size: int = 16,
                 classes: Optional[Sequence[str]] = None,
                 on_error: str = 'raise',
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 data_root: str = '',
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        kwargs.pop('stream', None)
        kwargs.pop('in_channels', None)
        self.video_dir = osp.join(data_root, video_dir) \
            if data_root else video_dir
        self.filename_tmpl = filename_tmpl
        super().__init__(
            ann_file=ann_file,
            snippet_size=snippet_size,
            stream=2,
            in_channels=None,
            classes=classes,
            on_error=on_error,
            pipeline=pipeline or DEFAULT_PIPELINE,
            data_root=data_root,
            metainfo=metainfo,
            test_mode=test_mode,
            **kwargs)

    def read_annotations(self) -> 'OrderedDict[str, Dict]':
        return read_groundtruth_csv(self.ann_file)

    def index_features(self, videos: 'OrderedDict[str, Dict]'
                       ) -> Dict[str, Dict]:
        index = {}
        for name, info in videos.items():
            path = osp.join(self.video_dir, self.filename_tmpl.format(name))
            if not osp.isfile(path):
                self.reject(
                    name, 'no video',
                    f'Video "{name}" of {self.ann_file} has no file {path}.')
                continue
            t = int(info['num_frames']) // self.snippet_size
            if t <= 0:
                self.reject(
                    name, 'zero snippets',
                    f'{self.ann_file}: video "{name}" has '
                    f'{info["num_frames"]} frames, fewer than one snippet '
                    f'of {self.snippet_size}.')
                continue
            index[name] = dict(num_snippets=t, filename=path)
        return index
