"""The noise law (paper Eq. 4-5) against its closed form and an explicit bit-slicing simulation."""

import math

import pytest
import torch

from neft.layers import NoisyLinear, perturbed
from neft.noise import DEVICE_KINDS, NoiseLaw

N = 1_000_000


def closed_form_std(law: NoiseLaw, sigma_d: float, max_abs: float) -> float:
    """Eq. 5 written out: sigma_d * (2^K - 1) * max|W| / (2^M - 1) * sqrt(sum_j 4^(jK))."""
    m, k = law.weight_bits, law.device_bits
    return sigma_d * (2**k - 1) * max_abs / (2**m - 1) * math.sqrt(sum(4 ** (j * k) for j in range(m // k)))


def sample(law, weight, sigma_d, seed=0):
    return law.sample([weight], sigma_d, torch.Generator().manual_seed(seed))[0]


def test_slice_factor_matches_reference():
    assert NoiseLaw().slice_factor == pytest.approx(math.sqrt(4369) / 85)


@pytest.mark.parametrize("bits", [(8, 2), (8, 4), (6, 2)])
@pytest.mark.parametrize("kind", DEVICE_KINDS.names())
def test_empirical_std_matches_eq5(bits, kind):
    law = NoiseLaw(*bits, device_kind=kind)
    s = law.kind.state_factor
    # 40% of the weights in the 0.25-0.75 band, 60% outside (both signs), max|W| = 2
    band = torch.full((int(0.4 * N),), 1.0)
    outside = torch.full((N - len(band),), 0.2)
    weight = torch.cat([band, -outside, torch.tensor([2.0])])
    noise = sample(law, weight, 0.3)
    expected = closed_form_std(law, 0.3, 2.0) * law.kind.sigma_scale
    assert noise[: len(band)].std().item() == pytest.approx(s * expected, rel=0.01)
    assert noise[len(band) : -1].std().item() == pytest.approx(expected, rel=0.01)
    # with 40% mid-band weights the average variance is sigma_d^2 exactly (the rescaling's purpose)
    assert noise.std().item() == pytest.approx(closed_form_std(law, 0.3, 2.0), rel=0.01)
    assert abs(noise.mean().item()) < 4 * noise.std().item() / math.sqrt(N)


def test_band_rule_changes_only_mid_band_weights():
    weight = torch.tensor([0.0, 0.1, 0.25, 0.2501, 0.5, 0.7499, 0.75, 0.9, -0.5, 1.0])
    z = [torch.ones_like(weight)]
    base = NoiseLaw(device_kind="RRAM1").perturbations([weight], 0.2, z)[0]
    for kind in ("FeFET2", "RRAM4", "FeFET6"):
        law = NoiseLaw(device_kind=kind)
        ratio = law.perturbations([weight], 0.2, z)[0] / base / law.kind.sigma_scale
        in_band = (weight.abs() > 0.25) & (weight.abs() < 0.75)
        assert torch.allclose(ratio[in_band], torch.tensor(float(law.kind.state_factor)))
        assert torch.allclose(ratio[~in_band], torch.tensor(1.0))


def test_zero_noise_at_sigma_zero():
    weight = torch.randn(1000)
    for kind in DEVICE_KINDS.names():
        assert torch.count_nonzero(sample(NoiseLaw(device_kind=kind), weight, 0.0)) == 0


def bit_sliced(weight: torch.Tensor, law: NoiseLaw, sigma_d: float, g: torch.Generator) -> torch.Tensor:
    """Program each K-bit device of each M-bit weight, perturb its conductance, recombine (Eq. 4-5)."""
    m, k = law.weight_bits, law.device_bits
    lsb = weight.abs().max() / (2**m - 1)
    level = torch.round(weight.abs() / lsb).long()
    total = torch.zeros_like(weight)
    for j in range(m // k):
        g_j = (level >> (j * k)) & (2**k - 1)  # desired conductance of device j
        dg = torch.randn(weight.shape, generator=g) * sigma_d * (2**k - 1)
        total += (g_j + dg) * 2 ** (j * k)
    return torch.sign(weight) * total * lsb


@pytest.mark.parametrize("bits", [(8, 2), (8, 4), (6, 2)])
def test_bit_slicing_simulation_agrees_with_closed_form(bits):
    law = NoiseLaw(*bits, quantize=True)
    weight = torch.rand(N) * 2 - 1
    weight[0] = 1.0
    g = torch.Generator().manual_seed(1)
    programmed = bit_sliced(weight, law, 0.25, g)
    quantized = bit_sliced(weight, law, 0.0, g)
    # noise-free recombination is the M-bit quantised weight (Eq. 4), exactly what quantize=True adds
    assert torch.allclose(
        quantized, weight + law.perturbations([weight], 0.0, [torch.zeros_like(weight)])[0], atol=1e-6
    )
    simulated = programmed - quantized
    closed = sample(law, weight, 0.25) - (quantized - weight)
    assert simulated.std().item() == pytest.approx(closed.std().item(), rel=0.01)
    assert simulated.std().item() == pytest.approx(closed_form_std(law, 0.25, 1.0), rel=0.01)


def test_quantize_rounds_to_the_m_bit_grid():
    law = NoiseLaw(weight_bits=4, device_bits=2, quantize=True)
    weight = torch.randn(100)
    noisy = weight + sample(law, weight, 0.0)
    levels = noisy / (weight.abs().max() / 15)
    assert torch.allclose(levels, levels.round(), atol=1e-5)


def test_same_generator_seed_same_noise_and_per_layer_max():
    law = NoiseLaw()
    weights = [torch.randn(64, 3, 3, 3), torch.randn(10, 32) * 5]
    a = law.sample(weights, 0.2, torch.Generator().manual_seed(7))
    b = law.sample(weights, 0.2, torch.Generator().manual_seed(7))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    ratio = a[1].std() / a[0].std()  # max|W| is per layer
    assert ratio.item() == pytest.approx((weights[1].abs().max() / weights[0].abs().max()).item(), rel=0.15)


def test_straight_through_gradient_reaches_noise_free_weight():
    layer = NoisyLinear(5, 3)
    x = torch.randn(4, 5)
    noise = NoiseLaw().sample([layer.weight], 0.3, torch.Generator().manual_seed(0))
    with perturbed([layer], noise):
        layer(x).pow(2).sum().backward()
    noisy = (layer.weight.detach() + noise[0]).requires_grad_()
    torch.nn.functional.linear(x, noisy, layer.bias.detach()).pow(2).sum().backward()
    assert torch.allclose(layer.weight.grad, noisy.grad)
    assert layer.weight_noise is None


def test_bad_laws_are_rejected():
    from neft.errors import ConfigError

    with pytest.raises(ConfigError, match="multiple"):
        NoiseLaw(weight_bits=8, device_bits=3)
    with pytest.raises(ConfigError, match="device kind"):
        NoiseLaw(device_kind="PCM9")
