# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The machine a benchmark ran on (CPU, cores, torch, device, load)."""
import os
import platform
from typing import Any, Dict


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str) -> Dict[str, Any]:
    """CPU, cores, torch version and threads, device, load average."""
    import torch
    info = dict(
        cpu=cpu_model(),
        cores=os.cpu_count(),
        usable_cores=len(os.sched_getaffinity(0)) if hasattr(
            os, 'sched_getaffinity') else os.cpu_count(),
        python=platform.python_version(),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        device=device,
        load_average=list(os.getloadavg()))
    if device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(0)
    return info
