"""W/O Noise: plain training, no weight noise (the paper trains it once at sigma_d = 0)."""

import torch.nn.functional as F

from . import METHODS, Method


@METHODS.register("vanilla")
class Vanilla(Method):
    def loss(self, model, x, y, generator):
        return F.cross_entropy(model(x), y), {}
