# Copyright (c) refineloc-mm contributors. All rights reserved.
"""One training iteration of a base model, this project's vs the
original's arithmetic, at a config's shapes (``tools/benchmark_iteration.py``).

``project``: the config's model built through the registry
(``Config.fromfile`` imports what ``custom_imports`` names), a packed batch
as the pipeline gives it (``[B * T, D]`` + data samples with one label per
video, the first ``num_similar`` pairs sharing a class), then
``model.train_step`` with the config's optimizer wrapper: data
preprocessor, ``mode='loss'``, loss parsing, backward and step, as the
Runner does; the config's allocator setting (``reuse_freed_memory``) is
applied as the Runner applies it.

``original``: the original's arithmetic at the same shapes and widths,
with the original's optimizer settings, from the model's own folder: the
file ``benchmark_original.py`` (:data:`ORIGINAL_FILE`) next to the module
of the config model's registered class (W-TALC's, BaS-Net's and DELU's
folders have one, written from ``shared/BASE_MODELS.md`` /
``shared/DELU.md``; a model without one has no original here). Its
``benchmark_step(labels, num_snippets, in_channels, **widths)`` returns
``(step, model)``: one training iteration on random ``[B, T, D]`` inputs
and :func:`benchmark_labels`. No generic file names a model: a new model's
folder brings its own file.

Shapes come from the config: batch = ``train_dataloader.batch_size``; T =
the training pipeline's crop or resampling length (``RandomSnippetCrop``
``max_seqlen``, ``ResampleSnippets`` / ``RandomPerturbSnippets``
``num_segments``; every video gets T snippets, the longest case of a crop);
``in_channels``, ``num_classes`` and the widths from ``model.cls_head``.
A config that trains on whole videos (RefineLoc) needs the length given.

Each implementation runs in its own subprocesses (so that the peak
resident memory, ``ru_maxrss``, is its own; the "original" processes
import ``torch`` and load the model's ``benchmark_original.py`` by path,
which imports ``torch`` only: no ``refineloc_mm`` import there),
``repeats`` of each,
alternated (original, project, project, original, ...: a changing machine
load hits both alike); each process runs ``warmup`` iterations and then
``iters`` timed ones (wall ``perf_counter`` and CPU ``process_time``). The
pooled timed iterations give the medians; the peak RSS is the largest of
the processes, reported whole and above the process's RSS before the model
was built (imports excluded). Random inputs: the arithmetic does not depend
on the values.
"""
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

WORKER = os.path.abspath(__file__)
# a base model's original arithmetic: this file in the folder of the
# model's class, exposing this function
ORIGINAL_FILE = 'benchmark_original.py'
ORIGINAL_FUNCTION = 'benchmark_step'
# where ``--original NAME`` looks for the folder NAME first
BASE_MODELS_PACKAGE = 'refineloc_mm.base_models'
# training transforms that fix the number of snippets, and their key
LENGTH_TRANSFORMS = dict(
    RandomSnippetCrop='max_seqlen',
    ResampleSnippets='num_segments',
    RandomPerturbSnippets='num_segments')
# head keys that size the original's layers (missing keys: the original's)
WIDTH_KEYS = ('cas_channels', 'filter_channels', 'attention_channels',
              'cls_channels', 'fusion_channels', 'embedding_channels',
              'topk_ratio')


def benchmark_labels(batch: int, num_classes: int, num_pairs: int):
    """The labels of both sides, ``[B, C]``: one class per video; the pairs
    (0, 1), (2, 3), ... of the first ``num_pairs`` share class p, the other
    videos get class i mod C."""
    import torch
    labels = torch.zeros(batch, num_classes)
    for i in range(batch):
        c = i // 2 if i < 2 * num_pairs else i
        labels[i, c % num_classes] = 1
    return labels


def original_of_model(model_type: str) -> Optional[str]:
    """The original's file of a registered model: :data:`ORIGINAL_FILE` in
    the folder of the module that defines the class (None: the model has
    none, or is not registered). The model's package must be imported
    (its config's ``custom_imports`` do it)."""
    from mmaction.registry import MODELS
    cls = MODELS.get(model_type)
    module = sys.modules.get(getattr(cls, '__module__', ''))
    if module is None or not getattr(module, '__file__', None):
        return None
    path = os.path.join(os.path.dirname(module.__file__), ORIGINAL_FILE)
    return path if os.path.isfile(path) else None


