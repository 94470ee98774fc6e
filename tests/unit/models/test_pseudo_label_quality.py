# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The pseudo-label quality of checkpoints under post-processor variants
(:mod:`refineloc_mm.models.pseudo_label_quality`, behind
``tools/pseudo_label_quality.py``): the variant syntaxes, the generators
they build, and precision / recall of the labels of a tiny RefineLoc
checkpoint on the tiny set against values computed here: a variant that
labels every snippet (precision = the true foreground share, recall 1), one
that labels none, and one in between whose labels are rebuilt video by
video from the model's segments."""
import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
from helpers.runs import REPO, SYNTHETIC_CONFIG, tiny_options
from mmaction.registry import DATASETS, MODELS, TASK_UTILS
from refineloc_mm.datasets.collate import packed_snippet_collate
from refineloc_mm.models.pseudo_label_quality import (QUALITY_HEADER,
                                                      checkpoints_quality,
                                                      parse_variant,
                                                      quality_line,
                                                      variant_generators)

init_default_scope('mmaction')
BASNET = 'configs/basnet/refineloc-basnet_i3d_4x60e_synthetic.py'
ALL = 'min_cas_score=-1.0,min_attention_score=-1.0'  # every snippet
NONE = 'min_attention_score=2.0'  # no snippet
MIDDLE = 'min_cas_score=0.0,min_attention_score=0.5'


@pytest.mark.parametrize('text,expect', [
    ('config', {}),
    ('foreground:0.5', dict(activation='foreground', act_thresh=[0.5])),
    ('activation=cas,act_thresh=[0.3, 0.5]',
     dict(activation='cas', act_thresh=[0.3, 0.5])),
    ('min_attention_score=0.8,top_k=3,require_foreground=False',
     dict(min_attention_score=0.8, top_k=3, require_foreground=False)),
])
def test_parse_variant(text, expect):
    assert parse_variant(text) == expect


@pytest.mark.parametrize('text', ['foreground', 'cas:high', ':0.5',
                                  'top_k=2,padding'])
def test_bad_variant_is_refused(text):
    with pytest.raises(ValueError, match='variant'):
        parse_variant(text)


def test_basnet_variants_both_syntaxes():
    """BaS-Net's ``ACTIVATION:THRESHOLD`` (docs/basnet.md) and the same as
    keys build the same post-processor; dropout is 0, the other keys stay
    the config's."""
    cfg = Config.fromfile(str(REPO / BASNET))
    gens = variant_generators(
        cfg.default_hooks.pseudo_labels.generator.to_dict(),
        ['config', 'cas_x_foreground:0.3',
         'activation=cas_x_foreground,act_thresh=[0.3]'])
    assert list(gens) == ['config', 'cas_x_foreground:0.3',
                          'activation=cas_x_foreground,act_thresh=[0.3]']
    config, short, keys = gens.values()
    assert (config.post_processor.activation,
            list(config.post_processor.act_thresh)) == ('foreground', [0.5])
    for gen in (short, keys):
        assert (gen.post_processor.activation,
                list(gen.post_processor.act_thresh)) == (
                    'cas_x_foreground', [0.3])
        assert gen.dropout == 0 and gen.video_label_classes_only
        assert vars(gen.post_processor) == vars(keys.post_processor)


def test_generator_without_post_processor_uses_the_models():
    model_pp = dict(type='SnippetThresholdSegmenter', min_cas_score=0.1)
    gens = variant_generators(
        dict(type='PseudoGTGenerator', post_processor=None, dropout=0.3),
        ['config', 'min_cas_score=0.4'], model_pp)
    assert gens['config'].post_processor is None  # the model's own
    pp = gens['min_cas_score=0.4'].post_processor
    assert type(pp).__name__ == 'SnippetThresholdSegmenter'
    assert pp.min_cas_score == 0.4
    with pytest.raises(ValueError, match='post_processor'):
        variant_generators(dict(type='PseudoGTGenerator'), ['top_k=1'])


@pytest.fixture(scope='module')
def tiny_run(tiny_data, tmp_path_factory):
    """(config, checkpoint, model, dataset): RefineLoc's synthetic config
    on the tiny set and a checkpoint of a seeded fresh model."""
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    cfg.merge_from_dict({
        k: DictAction._parse_iterable(v)
        for k, v in (kv.split('=', 1) for kv in tiny_options(tiny_data))
    })
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = tmp_path_factory.mktemp('plq') / 'round_0.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return cfg, str(path), model.eval(), dataset


def expected_labels(model, dataset, post_processor):
    """The labels of a post-processor, built video by video: the
    snippets round(t_start fps / s) .. round(t_end fps / s) of every
    segment the model predicts, clipped to the video."""
    pp = TASK_UTILS.build(post_processor)
    out = []
    for i, n in enumerate(dataset.num_snippets):
        data = model.data_preprocessor(
            packed_snippet_collate([dataset.dataset[i]]), False)
        with torch.no_grad():
            scores = model.snippet_scores(data['inputs'],
                                          data['data_samples'])
        segments = model.post_process(scores, data['data_samples'], pp)[0]
        per_second = dataset.fps[i] / dataset.snippet_size[i]
        labels = np.zeros(int(n), dtype=bool)
        for t_start, t_end in np.asarray(segments).reshape(-1, 4)[:, :2]:
            first = int(np.round(t_start * per_second))
            last = min(int(np.round(t_end * per_second)), int(n) - 1)
            labels[first:last + 1] = True
        out.append(labels)
    return np.concatenate(out)


def test_precision_recall_of_the_variants(tiny_run):
    cfg, path, model, dataset = tiny_run
    results = list(
        checkpoints_quality(cfg, [path], ['config', ALL, NONE, MIDDLE]))
    assert [(p, v) for p, v, _ in results] == [(path, v) for v in (
        'config', ALL, NONE, MIDDLE)]
    stats = {v: s for _, v, s in results}
    true_fg = dataset.fg_masks.astype(bool)
    assert 0 < true_fg.mean() < 1
    # every snippet labelled foreground
    assert stats[ALL]['fg_precision'] == pytest.approx(true_fg.mean())
    assert stats[ALL]['fg_recall'] == 1.0
    assert stats[ALL]['fg_ratio'] == 1.0
    # none
    assert (stats[NONE]['fg_precision'], stats[NONE]['fg_recall'],
            stats[NONE]['fg_ratio']) == (0.0, 0.0, 0.0)
    # in between, the labels rebuilt here from the model's segments
    middle = dict(cfg.default_hooks.pseudo_labels.generator.post_processor,
                  min_cas_score=0.0, min_attention_score=0.5)
    labels = expected_labels(model, dataset, middle)
    hits = (labels & true_fg).sum()
    assert 0 < labels.mean() < 1 and hits > 0
    assert stats[MIDDLE]['fg_precision'] == pytest.approx(
        hits / labels.sum())
    assert stats[MIDDLE]['fg_recall'] == pytest.approx(hits / true_fg.sum())
    assert stats[MIDDLE]['fg_ratio'] == pytest.approx(labels.mean())
    # the output line
    line = quality_line(path, MIDDLE, stats[MIDDLE])
    assert line == (f'{path}\t{MIDDLE}\t{100 * hits / labels.sum():.1f}\t'
                    f'{100 * hits / true_fg.sum():.1f}\t'
                    f'{100 * labels.mean():.1f}')
    assert len(line.split('\t')) == len(QUALITY_HEADER.split('\t'))
