import os

import torch
from hypothesis import settings

# CI has 2 cores, shared by the pytest-xdist workers (README's test command): one thread each when two run, so
# that they do not fight over the cores (two 2-thread processes on 2 cores lose about 3x: BENCHMARKS.md, CPU)
torch.set_num_threads(max(1, 2 // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))

# CI draws the same examples on every run and replays no examples saved by an earlier run (a stale local
# database made a fixed test fail again and again): the property tests' settings inherit this profile
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# files of several minutes each, collected first so that, with --no-loadscope-reorder, the workers start on them
# and end together (xdist's default order, most tests first, left SLURM's 5 minutes to the end)
SLOW_FIRST = ("test_slurm.py", "test_workflow.py", "test_gpu_kit.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: SLOW_FIRST.index(item.path.name) if item.path.name in SLOW_FIRST else len(SLOW_FIRST))
