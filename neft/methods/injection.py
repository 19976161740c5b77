"""W/ Noise: Gaussian noise-injection training, a fresh weight-noise sample at sigma_d every step."""
import torch.nn.functional as F

from . import METHODS, Method, noisy_layers, perturbed


@METHODS.register("noise")
class NoiseInjection(Method):
    def loss(self, model, x, y, generator):
        layers = noisy_layers(model)
        with perturbed(layers, self.noise(layers, self.sigma_d, generator)):
            return F.cross_entropy(model(x), y), {}
