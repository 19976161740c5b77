"""W/ Noise: Gaussian noise-injection training, a fresh weight-noise sample at sigma_d every step.

With n_draws = K > 1 (beyond the paper), each step runs K forwards of the batch, each with its own noise
sample, and trains on the mean of their cross-entropies (one backward): as many noise samples per step as
OVF's N + 1 forwards, so that OVF's gain over W/ Noise can be told apart from its extra samples.
"""

import torch.nn.functional as F

from . import METHODS, Method, perturbed


@METHODS.register("noise")
class NoiseInjection(Method):
    def __init__(self, cfg, model, law):
        super().__init__(cfg, model, law)
        self.n_draws = cfg.n_draws
        self.hparams = dict(n_draws=cfg.n_draws)

    def loss(self, model, x, y, generator):
        total = 0
        for _ in range(self.n_draws):
            with perturbed(self.layers, self.noise(self.layers, self.sigma_d, generator)):
                total = total + F.cross_entropy(model(x), y)
        return total / self.n_draws, {}
