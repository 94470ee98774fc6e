# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Per-snippet features of raw videos from any MMAction2 recognizer.

    python tools/extract_features.py RECOGNIZER_CONFIG CHECKPOINT \\
        VIDEO_LIST OUT \\
        [--refineloc-config \\
         configs/refineloc/refineloc_i3d_50x100e_thumos14.py] \\
        [--snippet-size 16] [--clip-len 16] [--resize 128 --crop 112]

Each video is cut into T = floor(frames / snippet_size) snippets of
``snippet_size`` frames (stride = snippet size, as the RefineLoc feature
datasets expect); ``clip_len`` evenly spaced frames of each snippet are
decoded (MMAction2's ``DecordInit``/``DecordDecode`` or OpenCV, ``Resize``,
``CenterCrop``, ``FormatShape``), normalized with the recognizer's
``data_preprocessor`` mean/std, and passed through the recognizer's
backbone (+ neck): per clip for 3D recognizers, per frame then averaged
over the snippet for 2D ones; the output is globally average-pooled to a
D-vector per snippet. Snippets are processed ``--chunk-size`` at a time.

OUT ending in ``.hdf5``/``.h5`` is an HDF5 file of the reference layout
(one float32 [T, D] dataset per video name, for SnippetFeatureDataset);
anything else is a folder of per-video ``<name>.npy`` (for
NpySnippetFeatureDataset). Videos already in OUT are skipped (resumable);
a video that fails is reported and the others continue; the exit status
is 1 if any video failed.

VIDEO_LIST: one video path per line (relative to ``--video-root``); the
video name is the file name without its extension, or a second
whitespace-separated field ``path name``.
"""
import argparse
import os
import os.path as osp
import sys
import traceback
from typing import Dict, List, Tuple

import h5py
import numpy as np
import torch

import refineloc_mm  # noqa: F401  (patches mmaction/mmengine, registers)
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmaction.registry import MODELS, TRANSFORMS
from refineloc_mm.datasets.transforms.snippet_clips import (
    iter_snippet_chunks, pack_snippet_clips, snippet_frame_indices)
from refineloc_mm.models.backbones import encode_snippets
from refineloc_mm.models.data_preprocessors.snippet_clip_data_preprocessor \
    import CHANNEL_DIMS, normalize_clips
from refineloc_mm.visualization.progress import track_progress

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Extract RefineLoc snippet features with a recognizer')
    p.add_argument('config', help='MMAction2 recognizer config')
    p.add_argument('checkpoint', help='recognizer checkpoint (local file)')
    p.add_argument('video_list', help='text file, one video path per line')
    p.add_argument('out', help='.hdf5/.h5 file or a folder of .npy files')
    p.add_argument('--video-root', default='', help='prefix of the paths')
    p.add_argument(
        '--refineloc-config',
        help='take snippet_size from this RefineLoc config')
    p.add_argument('--snippet-size', type=int, help='default 16')
    p.add_argument(
        '--clip-len',
        type=int,
        help='frames decoded per snippet (default: the snippet size)')
    p.add_argument('--resize', type=int, default=128, help='short side')
    p.add_argument('--crop', type=int, default=112, help='center crop')
    p.add_argument(
        '--mode',
        choices=['auto', '2d', '3d'],
        default='auto',
        help='auto: 2d for Recognizer2D, else 3d')
    p.add_argument(
        '--multi-output',
        choices=['auto', 'last', 'concat'],
        default='auto',
        help='backbones with several outputs: last, or all concatenated '
        '(auto: concat for ResNet3dSlowFast, else last)')
    p.add_argument('--decoder', choices=['decord', 'opencv'],
                   default='decord')
    p.add_argument('--chunk-size', type=int, default=32,
                   help='snippets per forward pass')
    p.add_argument('--float16', action='store_true',
                   help='store float16 (read back as float32)')
    p.add_argument('--device', default=None,
                   help='default: cuda if available, else cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings of the recognizer config')
    return p.parse_args(argv)


def read_video_list(path: str, root: str) -> List[Tuple[str, str]]:
    """[(name, path)] of the list, in order, blank lines and # skipped."""
    videos = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            fields = line.split()
            video = osp.join(root, fields[0]) if root else fields[0]
            name = fields[1] if len(fields) > 1 else osp.splitext(
                osp.basename(fields[0]))[0]
            videos.append((name, video))
    return videos


class Writer:
    """HDF5 (one dataset per video) or per-video .npy, resumable."""

    def __init__(self, out: str, float16: bool) -> None:
        self.hdf5 = out.endswith(('.hdf5', '.h5'))
        self.out = out
        self.dtype = np.float16 if float16 else np.float32
        if self.hdf5:
            os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
            self.file = h5py.File(out, 'a')
        else:
            os.makedirs(out, exist_ok=True)

    def has(self, name: str) -> bool:
        if self.hdf5:
            return name in self.file
        return osp.isfile(osp.join(self.out, f'{name}.npy'))

    def write(self, name: str, feats: np.ndarray) -> None:
        feats = feats.astype(self.dtype)
        if self.hdf5:
            self.file.create_dataset(name, data=feats)
            self.file.flush()
            return
        path = osp.join(self.out, f'{name}.npy')
        tmp = path + '.part'
        with open(tmp, 'wb') as f:
            np.save(f, feats)
        os.replace(tmp, path)  # never a half-written .npy

    def close(self) -> None:
        if self.hdf5:
            self.file.close()


