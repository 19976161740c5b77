import os

import torch
from hypothesis import settings

torch.set_num_threads(2)  # CI has 2 cores; keeps timings comparable on bigger machines

# CI draws the same examples on every run and replays no examples saved by an earlier run (a stale local
# database made a fixed test fail again and again): the property tests' settings inherit this profile
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
