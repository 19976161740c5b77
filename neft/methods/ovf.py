"""Oriented Variational Forward (paper Sec. 3.2, Algorithm 1).

Besides the backbone forward at sigma_d, N oriented forwards of the same noise-free weights at
sigma_d + n * delta_sigma (n = 1..N) give the feedback Out_n with decay gamma_n = 10^(n-N): the
noisiest forward weighs most. Gradients flow through all N+1 forwards.

Like the public code, each oriented forward draws fresh noise. `same_pattern` follows the paper's
text instead ("the same Gaussian noise pattern"): one standard-normal draw, rescaled per forward.
`reverse_decay` uses gamma_n = 10^(1-n) (ablation); a negative delta_sigma gives the reversed-
oriented-sigma ablation (sigma clamped at 0); `positive_feedback` adds the feedback instead of
subtracting it (a control beyond the paper: if the feedback's sign is what helps, -beta beats +beta).
All forwards run in training mode, so BatchNorm's running statistics also see the noisier forwards, as
in the public code.
"""

from .. import catalogue
from . import METHODS, Method, perturbed
from .feedback import feedback_sign, nft_loss


@METHODS.register("ovf")
class OVF(Method):
    def __init__(self, cfg, model, law):
        super().__init__(cfg, model, law)
        n = cfg.n_feedback or catalogue.feedbacks("ovf", cfg.model)
        self.beta = self.resolve_beta(cfg)
        self.sign = feedback_sign(cfg)
        self.sigmas = [max(0.0, cfg.sigma_d + k * cfg.delta_sigma) for k in range(1, n + 1)]
        self.gammas = [10.0 ** (1 - k) if cfg.reverse_decay else 10.0 ** (k - n) for k in range(1, n + 1)]
        self.same_pattern = cfg.same_pattern
        self.hparams = dict(
            beta=self.beta,
            feedback_sign=self.sign,
            n_feedback=n,
            delta_sigma=cfg.delta_sigma,
            feedback_sigmas=self.sigmas,
            gammas=self.gammas,
            same_pattern=cfg.same_pattern,
        )

    def loss(self, model, x, y, generator):
        layers = self.layers
        z = self.law.standard_normal([layer.weight for layer in layers], generator) if self.same_pattern else None
        with perturbed(layers, self.noise(layers, self.sigma_d, generator, z)):
            out = model(x)
        feedbacks = []
        for sigma in self.sigmas:
            with perturbed(layers, self.noise(layers, sigma, generator, z)):
                feedbacks.append(model(x))
        return nft_loss(out, feedbacks, self.gammas, self.beta, y, self.sign), {}