class SnippetExtractor:
    """Decode, normalize and encode the snippets of one video, one chunk
    of ``chunk_size`` snippets at a time (decoded frames, float32 clips
    and activations of one chunk only exist at once)."""

    def __init__(self, model: torch.nn.Module, mode: str, snippet_size: int,
                 clip_len: int, resize: int, crop: int, decoder: str,
                 chunk_size: int, mean, std, device: str,
                 multi_output: str = 'last') -> None:
        self.model, self.mode = model, mode
        self.multi_output = multi_output
        self.snippet_size, self.clip_len = snippet_size, clip_len
        self.chunk_size, self.device = chunk_size, device
        prefix = 'Decord' if decoder == 'decord' else 'OpenCV'
        self.init = TRANSFORMS.build(dict(type=f'{prefix}Init'))
        self.input_format = 'NCTHW' if mode == '3d' else 'NCHW'
        self.decode = Compose([
            dict(type=f'{prefix}Decode'),
            dict(type='Resize', scale=(-1, resize)),
            dict(type='CenterCrop', crop_size=crop),
            dict(type='FormatShape', input_format=self.input_format),
        ])
        self.channel_dim = CHANNEL_DIMS[self.input_format]
        self.mean = torch.tensor(mean, dtype=torch.float32)
        self.std = torch.tensor(std, dtype=torch.float32)

    @torch.no_grad()
    def __call__(self, path: str) -> np.ndarray:
        """[T, D] float32 features of the video at ``path``."""
        if not osp.isfile(path):
            raise FileNotFoundError(f'no such video file: {path}')
        base = self.init(dict(filename=path, start_index=0, modality='RGB'))
        total = int(base['total_frames'])
        num = total // self.snippet_size
        if num <= 0:
            raise ValueError(f'{path}: {total} frames, fewer than one '
                             f'snippet of {self.snippet_size}')
        base.update(
            frame_inds=snippet_frame_indices(num, self.snippet_size,
                                             self.clip_len, total),
            clip_len=self.clip_len,
            num_clips=num,
            frame_interval=None)
        neck = getattr(self.model, 'neck', None)
        feats = []
        for _, chunk in iter_snippet_chunks(base, self.decode,
                                            self.chunk_size):
            x = torch.from_numpy(
                pack_snippet_clips(
                    np.asarray(chunk['imgs']), chunk['num_clips'],
                    self.input_format, path))
            x = normalize_clips(x.to(self.device), self.mean, self.std,
                                self.channel_dim)
            y = encode_snippets(self.model.backbone, neck, x, self.mode,
                                self.multi_output)
            feats.append(y.float().cpu().numpy())
        return np.concatenate(feats)


def snippet_size_of(args: argparse.Namespace) -> int:
    if args.snippet_size is not None:
        return args.snippet_size
    if args.refineloc_config:
        return int(Config.fromfile(args.refineloc_config).get(
            'snippet_size', 16))
    return 16


def build_recognizer(args: argparse.Namespace,
                     device: str) -> Tuple[torch.nn.Module, Dict]:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model_cfg = cfg.model.copy()
    pre = dict(model_cfg.get('data_preprocessor') or {})
    model = MODELS.build(model_cfg)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(device).eval()
    return model, pre


def main(argv=None) -> int:
    args = parse_args(argv)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    snippet_size = snippet_size_of(args)
    clip_len = args.clip_len or snippet_size
    model, pre = build_recognizer(args, device)
    mode = args.mode
    if mode == 'auto':
        mode = '2d' if type(model).__name__ == 'Recognizer2D' else '3d'
    multi = args.multi_output
    if multi == 'auto':
        multi = 'concat' if type(model.backbone).__name__ == \
            'ResNet3dSlowFast' else 'last'
    extractor = SnippetExtractor(
        model, mode, snippet_size, clip_len, args.resize, args.crop,
        args.decoder, args.chunk_size, pre.get('mean', IMAGENET_MEAN),
        pre.get('std', IMAGENET_STD), device, multi)
    videos = read_video_list(args.video_list, args.video_root)
    writer = Writer(args.out, args.float16)
    done, skipped, failed = [], [], []
    print(f'Extracting {len(videos)} video(s) with {type(model).__name__} '
          f'({mode}), snippet_size={snippet_size}, clip_len={clip_len} '
          f'-> {args.out}', flush=True)
    try:
        for name, path in track_progress(videos, desc='extracting features'):
            if writer.has(name):
                skipped.append(name)
                continue
            try:
                feats = extractor(path)
                writer.write(name, feats)
                done.append((name, feats.shape))
            except Exception as e:  # one video's failure: report, go on
                failed.append((name, f'{type(e).__name__}: {e}'))
                print(f'FAILED {name} ({path}): {type(e).__name__}: {e}',
                      file=sys.stderr, flush=True)
                if os.environ.get('REFINELOC_DEBUG'):
                    traceback.print_exc()
    finally:
        writer.close()
    width = {s[1] for _, s in done}
    print(f'Summary: {len(done)} extracted'
          + (f' ({sorted(width)}-d features)' if width else '')
          + f', {len(skipped)} skipped (already in {args.out}), '
          f'{len(failed)} failed.', flush=True)
    for name, err in failed:
        print(f'  failed: {name}: {err}', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
