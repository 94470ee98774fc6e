# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The benchmark harness behind ``tools/benchmark.py``, one role per module:

- :mod:`.timer`: :class:`EpochTimerHook`, :func:`timed`, :func:`median`;
- :mod:`.flops`: the analytic FLOP model and the arithmetic floor;
- :mod:`.memory`: :class:`TreeMemorySampler` (peak RSS / PSS of a tree);
- :mod:`.machine`: the machine's description;
- :mod:`.config`: the synthetic set, the config and the timed Runner's;
- :mod:`.stages`: the round-end stages and the ActivityNet-scale metric;
- :mod:`.harness`: the training epochs and round-end stages in process;
- :mod:`.schedule`: the whole schedule through ``tools/train.py``;
- :mod:`.report`: reference figures, table rows, Markdown and JSON;
- :mod:`.iteration`: one training iteration of a base model vs its
  original's arithmetic (``tools/benchmark_iteration.py``), in alternated
  subprocesses; the originals' arithmetic is each base model's own
  ``benchmark_original.py``, found next to the model's class.
"""
from .config import (NEVER, benchmark_runner_config, data_root_options,
                     ensure_data, in_process, load_config, parse_options)
from .flops import gemm_floor, train_flops
from .harness import bench_in_process
from .iteration import benchmark_iteration, iteration_shapes
from .machine import cpu_model, machine_info
from .memory import TreeMemorySampler
from .report import (GB, REFERENCE_FIGURES, ROUND_END_PARTS, build_rows,
                     load_reference_results, markdown, target_summary,
                     write_json)
from .schedule import run_schedule
from .stages import (anet_scale_samples, bench_anet_metric, evaluate,
                     forward_split, post_process)
from .timer import EpochTimerHook, median, timed

__all__ = [
    'NEVER', 'GB', 'REFERENCE_FIGURES', 'ROUND_END_PARTS', 'EpochTimerHook',
    'TreeMemorySampler', 'anet_scale_samples', 'bench_anet_metric',
    'bench_in_process', 'benchmark_iteration', 'benchmark_runner_config',
    'build_rows', 'cpu_model', 'data_root_options', 'ensure_data',
    'evaluate', 'forward_split', 'gemm_floor', 'in_process',
    'iteration_shapes', 'load_config', 'load_reference_results',
    'machine_info', 'markdown', 'median', 'parse_options', 'post_process',
    'run_schedule', 'target_summary', 'timed', 'train_flops', 'write_json'
]
