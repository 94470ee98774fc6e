# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Peak memory of a raw-video config on one (long) video.

    python tools/raw_video_memory.py VIDEO CONFIG --mode MODE \\
        [--write-seconds 300] [--cfg-options ...]

Runs one stage of the config on VIDEO in this process and prints the
peak resident set size (``getrusage``) and its growth over the process
after imports and model building. One mode per process (the peak only
grows):

- ``test``: the config's test pipeline (every snippet); a streamed
  sample (``DecodeSnippetChunks(lazy=True)``) is then decoded chunk by
  chunk as the model would, each chunk dropped once decoded;
- ``test-eager``: the test pipeline with ``lazy=False``: the whole video's
  uint8 crops decoded chunk by chunk in the pipeline;
- ``test-unchunked``: the same with ``DecodeSnippetChunks`` replaced by
  its transforms applied to all frames at once;
- ``train``: the training pipeline on a training sample (with pseudo
  labels, so ``max_snippets`` applies);
- ``forward``: the test pipeline, then the model's backbone on every
  snippet, decoding (when streamed) and normalizing chunk by chunk (no
  gradient);
- ``forward-eager``: the same from eagerly decoded inputs;
- ``forward-float``: eagerly decoded inputs, the whole video normalized
  to float32 before the backbone (what the data preprocessor did before).

``--write-seconds N`` first writes a synthetic 320x240, 30 fps VIDEO of
N seconds (OpenCV).
"""
import argparse
import resource
import time
from typing import Dict, List

import numpy as np
import torch

import refineloc_mm  # noqa: F401  (patches mmaction/mmengine, registers)
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS, TRANSFORMS

MODES = ('test', 'test-eager', 'test-unchunked', 'train', 'forward',
         'forward-eager', 'forward-float')


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('video')
    p.add_argument('config', help='a raw-video RefineLoc config')
    p.add_argument('--mode', choices=MODES, default='test')
    p.add_argument('--write-seconds', type=float,
                   help='first write a synthetic video of this length')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def write_video(path: str, seconds: float, fps: int = 30) -> None:
    """A 320x240 video of moving colour bars."""
    import cv2
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (320, 240))
    x = np.arange(320)[None, :, None]
    for i in range(int(seconds * fps)):
        frame = ((x + 3 * i + np.array([0, 85, 170])) % 256).astype(np.uint8)
        writer.write(np.broadcast_to(frame, (240, 320, 3)).copy())
    writer.release()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def unchunked(pipeline: List[Dict]) -> List[Dict]:
    """``pipeline`` with DecodeSnippetChunks(transforms) -> transforms."""
    out = []
    for t in pipeline:
        out += t['transforms'] if t['type'] == 'DecodeSnippetChunks' else [t]
    return out


def eager(pipeline: List[Dict]) -> List[Dict]:
    """``pipeline`` with DecodeSnippetChunks(lazy=False)."""
    return [
        dict(t, lazy=False) if t['type'] == 'DecodeSnippetChunks' else t
        for t in pipeline
    ]


def describe(x) -> str:
    """Shape, dtype and size of packed ``inputs``; a stream is decoded
    here, chunk by chunk (each dropped once decoded)."""
    if isinstance(x, torch.Tensor):
        return (f'inputs {tuple(x.shape)} {x.dtype} '
                f'({x.numel() * x.element_size() / 2**20:.0f} MiB)')
    nbytes, chunk = 0, None
    for chunk in x:
        nbytes += chunk.nbytes
    shape = (len(x), ) + chunk.shape[1:]
    return (f'inputs {shape} {chunk.dtype} ({nbytes / 2**20:.0f} MiB) '
            f'streamed in chunks of {x.chunk_size}')


def main() -> None:
    args = parse_args()
    if args.write_seconds:
        write_video(args.video, args.write_seconds)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmaction')
    train = args.mode == 'train'
    dataset = (cfg.train_dataloader.dataset.dataset
               if train else cfg.val_dataloader.dataset)
    pipeline = dataset.pipeline
    if args.mode == 'test-unchunked':
        pipeline = unchunked(pipeline)
    elif args.mode in ('test-eager', 'forward-eager', 'forward-float'):
        pipeline = eager(pipeline)
    model = None
    if args.mode.startswith('forward'):
        model = MODELS.build(cfg.model).eval()
    pipeline = Compose(pipeline)
    snippet_size = dataset.get('snippet_size', 16)
    init = TRANSFORMS.build(dict(type='DecordInit'))(
        dict(filename=args.video))
    t = init['total_frames'] // snippet_size
    fps = float(init.get('avg_fps') or 30.)
    results = dict(
        filename=args.video, start_index=0, modality='RGB', video_name='v',
        duration=init['total_frames'] / fps, fps=fps, num_classes=1,
        labels=[0], gt_segments=np.zeros((0, 3)), num_snippets=t,
        snippet_size=snippet_size)
    if train:  # a training sample, as PseudoLabelDataset serves it
        results['pseudo_label'] = np.zeros(t, np.int64)
        results['sample_view'] = 'train'
    base = peak_mib()
    start = time.time()
    sample = pipeline(results)
    x = sample['inputs']
    if model is None:
        line = f'{args.mode}: {t} snippets -> {describe(x)}'
    else:
        line = f'{args.mode}: {t} snippets -> ' + (
            describe(x) if isinstance(x, torch.Tensor) else
            f'inputs streamed in chunks of {x.chunk_size}')
        with torch.no_grad():
            batch = x if isinstance(x, torch.Tensor) else [x]
            x = model.data_preprocessor(dict(inputs=batch))['inputs']
            if args.mode == 'forward-float':
                feats = model.backbone(model.data_preprocessor.normalize(x))
            else:
                feats = model.extract_feat(x)
        line += f' -> features {tuple(feats.shape)}'
    print(f'{line}; {time.time() - start:.0f} s; peak RSS '
          f'{peak_mib():.0f} MiB, {peak_mib() - base:.0f} MiB above the '
          f'{base:.0f} MiB after imports (and model)', flush=True)


if __name__ == '__main__':
    main()