def _package_folder(package: str) -> Optional[str]:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def resolve_original(original: str, model_type: str):
    """``(name, path)`` of the original to compare with: ``name`` is the
    folder's name (``'none'`` and None without an original).

    Args:
        original (str): ``'auto'`` (the original of ``model_type``, see
            :func:`original_of_model`, or none), ``'none'``, a base model's
            folder name under :data:`BASE_MODELS_PACKAGE` or a package name
            (its :data:`ORIGINAL_FILE`), or the path of such a file.
        model_type (str): The config's ``model.type``.
    """
    if original == 'none':
        return 'none', None
    if original == 'auto':
        path = original_of_model(model_type)
    elif original.endswith('.py'):
        path = original
    else:
        folder = _package_folder(f'{BASE_MODELS_PACKAGE}.{original}') or \
            _package_folder(original)
        path = folder and os.path.join(folder, ORIGINAL_FILE)
    if path is None and original == 'auto':
        return 'none', None
    if not path or not os.path.isfile(path):
        raise ValueError(
            f'original {original!r}: no {ORIGINAL_FILE} found (give auto, '
            f'none, a folder name under {BASE_MODELS_PACKAGE}, a package '
            f'or the path of a {ORIGINAL_FILE})')
    path = os.path.abspath(path)
    return os.path.basename(os.path.dirname(path)), path


def load_original(path: str):
    """The original's module, loaded from its file (not imported as part
    of its package: the worker must not import ``refineloc_mm``)."""
    spec = importlib.util.spec_from_file_location(
        'refineloc_benchmark_original', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, ORIGINAL_FUNCTION, None)):
        raise ValueError(f'{path} defines no {ORIGINAL_FUNCTION}(labels, '
                         'num_snippets, in_channels, **widths)')
    return module


def _train_pipeline(dataset_cfg) -> List[dict]:
    """The pipeline of a (possibly wrapped) training dataset config."""
    while dataset_cfg is not None:
        if dataset_cfg.get('pipeline') is not None:
            return list(dataset_cfg['pipeline'])
        dataset_cfg = dataset_cfg.get('dataset')
    return []


def iteration_shapes(cfg,
                     batch: Optional[int] = None,
                     num_snippets: Optional[int] = None,
                     whole_video_snippets: Optional[int] = None
                     ) -> Dict[str, Any]:
    """The training iteration's shapes of a config.

    Args:
        cfg (Config): The config.
        batch (int, optional): Overrides ``train_dataloader.batch_size``.
        num_snippets (int, optional): Overrides T.
        whole_video_snippets (int, optional): T for a config whose training
            pipeline neither crops nor resamples.

    Returns:
        dict: ``model`` (type), ``batch``, ``num_snippets``,
        ``num_snippets_from``, ``in_channels``, ``num_classes``,
        ``num_pairs`` and the head's widths.
    """
    head = cfg.model.cls_head
    shapes = dict(
        model=cfg.model.type,
        batch=int(batch or cfg.train_dataloader.batch_size),
        in_channels=int(head.in_channels),
        num_classes=int(head.get('num_classes', 20)))
    if num_snippets is not None:
        shapes.update(num_snippets=int(num_snippets),
                      num_snippets_from='override')
    else:
        for t in _train_pipeline(cfg.train_dataloader.get('dataset')):
            key = LENGTH_TRANSFORMS.get(t.get('type'))
            if key is not None:
                shapes.update(num_snippets=int(t[key]),
                              num_snippets_from=f'{t["type"]}.{key}')
                break
        else:
            if whole_video_snippets is None:
                raise ValueError(
                    f'{cfg.filename}: the training pipeline neither crops '
                    'nor resamples the videos (no '
                    f'{"/".join(LENGTH_TRANSFORMS)}): give the number of '
                    'snippets per video (--num-snippets or '
                    '--whole-video-snippets)')
            shapes.update(num_snippets=int(whole_video_snippets),
                          num_snippets_from='whole videos (given)')
    for key in WIDTH_KEYS:
        if head.get(key) is not None:
            shapes[key] = head[key]
    if head.get('loss', {}).get('alpha') is not None:  # BaS-Net's norm
        shapes['alpha'] = head.loss.alpha
    casl = head.get('casl_loss') or head.get('loss', {}).get(
        'co_activity_loss')
    shapes['num_pairs'] = int(casl.num_similar) if casl else 0
    return shapes


def _current_rss_mib() -> float:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def load_project_config(config: str, cfg_options: Sequence[str]):
    """The config with its overrides; imports what the model needs (the
    config's ``custom_imports``, mmengine, mmaction)."""
    import mmengine.optim  # noqa: F401
    from mmaction.registry import MODELS  # noqa: F401
    from mmaction.structures import ActionDataSample  # noqa: F401

    from refineloc_mm.utils.benchmark.config import load_config
    return load_config(config, list(cfg_options))


