"""Monte-Carlo noisy inference (paper Sec. 4.1-4.4).

One run = one simulated chip: a single noise sample per layer, held fixed over the whole test set.
For each sigma, R runs give R accuracies (mean, std with ddof 1, 95% CI of the mean) and the EKL
(paper Sec. 4.4): the KL divergence between the one-hot label and the softmax output,
KL(onehot(y) || p) = -log p_y, averaged over every correct prediction of all R runs (pooled: a run
with more correct predictions weighs more). Each run's own average is kept too (`ekl_runs`).

The noise of run r at sigma s is drawn from a generator seeded by (seed, s, r) only, so every model
evaluated with the same seed sees the same standard-normal draws (common random numbers), and a
rerun reproduces every per-run accuracy. The weights are rewritten in place from a noise-free copy
for each run (no model rebuild, no host sync inside a run).
"""

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from .device import autocast
from .layers import noisy_layers
from .noise import NoiseLaw
from .seeding import generator
from .stats import ci95_halfwidth


@dataclass
class SigmaResult:
    sigma: float
    runs: int
    accuracy: list[float]  # % per run
    ekl_runs: list[float]  # mean -log p_y over the run's correct predictions (nan if none)
    mean: float
    std: float  # ddof = 1
    ci95: float  # half-width of the 95% CI of the mean (Student t, R-1 dof)
    ekl: float  # sum of -log p_y over all runs' correct predictions / their number (nan if none)

    def as_dict(self) -> dict:
        return asdict(self)


def summarize(sigma: float, correct: list[int], nll: list[float], n: int) -> SigmaResult:
    """Statistics of R runs from each run's number of correct predictions out of `n` images and its
    sum of -log p_y over them."""
    acc = torch.tensor(correct, dtype=torch.float64) * 100 / n
    std = float(acc.std()) if len(correct) > 1 else math.nan
    ekl_runs = [s / c if c else math.nan for c, s in zip(correct, nll, strict=True)]
    return SigmaResult(
        sigma,
        len(correct),
        acc.tolist(),
        ekl_runs,
        float(acc.mean()),
        std,
        ci95_halfwidth(std, len(correct)),
        sum(nll) / sum(correct) if sum(correct) else math.nan,
    )


@torch.no_grad()
def score(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int, precision: str) -> tuple[Tensor, Tensor]:
    """(number of correct predictions, sum of -log p_y over them) as device scalars."""
    correct = torch.zeros((), dtype=torch.long, device=images.device)
    nll = torch.zeros((), dtype=torch.float64, device=images.device)
    for start in range(0, len(labels), batch_size):
        x, y = images[start : start + batch_size], labels[start : start + batch_size]
        with autocast(images.device, precision):
            logits = model(x)
        log_p = torch.log_softmax(logits.float(), dim=1)
        hit = log_p.argmax(1) == y
        correct += hit.sum()
        nll -= (log_p.gather(1, y[:, None]).squeeze(1) * hit).sum(dtype=torch.float64)
    return correct, nll


@torch.no_grad()
def mc_evaluate(
    model: nn.Module,
    law: NoiseLaw,
    images: Tensor,
    labels: Tensor,
    sigmas: list[float],
    runs: int,
    seed: int,
    batch_size: int = 1000,
    precision: str = "fp32",
    tag: str = "mc",
) -> list[SigmaResult]:
    """R noisy-inference runs per sigma; `images`/`labels` already on the model's device."""
    was_training = model.training
    model.eval()
    weights = [layer.weight for layer in noisy_layers(model)]
    clean = [w.detach().clone() for w in weights]
    n = len(labels)
    results = []
    try:
        for sigma in sigmas:
            # sigma = 0 is deterministic: one run stands for all of them
            n_runs = 1 if sigma == 0 else runs
            tallies = []
            for run in range(n_runs):
                noise = law.sample(clean, sigma, generator(images.device, seed, tag, float(sigma), run))
                torch._foreach_copy_(weights, clean)
                torch._foreach_add_(weights, noise)
                tallies.append(torch.stack([t.double() for t in score(model, images, labels, batch_size, precision)]))
            correct, nll = torch.stack(tallies).cpu().unbind(1)  # one host sync per sigma
            copies = runs // n_runs
            results.append(summarize(float(sigma), correct.long().tolist() * copies, nll.tolist() * copies, n))
    finally:
        torch._foreach_copy_(weights, clean)
        model.train(was_training)
    return results
