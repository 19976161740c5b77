"""Intermediate Representation Snapshot (paper Sec. 3.3, Algorithm 2).

Heads (average pool to s x s, FC -> 512, ReLU, FC -> classes) read the backbone's features at the
model's `irs_taps`, shallowest first; the first N are used (VGG-8: 3, ResNet-18: 4 by default;
N = 4, 5 add the deeper taps listed in each model). Head n's logits are feedback Out_n with
gamma_n = 10^(1-n). The heads are initialised like the backbone (`init`), carry weight noise of their
own sigma (`head_sigma`, default sigma_d; 0 gives the no-head-noise ablation) and train with the
backbone; they are dropped after training. `positive_feedback` adds the heads' logits instead of
subtracting them (a control beyond the paper).
"""

import torch
from torch import nn

from .. import catalogue
from ..errors import ConfigError
from ..init import initialise
from ..layers import NoisyLinear, noisy_layers
from ..models import channels
from . import METHODS, Method, perturbed
from .feedback import feedback_sign, nft_loss


def snapshot_head(in_channels: int, pool: int | None, num_classes: int, hidden: int) -> nn.Sequential:
    pooled = [nn.AdaptiveAvgPool2d(pool), nn.Flatten()] if pool else []
    return nn.Sequential(
        *pooled,
        NoisyLinear(in_channels * (pool or 1) ** 2, hidden),
        nn.ReLU(inplace=True),
        NoisyLinear(hidden, num_classes),
    )


@METHODS.register("irs")
class IRS(Method):
    def __init__(self, cfg, model, law):
        super().__init__(cfg, model, law)
        n = cfg.n_feedback or catalogue.feedbacks("irs", cfg.model)
        if n > len(model.irs_taps):
            raise ConfigError(f"n_feedback {n} > the {len(model.irs_taps)} IRS snapshot places of {cfg.model}")
        num_classes, width = model.args["num_classes"], model.args["width"]
        self.heads = initialise(
            nn.ModuleList(snapshot_head(c, pool, num_classes, channels(512, width)) for c, pool in model.irs_taps[:n]),
            cfg.init,
        )
        self.head_layers = noisy_layers(self.heads)
        self.head_sigma = cfg.sigma_d if cfg.head_sigma is None else cfg.head_sigma
        self.beta = self.resolve_beta(cfg)
        self.sign = feedback_sign(cfg)
        self.gammas = [10.0 ** (k - n) if cfg.reverse_decay else 10.0 ** (1 - k) for k in range(1, n + 1)]
        self.hparams = dict(
            beta=self.beta,
            feedback_sign=self.sign,
            n_feedback=n,
            head_sigma=self.head_sigma,
            gammas=self.gammas,
            taps=model.irs_taps[:n],
        )

    def loss(self, model, x, y, generator):
        layers, head_layers = self.layers, self.head_layers
        with (
            perturbed(layers, self.noise(layers, self.sigma_d, generator)),
            perturbed(head_layers, self.noise(head_layers, self.head_sigma, generator)),
        ):
            out, features = model(x, taps=True)
            head_outs = [head(f) for head, f in zip(self.heads, features)]
        head_correct = (torch.stack(head_outs).argmax(2) == y).sum(1)  # per head, without a host sync
        return nft_loss(out, head_outs, self.gammas, self.beta, y, self.sign), {"head_correct": head_correct}
