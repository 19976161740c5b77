"""W/ Noise: Gaussian noise-injection training, a fresh weight-noise sample at sigma_d every step."""

import torch.nn.functional as F

from . import METHODS, Method, perturbed


@METHODS.register("noise")
class NoiseInjection(Method):
    def loss(self, model, x, y, generator):
        with perturbed(self.layers, self.noise(self.layers, self.sigma_d, generator)):
            return F.cross_entropy(model(x), y), {}
