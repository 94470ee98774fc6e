# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc's refinement on top of the other base models, end to end
through the real tools: 3 rounds of ``tools/train.py``, the pseudo ground
truth loss training the supervised output, labels changing between rounds,
``tools/test.py --dump`` from the best round's checkpoint (really loaded),
``--resume`` in the middle of round 1, and the 2-process regeneration
equal to 1 process's."""
import json
import socket
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction

from helpers.runs import (FEAT_DIM, REPO, assert_resumed_after,
                          base_model_configs, file_identity,
                          fresh_checkpoint, load_labels, make_tiny_data, run,
                          run_tool, trained_epochs)

# every base model subpackage with a synthetic refinement config
CONFIGS = base_model_configs()
# optional tweaks of a model's recipe for the tiny set (a model without an
# entry gets the generic options of model_options only)
MODEL_OPTIONS = {
    # the tiny set's loose thresholds (as tests/helpers/runs.tiny_options)
    'refineloc': [
        'model.cls_head.post_processor.min_cas_score=0.02',
        'default_hooks.pseudo_labels.generator.post_processor.'
        'min_attention_score=0.5'
    ],
    # DELU's own proposals as the label source: after 4 iterations its
    # attention is nowhere above the threshold labeler's alpha_A
    'delu': ['model.cls_head.loss.uct_guide_loss.max_iter=4',
             'default_hooks.pseudo_labels.generator.post_processor=None'],
}
ROUNDS, EPOCHS = 3, 2


def model_options(name, data_root):
    """--cfg-options that point a base model's synthetic config at the
    tiny set (feature width from the config's stream)."""
    cfg = Config.fromfile(str(REPO / CONFIGS[name]))
    stream = cfg.train_dataloader.dataset.dataset.get('stream', 2)
    width = FEAT_DIM if stream == 2 else FEAT_DIM // 2
    # a few iterations per epoch: 2 batches of a batch sampler, or
    # batches of 4 videos
    if cfg.train_dataloader.get('batch_sampler', {}).get('num_batches'):
        few = 'train_dataloader.batch_sampler.num_batches=2'
    else:
        few = 'train_dataloader.batch_size=4'
    opts = [
        few,
        f'model.cls_head.in_channels={width}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
        'optim_wrapper.optimizer.lr=0.01',
    ] + MODEL_OPTIONS.get(name, [])
    for split in ('train_dataloader.dataset.dataset', 'val_dataloader.dataset',
                  'test_dataloader.dataset'):
        opts += [
            f'{split}.data_root={data_root}', f'{split}.in_channels={width}'
        ]
    return opts


def train(name, work_dir, data_root, *extra, options=(), **kwargs):
    return run_tool('tools/train.py', CONFIGS[name], '--work-dir', work_dir,
                    '--rounds', ROUNDS, '--epochs-per-round', EPOCHS, *extra,
                    '--cfg-options', *model_options(name, data_root),
                    *options, **kwargs)


def load_config(name, data_root):
    cfg = Config.fromfile(str(REPO / CONFIGS[name]))
    opts = {}
    for kv in model_options(name, data_root):
        key, value = kv.split('=', 1)
        opts[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(opts)
    return cfg


def best_checkpoint(work_dir):
    """The best round's checkpoint, as ``make demo`` finds it."""
    return run_tool('tools/analyze_refinement.py', work_dir,
                    '--best-checkpoint').stdout.strip()


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.mktemp('synthetic'))


@pytest.fixture(scope='module', params=sorted(CONFIGS))
def refined(request, tiny_data, tmp_path_factory):
    """(name, work_dir, log) of 3 rounds of 2 epochs."""
    name = request.param
    work_dir = tmp_path_factory.mktemp(f'{name}_run')
    proc = train(name, work_dir, tiny_data)
    return name, work_dir, proc.stdout + proc.stderr


def test_pseudo_gt_loss_trains_the_supervised_output(refined, tiny_data):
    """A batch of training samples with pseudo labels: the pseudo ground
    truth loss alone gives gradient to the head's ``pseudo_label_branch``
    and is zero (no gradient) without labels."""
    from mmengine.registry import init_default_scope

    import refineloc_mm  # noqa: F401
    from mmaction.registry import DATASETS, MODELS
    from refineloc_mm.datasets.collate import packed_snippet_collate
    name = refined[0]
    cfg = load_config(name, tiny_data)
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    branch = getattr(model.cls_head, model.cls_head.pseudo_label_branch)

    def pgt_loss(labels):
        dataset.set_labels(labels, float((labels == 0).sum()) /
                           max(int((labels >= 0).sum()), 1))
        data = model.data_preprocessor(
            packed_snippet_collate([dataset[i] for i in range(4)]), True)
        losses = model(**data, mode='loss')
        keys = [k for k in losses if 'pseudo' in k]
        assert len(keys) == 1, sorted(losses)
        model.zero_grad()
        losses[keys[0]].backward()
        grads = [p.grad for p in branch.parameters()]
        return float(losses[keys[0]]), grads

    rng = np.random.default_rng(0)
    total = int(dataset.num_snippets.sum())
    value, grads = pgt_loss(rng.integers(-1, 2, total).astype(np.int8))
    assert value > 0
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)
    value, grads = pgt_loss(np.full(total, -1, np.int8))
    assert value == 0
    assert all(g is None or g.abs().sum() == 0 for g in grads)


