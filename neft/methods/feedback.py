"""The NFT objective (paper Eq. 1-3), shared by OVF and IRS."""

import torch.nn.functional as F
from torch import Tensor


def nft_logits(backbone: Tensor, feedbacks: list[Tensor], gammas: list[float], beta: float) -> Tensor:
    """O_total = a_b * O_backbone - a_f * beta * sum_n gamma_n * Out_n, with a_b = a_f = 1/(N+1)."""
    feedback = sum(g * out for g, out in zip(gammas, feedbacks, strict=True))
    return (backbone - beta * feedback) / (len(feedbacks) + 1)


def nft_loss(backbone: Tensor, feedbacks: list[Tensor], gammas: list[float], beta: float, y: Tensor) -> Tensor:
    """Eq. 3: cross-entropy between the label and softmax(O_total)."""
    return F.cross_entropy(nft_logits(backbone, feedbacks, gammas, beta), y)
