# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Draw the timeline of some videos: one PNG per video.

Time in seconds on the x-axis; stacked tracks: the ground-truth segments
coloured by class, the pseudo labels that supervised each refinement round
(read from ``WORK_DIR/pseudo_labels/round_{r}.npz``; training split only),
the class activation of the top classes, the foreground attention with the
inference threshold, and the predicted segments with their scores.

Examples::

    python tools/visualize.py \\
        configs/refineloc/refineloc_i3d_4x10e_synthetic.py \\
        work_dirs/demo/round_2.pth --videos 4
    python tools/visualize.py \\
        configs/refineloc/refineloc_i3d_4x10e_synthetic.py \\
        work_dirs/demo/round_2.pth --split test --video-names video_test_0001

The run's work_dir (pseudo labels) defaults to the checkpoint's folder; the
PNGs go to ``WORK_DIR/timelines/<split>/<video>.png`` unless ``--out-dir``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Iterator, List, Optional, Sequence, Tuple

import refineloc_mm  # noqa: F401  (patches mmaction/mmengine, registers)
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmaction.registry import DATASETS, MODELS
from refineloc_mm.visualization import (Progress, TimelineData,
                                        load_pseudo_label_rounds,
                                        plot_timeline, score_videos,
                                        video_pseudo_labels)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw per-video timelines of a RefineLoc model')
    parser.add_argument('config', help='config file of the run')
    parser.add_argument('checkpoint', help='checkpoint (e.g. round_2.pth)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--videos',
        type=int,
        default=4,
        help='draw the first N videos of the split (default 4)')
    group.add_argument(
        '--video-names', nargs='+', help='draw these videos')
    parser.add_argument(
        '--split',
        choices=['train', 'test'],
        default='train',
        help='videos of the training split (with pseudo labels, default) '
        'or of the test split')
    parser.add_argument(
        '--work-dir',
        help="the run's work_dir (pseudo labels); defaults to the "
        "checkpoint's folder")
    parser.add_argument(
        '--out-dir',
        help='where the PNGs go (default WORK_DIR/timelines/<split>)')
    parser.add_argument(
        '--top-classes',
        type=int,
        default=3,
        help='classes in the class activation track (default 3)')
    parser.add_argument(
        '--max-rounds',
        type=int,
        default=12,
        help='pseudo-label rounds shown at most, thinned evenly '
        '(default 12)')
    parser.add_argument(
        '--width', type=float, default=16., help='inches (default 16)')
    parser.add_argument(
        '--dpi', type=float, default=100., help='default 100')
    parser.add_argument('--device', default='cpu', help='default cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    return parser.parse_args(argv)


def split_dataset_cfg(cfg: Config, split: str) -> ConfigDict:
    """The snippet dataset of a split (the pseudo-label wrapper removed)."""
    loader = cfg.train_dataloader if split == 'train' else (
        cfg.get('test_dataloader') or cfg.val_dataloader)
    dataset = loader.dataset
    while dataset.get('type') in ('PseudoLabelDataset',
                                  'refineloc_mm.PseudoLabelDataset'):
        dataset = dataset.dataset
    return dataset


def select_indices(names: List[str], num: int,
                   wanted: Optional[Sequence[str]]) -> List[int]:
    if wanted is None:
        return list(range(min(num, len(names))))
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in wanted if n not in index]
    if missing:
        sys.exit(f'video(s) {missing} are not in this split '
                 f'({len(names)} videos, e.g. {names[:3]}); see --split')
    return [index[n] for n in wanted]


def timelines(args: argparse.Namespace
              ) -> Tuple[int, Iterator[Tuple[TimelineData, object]]]:
    """The number of selected videos and an iterator of
    ``(data, figure)``, one per video."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    work_dir = args.work_dir or osp.dirname(osp.abspath(args.checkpoint))
    dataset = DATASETS.build(split_dataset_cfg(cfg, args.split))
    classes = dataset.metainfo['classes']
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu',
                    logger='silent')
    model.to(args.device).eval()
    names = [
        dataset.get_data_info(i)['video_name'] for i in range(len(dataset))
    ]
    indices = select_indices(names, args.videos, args.video_names)
    rounds = load_pseudo_label_rounds(work_dir) \
        if args.split == 'train' else {}
    if args.split == 'train' and not rounds:
        print(f'note: no pseudo labels in {work_dir}/pseudo_labels '
              '(round 0 only, or not the work_dir of this run)',
              file=sys.stderr)
    checkpoint = osp.splitext(osp.basename(args.checkpoint))[0]

    def draw() -> Iterator[Tuple[TimelineData, object]]:
        for i in indices:
            data, = score_videos(model, dataset, [i])
            if args.split == 'train':
                data.pseudo_labels = video_pseudo_labels(
                    rounds, data.video_name, data.label_grid[0])
            data.subtitle = f'{args.split} split  |  model: {checkpoint}'
            yield data, plot_timeline(
                data,
                classes,
                top_classes=args.top_classes,
                max_pseudo_rounds=args.max_rounds,
                width=args.width,
                dpi=args.dpi)

    return len(indices), draw()


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    args = parse_args(argv)
    work_dir = args.work_dir or osp.dirname(osp.abspath(args.checkpoint))
    out_dir = args.out_dir or osp.join(work_dir, 'timelines', args.split)
    os.makedirs(out_dir, exist_ok=True)
    num, figures = timelines(args)
    progress = Progress(num, desc='Drawing timelines', file=sys.stderr)
    written = []
    for data, fig in figures:
        path = osp.join(out_dir, f'{data.video_name}.png')
        fig.savefig(path, dpi=args.dpi)
        written.append(path)
        progress.update()
    progress.close()
    for path in written:
        print(path)
    return written


if __name__ == '__main__':
    main()