def test_labels_change_between_rounds(refined):
    name, work_dir, log = refined
    assert trained_epochs(log) == list(range(1, ROUNDS * EPOCHS + 1))
    first, names = load_labels(work_dir, 1)
    second, names2 = load_labels(work_dir, 2)
    assert names == names2
    for labels in (first, second):
        assert (labels == 1).any() and (labels == 0).any()
    assert not np.array_equal(first, second)
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    assert [e['round'] for e in summary['rounds']] == [0, 1, 2]
    used = [e['pseudo_labels_used']['coverage'] for e in summary['rounds']]
    assert used[0] == 0 and used[1] > 0 and used[2] > 0


def test_dump_from_best_round(refined, tiny_data, tmp_path):
    """The best round's checkpoint is tested: a valid results JSON equal to
    that round's validation predictions, unlike a fresh model's."""
    name, work_dir, _ = refined
    best = best_checkpoint(work_dir)
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    assert best.endswith(f'round_{summary["best_round"]}.pth')

    def dump(checkpoint, tag):
        out = tmp_path / f'{tag}.json'
        run_tool('tools/test.py', CONFIGS[name], checkpoint, '--work-dir',
                 tmp_path / tag, '--dump', out, '--cfg-options',
                 *model_options(name, tiny_data))
        return json.loads(out.read_text())

    doc = dump(best, 'best')
    assert set(doc) == {'version', 'results', 'external_data'}
    assert len(doc['results']) == 8
    preds = [p for v in doc['results'].values() for p in v]
    assert preds
    for p in preds:
        assert set(p) == {'label', 'score', 'segment'}
        assert p['segment'][0] < p['segment'][1]
    fresh = dump(
        fresh_checkpoint(work_dir / f'round_{summary["best_round"]}.pth',
                         work_dir / CONFIGS[name].split('/')[-1],
                         tmp_path / 'fresh.pth'), 'fresh')
    assert fresh['results'] != doc['results']


def test_timelines_of_the_best_round(refined, tiny_data, tmp_path):
    """``tools/visualize.py`` (the last step of ``make demo``) draws the
    training videos of the best round with the run's pseudo labels, also
    for a model that reads resampled snippets (BaS-Net: the labels live
    on the raw snippets)."""
    name, work_dir, _ = refined
    best = best_checkpoint(work_dir)
    out = tmp_path / 'timelines'
    proc = run_tool('tools/visualize.py', CONFIGS[name], best, '--work-dir',
                    work_dir, '--out-dir', out, '--videos', 2,
                    '--cfg-options', *model_options(name, tiny_data))
    pngs = sorted(out.glob('*.png'))
    assert len(pngs) == 2
    assert [str(p) for p in pngs] == sorted(proc.stdout.split())


def test_resume_in_round_1(refined, tiny_data, tmp_path):
    """Stopped after the first epoch of round 1 and resumed: the resumed
    process trains only epochs 4-6, keeps round 1's labels and round
    counter from the checkpoint, and ends with the uninterrupted run's
    labels."""
    name, work_dir, _ = refined
    stopped = tmp_path / 'stopped'
    first = train(name, stopped, tiny_data,
                  options=['train_cfg.max_epochs=3'])
    assert trained_epochs(first.stdout + first.stderr) == [1, 2, 3]
    labels_file = stopped / 'pseudo_labels' / 'round_1.npz'
    before = file_identity(labels_file)
    resumed = train(name, stopped, tiny_data, '--resume')
    assert_resumed_after(resumed.stdout + resumed.stderr, epoch=3,
                         max_epochs=ROUNDS * EPOCHS)
    assert file_identity(labels_file) == before
    np.testing.assert_array_equal(
        load_labels(work_dir, 1)[0],
        load_labels(stopped, 1)[0])


@pytest.mark.parametrize('refined', ['wtalc', 'delu'], indirect=True)
def test_two_process_regeneration_equals_one(refined, tmp_path):
    """The labels of round 1 regenerated from round 0's weights by 2 gloo
    processes equal those of 1 process and of the training run (W-TALC,
    and DELU, whose post-processing has a soft-NMS; RefineLoc has its own
    test)."""
    name, work_dir, _ = refined
    script = tmp_path / 'regenerate.py'
    script.write_text(REGENERATE)
    outs = {}
    for nproc in (1, 2):
        out = tmp_path / f'p{nproc}'
        env = dict(OMP_NUM_THREADS='1', MASTER_ADDR='127.0.0.1')
        run(sys.executable, '-m', 'torch.distributed.run',
            f'--nproc_per_node={nproc}', f'--master_port={free_port()}',
            script, work_dir / CONFIGS[name].split('/')[-1],
            work_dir / 'round_0.pth', out, env=env, timeout=600)
        outs[nproc] = load_labels(out, 1)
    np.testing.assert_array_equal(outs[1][0], outs[2][0])
    assert outs[1][1] == outs[2][1]
    np.testing.assert_array_equal(outs[1][0], load_labels(work_dir, 1)[0])


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


REGENERATE = '''
import sys
from mmengine.config import Config
from mmengine.runner import Runner
import refineloc_mm  # noqa: F401
from refineloc_mm.engine.hooks import PseudoLabelHook
from refineloc_mm.utils.launcher import close_process_group, set_launcher

config, checkpoint, out = sys.argv[1:]
cfg = set_launcher(Config.fromfile(config), 'pytorch')
cfg.work_dir = out
runner = Runner.from_cfg(cfg)
runner.load_checkpoint(checkpoint)
hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
hook.regenerate(runner, 0)
del runner, hook
close_process_group(completed=True)
'''
