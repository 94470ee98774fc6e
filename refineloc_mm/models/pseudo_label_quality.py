# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Precision / recall of the pseudo labels that checkpoints would give
under other label post-processings, without training
(``tools/pseudo_label_quality.py``).

The config's training split is scored once per checkpoint by the model
(:func:`score_split`, as :class:`PseudoLabelHook` does at a round's end);
the config's ``PseudoGTGenerator``, rebuilt with dropout 0 and one
post-processor variant each, turns the segments into labels, and the
labels are compared with the true foreground (:func:`label_statistics`:
precision and recall of the labelled foreground snippets).

A variant overrides keys of the generator's ``post_processor`` (for a
generator without one, the model's own: ``model.cls_head.post_processor``),
for any base model:

- ``KEY=VALUE[,KEY=VALUE...]``: e.g. ``min_attention_score=0.8`` (RefineLoc,
  ``SnippetThresholdSegmenter``), ``activation=cas,act_thresh=[0.3]``
  (BaS-Net); values are Python literals, else strings;
- ``ACTIVATION:THRESHOLD``: BaS-Net's shorthand for
  ``activation=ACTIVATION,act_thresh=[THRESHOLD]``;
- ``config``: the config's generator as it is.
"""
import ast
import copy
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader

from mmaction.registry import DATASETS, MODELS, TASK_UTILS
from ..datasets.collate import packed_snippet_collate
from ..utils.compat import safe_torch_load
from .scoring import score_split
from .task_modules.pseudo_gt_generator import (PseudoGTGenerator,
                                               label_statistics)

CONFIG_VARIANT = 'config'
QUALITY_HEADER = 'checkpoint\tvariant\tprecision %\trecall %\tforeground %'


def _split_top_level(text: str) -> List[str]:
    """``text`` split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        elif ch == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _literal(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def parse_variant(text: str) -> Dict[str, Any]:
    """The ``post_processor`` keys a variant overrides ({} for
    ``'config'``).

    Args:
        text (str): ``'config'``, ``'KEY=VALUE[,KEY=VALUE...]'`` or
            ``'ACTIVATION:THRESHOLD'`` (BaS-Net's ``activation`` and a
            one-element ``act_thresh``).

    Returns:
        dict: The overrides.
    """
    if text == CONFIG_VARIANT:
        return {}
    if '=' in text:
        out = {}
        for part in _split_top_level(text):
            key, sep, value = part.partition('=')
            if not sep or not key.strip():
                raise ValueError(f'variant {text!r}: {part!r} is not '
                                 'KEY=VALUE')
            out[key.strip()] = _literal(value.strip())
        return out
    activation, sep, thresh = text.partition(':')
    try:
        act_thresh = [float(thresh)]
    except ValueError:
        act_thresh = None
    if not sep or not activation or act_thresh is None:
        raise ValueError(
            f'variant {text!r}: expected KEY=VALUE[,KEY=VALUE...] or '
            'ACTIVATION:THRESHOLD (e.g. foreground:0.5)')
    return dict(activation=activation, act_thresh=act_thresh)


def variant_generators(generator: dict,
                       variants: Sequence[str] = (),
                       model_post_processor: Optional[dict] = None
                       ) -> Dict[str, PseudoGTGenerator]:
    """One generator per variant: the config's generator with dropout 0
    and the variant's ``post_processor`` keys.

    Args:
        generator (dict): The config's generator
            (``default_hooks.pseudo_labels.generator``).
        variants (Sequence[str]): See :func:`parse_variant`; empty: the
            config's generator alone (``'config'``).
        model_post_processor (dict, optional): The model's own
            post-processor config (``model.cls_head.post_processor``): the
            base of the overrides when the generator has none.

    Returns:
        dict: ``{variant: PseudoGTGenerator}``, in the given order.
    """
    base = copy.deepcopy(dict(generator))
    base.setdefault('type', 'PseudoGTGenerator')
    base['dropout'] = 0.0
    generators = {}
    for variant in variants or [CONFIG_VARIANT]:
        overrides = parse_variant(variant)
        gen = copy.deepcopy(base)
        if overrides:
            post = gen.get('post_processor') or model_post_processor
            if not post:
                raise ValueError(
                    f'--variant {variant} overrides post_processor keys, '
                    'but neither the generator nor model.cls_head has a '
                    'post_processor in the config')
            gen['post_processor'] = dict(copy.deepcopy(dict(post)),
                                         **overrides)
        generators[variant] = TASK_UTILS.build(gen)
    return generators


def labels_quality(model: torch.nn.Module, dataset,
                   generators: Dict[str, PseudoGTGenerator],
                   batch_size: int = 16) -> Dict[str, Dict[str, float]]:
    """The labels of each generator from ``model``'s scores of the
    training split, against the true foreground.

    Args:
        model (BaseSnippetLocalizer): The model, with its weights.
        dataset (PseudoLabelDataset): The training split (its wrapped
            dataset is scored; ``num_snippets``, ``fps``, ``snippet_size``
            and ``fg_masks`` place the labels).
        generators (dict): ``{variant: PseudoGTGenerator}``
            (:func:`variant_generators`); their histories are reset.
        batch_size (int): Videos per scoring batch. Defaults to 16.

    Returns:
        dict: ``{variant: label_statistics(labels, fg_masks)}``
        (``fg_precision``, ``fg_recall``, ``fg_ratio``, ...).
    """
    loader = DataLoader(dataset.dataset, batch_size=batch_size,
                        shuffle=False, collate_fn=packed_snippet_collate)
    segments: Dict[str, List[np.ndarray]] = {k: [] for k in generators}
    for scores, samples in score_split(model, loader):
        for k, gen in generators.items():
            segments[k].extend(gen.segments(model, scores, samples))
    out = {}
    for k, gen in generators.items():
        gen.history = []
        labels = gen.update(
            dataset.num_snippets,
            dataset.fps,
            dataset.snippet_size,
            0,
            segments=segments[k],
            fg_mask=dataset.fg_masks)
        out[k] = label_statistics(labels, dataset.fg_masks)
    return out


def checkpoints_quality(cfg, checkpoints: Sequence[str],
                        variants: Sequence[str] = ()
                        ) -> Iterator[Tuple[str, str, Dict[str, float]]]:
    """:func:`labels_quality` of every checkpoint on the config's
    training split, one checkpoint after the other.

    Args:
        cfg (Config): A refinement config (its ``custom_imports`` done:
            ``Config.fromfile`` does them; the default scope set).
        checkpoints (Sequence[str]): Checkpoints of the config's model.
        variants (Sequence[str]): See :func:`variant_generators`.

    Yields:
        tuple: ``(checkpoint, variant, label_statistics)``.
    """
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = MODELS.build(cfg.model)
    head = cfg.model.get('cls_head') or {}
    generators = variant_generators(
        cfg.default_hooks.pseudo_labels.generator.to_dict(), variants,
        head.get('post_processor'))
    for path in checkpoints:
        ckpt = safe_torch_load(str(path), map_location='cpu')
        model.load_state_dict(ckpt['state_dict'])
        for k, stats in labels_quality(model, dataset, generators).items():
            yield str(path), k, stats


def quality_line(checkpoint: str, variant: str,
                 stats: Dict[str, float]) -> str:
    """One tab-separated line of :data:`QUALITY_HEADER` (percentages with
    one decimal)."""
    return (f'{checkpoint}\t{variant}\t{100 * stats["fg_precision"]:.1f}\t'
            f'{100 * stats["fg_recall"]:.1f}\t'
            f'{100 * stats["fg_ratio"]:.1f}')


__all__ = [
    'QUALITY_HEADER', 'parse_variant', 'variant_generators',
    'labels_quality', 'checkpoints_quality', 'quality_line'
]
