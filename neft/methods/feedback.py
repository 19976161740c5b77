"""The NFT objective (paper Eq. 1-3), shared by OVF and IRS."""

import torch.nn.functional as F
from torch import Tensor


def nft_logits(backbone: Tensor, feedbacks: list[Tensor], gammas: list[float], beta: float, sign: int = -1) -> Tensor:
    """O_total = a_b * O_backbone - a_f * beta * sum_n gamma_n * Out_n, with a_b = a_f = 1/(N+1).
    sign = +1 adds the feedback instead (the positive-feedback control, beyond the paper)."""
    feedback = sum(g * out for g, out in zip(gammas, feedbacks, strict=True))
    return (backbone + sign * beta * feedback) / (len(feedbacks) + 1)


def nft_loss(
    backbone: Tensor, feedbacks: list[Tensor], gammas: list[float], beta: float, y: Tensor, sign: int = -1
) -> Tensor:
    """Eq. 3: cross-entropy between the label and softmax(O_total)."""
    return F.cross_entropy(nft_logits(backbone, feedbacks, gammas, beta, sign), y)


def feedback_sign(cfg) -> int:
    """-1: negative feedback (the paper); +1 with positive_feedback (the control)."""
    return 1 if cfg.positive_feedback else -1