def project_step(cfg, shapes: Dict[str, Any]):
    """This project's iteration: the config's model through the registry,
    ``model.train_step`` with the config's optimizer wrapper."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from refineloc_mm.utils.malloc import reuse_freed_memory_if_configured
    reuse_freed_memory_if_configured(cfg)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    b, t = shapes['batch'], shapes['num_snippets']
    labels = benchmark_labels(b, shapes['num_classes'], shapes['num_pairs'])
    samples = []
    for i in range(b):
        sample = ActionDataSample()
        sample.set_metainfo(
            dict(video_name=f'v{i}', num_snippets=t, snippet_size=16.,
                 fps=25.))
        sample.gt_label = labels[i]
        samples.append(sample)
    data = dict(
        inputs=torch.randn(b * t, shapes['in_channels']),
        data_samples=samples)

    def step():
        return model.train_step(data, wrapper)

    return step, model


def original_step(path: str, shapes: Dict[str, Any]):
    """The original's iteration (``benchmark_step`` of the file ``path``)
    on :func:`benchmark_labels`."""
    module = load_original(path)
    labels = benchmark_labels(shapes['batch'], shapes['num_classes'],
                              shapes['num_pairs'])
    kwargs = {
        k: v
        for k, v in shapes.items()
        if k not in ('model', 'batch', 'num_classes')
    }
    return getattr(module, ORIGINAL_FUNCTION)(labels=labels, **kwargs)


def _warm_torch() -> None:
    """Run what loads torch's lazy parts (the optimizers' and autograd's
    imports, the convolution kernels) on tiny tensors, so that the RSS
    measured before the build counts them on both sides."""
    import torch
    conv = torch.nn.Conv1d(2, 2, 3, padding=1)
    optim = torch.optim.Adam(conv.parameters())
    conv(torch.randn(1, 2, 4)).sum().backward()
    optim.step()


def run_worker(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Build one implementation and time its iterations in this process."""
    import torch
    if spec.get('threads'):
        torch.set_num_threads(int(spec['threads']))
    torch.manual_seed(0)
    # imports first: the RSS above this point is the imports'
    if spec['impl'] == 'project':
        cfg = load_project_config(spec['config'], spec['cfg_options'])
    else:
        load_original(spec['original_path'])
    _warm_torch()
    rss_before = _current_rss_mib()
    if spec['impl'] == 'project':
        step, model = project_step(cfg, spec['shapes'])
    else:
        step, model = original_step(spec['original_path'],
                                    spec['shapes'])
    for _ in range(spec['warmup']):
        step()
    wall, cpu = [], []
    for _ in range(spec['iters']):
        w0, c0 = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(
        impl=spec['impl'],
        times_s=wall,
        cpu_s=cpu,
        peak_rss_mib=peak,
        rss_before_build_mib=rss_before,
        peak_above_imports_mib=peak - rss_before,
        threads=torch.get_num_threads(),
        num_parameters=sum(p.numel() for p in model.parameters()))


def _run_subprocess(spec: Dict[str, Any]) -> Dict[str, Any]:
    code = ('import runpy, sys; sys.argv = [sys.argv[0], sys.argv[1]]; '
            f'runpy.run_path({WORKER!r}, run_name="__main__")')
    proc = subprocess.run([sys.executable, '-c', code, json.dumps(spec)],
                          capture_output=True, text=True,
                          env=os.environ.copy())
    lines = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f'benchmark worker ({spec["impl"]}, {spec.get("config")}) '
            f'failed with exit code {proc.returncode}:\n'
            f'{proc.stderr[-3000:]}')
    return json.loads(lines[-1][len('RESULT '):])


