import torch

torch.set_num_threads(2)  # CI has 2 cores; keeps timings comparable on bigger machines