def _pool(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    times = [t for r in runs for t in r['times_s']]
    cpu = [t for r in runs for t in r['cpu_s']]
    return dict(
        median_s=statistics.median(times),
        cpu_median_s=statistics.median(cpu),
        times_s=times,
        cpu_s=cpu,
        peak_rss_mib=max(r['peak_rss_mib'] for r in runs),
        peak_above_imports_mib=max(r['peak_above_imports_mib']
                                   for r in runs),
        threads=runs[0]['threads'],
        num_parameters=runs[0]['num_parameters'],
        processes=len(runs))


def benchmark_iteration(config: str,
                        original: str = 'auto',
                        cfg_options: Sequence[str] = (),
                        batch: Optional[int] = None,
                        num_snippets: Optional[int] = None,
                        whole_video_snippets: Optional[int] = None,
                        iters: int = 5,
                        warmup: int = 1,
                        repeats: int = 3,
                        threads: Optional[int] = None) -> Dict[str, Any]:
    """Time one config's training iteration against its original's.

    Args:
        config (str): Config file.
        original (str): ``'auto'`` (the original in the folder of the
            config's model, or none), ``'none'``, a base model's folder
            name, a package or a file: see :func:`resolve_original`.
        cfg_options (Sequence[str]): ``key=value`` overrides of the config
            (they size the original too: widths, in_channels, ...).
        batch, num_snippets, whole_video_snippets: See
            :func:`iteration_shapes`.
        iters (int): Timed iterations per process.
        warmup (int): Untimed iterations per process first.
        repeats (int): Processes per implementation, alternated.
        threads (int, optional): ``torch.set_num_threads`` in the timed
            processes (default: torch's, i.e. ``OMP_NUM_THREADS``).

    Returns:
        dict: ``config``, ``shapes``, ``original``, ``results`` (per
        implementation: medians, CPU medians, peak RSS, ...), ``ratio``
        (project / original median wall time, or None), and the machine's
        load average at the start and the end.
    """
    from .config import load_config
    from .machine import machine_info
    if iters < 1 or repeats < 1 or warmup < 0:
        raise ValueError('iters and repeats must be >= 1, warmup >= 0')
    cfg = load_config(config, list(cfg_options))
    shapes = iteration_shapes(cfg, batch, num_snippets,
                              whole_video_snippets)
    original, original_path = resolve_original(original, shapes['model'])
    impls = ['project'] if original == 'none' else ['original', 'project']
    machine = machine_info('cpu')
    spec = dict(config=config, cfg_options=list(cfg_options), shapes=shapes,
                original=original, original_path=original_path,
                iters=iters, warmup=warmup, threads=threads)
    runs: Dict[str, List[dict]] = {impl: [] for impl in impls}
    for r in range(repeats):
        # original, project, project, original, ...: a load that drifts
        # hits both alike
        for impl in (impls if r % 2 == 0 else impls[::-1]):
            runs[impl].append(_run_subprocess(dict(spec, impl=impl)))
    results = {impl: _pool(v) for impl, v in runs.items()}
    ratio = None
    if 'original' in results:
        ratio = results['project']['median_s'] / \
            results['original']['median_s']
    machine['load_average_end'] = list(os.getloadavg())
    return dict(config=config, cfg_options=list(cfg_options),
                original=original, shapes=shapes, iters=iters, warmup=warmup,
                repeats=repeats, results=results, ratio=ratio,
                machine=machine)


def shapes_text(shapes: Dict[str, Any]) -> str:
    """``B 16, T 750, D 2048, cas_channels 2048, ...``."""
    parts = [f'B {shapes["batch"]}', f'T {shapes["num_snippets"]}',
             f'D {shapes["in_channels"]}']
    parts += [f'{k} {shapes[k]}' for k in WIDTH_KEYS if k in shapes
              and k != 'topk_ratio']
    return ', '.join(parts)


TABLE_HEADER = (
    '| model (config) | shapes | original s/iteration (CPU s) | '
    'project s/iteration (CPU s) | project / original | peak RSS original'
    ' / project, MiB (above imports) |\n|---|---|---|---|---|---|')


def table_row(res: Dict[str, Any]) -> str:
    """One Markdown row of :data:`TABLE_HEADER`."""
    p = res['results']['project']
    o = res['results'].get('original')

    def cell(r):
        return f'{r["median_s"]:.3f} ({r["cpu_median_s"]:.3f})' if r \
            else 'n/a'

    def rss(r):
        return f'{r["peak_rss_mib"]:.0f} ({r["peak_above_imports_mib"]:.0f})' \
            if r else 'n/a'

    ratio = f'{res["ratio"]:.2f}' if res['ratio'] is not None else 'n/a'
    name = f'{res["shapes"]["model"]} (`{os.path.basename(res["config"])}`)'
    return (f'| {name} | {shapes_text(res["shapes"])} | {cell(o)} | '
            f'{cell(p)} | {ratio} | {rss(o)} / {rss(p)} |')


def report_lines(res: Dict[str, Any]) -> List[str]:
    """Human-readable lines of one config's result."""
    s, m = res['shapes'], res['machine']
    lines = [
        f'{res["config"]}: {s["model"]}, {shapes_text(s)} (T from '
        f'{s["num_snippets_from"]}), original: {res["original"]}; '
        f'{res["repeats"]} x {res["iters"]} timed iterations per '
        f'implementation (+{res["warmup"]} warm-up per process, alternated '
        f'subprocesses), {res["results"]["project"]["threads"]} threads; '
        f'load average {m["load_average"][0]:.2f} -> '
        f'{m["load_average_end"][0]:.2f}'
    ]
    for impl, r in res['results'].items():
        lines.append(
            f'  {impl:8s} median {r["median_s"]:.3f} s/iteration (CPU '
            f'{r["cpu_median_s"]:.3f} s), peak RSS {r["peak_rss_mib"]:.0f} '
            f'MiB ({r["peak_above_imports_mib"]:.0f} above imports), '
            f'{r["num_parameters"] / 1e6:.2f} M parameters')
    if res['ratio'] is not None:
        lines.append(f'  project / original: {res["ratio"]:.3f}')
    return lines


if __name__ == '__main__':
    # the worker: run by path (``runpy``), so that the original's process
    # never imports refineloc_mm
    result = run_worker(json.loads(sys.argv[1]))
    print('RESULT ' + json.dumps(result), flush=True)
