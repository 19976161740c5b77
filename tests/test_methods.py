"""Methods: the NFT objective on hand-made logits, OVF/IRS losses against the formulas, gradients
through every forward, IRS heads kept out of the inference model, a short training beating chance."""

import pytest
import torch
import torch.nn.functional as F
from helpers import tiny

from neft.checkpoint import load_model
from neft.layers import noisy_layers, perturbed
from neft.methods import METHODS
from neft.methods.feedback import nft_logits
from neft.models import build_model
from neft.trainer import train


def test_nft_logits_on_hand_made_logits():
    out = torch.tensor([[2.0, -1.0, 0.5]])
    f1, f2, f3 = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 3.0, 0.0]]), torch.tensor([[0.0, 0.0, -2.0]])
    beta = 0.1
    # a_b = a_f = 1/(N+1) = 1/4; OVF gammas 10^(n-N) = 0.01, 0.1, 1
    expected = torch.tensor([[2.0 - 0.1 * 0.01, -1.0 - 0.1 * 0.3, 0.5 + 0.1 * 2.0]]) / 4
    assert torch.allclose(nft_logits(out, [f1, f2, f3], [0.01, 0.1, 1.0], beta), expected)


def setup(method, model_name="vgg8", **kw):
    cfg = tiny(method=method, model=model_name, sigma_d=0.2, **kw)
    torch.manual_seed(0)
    model = build_model(model_name, 3, 10, 32, width=0.125)
    return cfg, model, METHODS.get(method)(cfg, model, cfg.noise_law())


def test_ovf_loss_equals_formula():
    cfg, model, method = setup("ovf", beta=0.05)
    assert method.sigmas == pytest.approx([0.25, 0.30, 0.35]) and method.gammas == [0.01, 0.1, 1.0]
    x, y = torch.randn(6, 3, 32, 32), torch.randint(10, (6,))
    loss, _ = method.loss(model, x, y, torch.Generator().manual_seed(3))
    g, layers, law = torch.Generator().manual_seed(3), noisy_layers(model), cfg.noise_law()
    outs = []
    for sigma in (0.2, 0.25, 0.30, 0.35):  # fresh noise per forward, in this order
        with perturbed(layers, law.sample([layer.weight for layer in layers], sigma, g)):
            outs.append(model(x))
    total = (outs[0] - 0.05 * (0.01 * outs[1] + 0.1 * outs[2] + 1.0 * outs[3])) / 4
    assert torch.allclose(loss, F.cross_entropy(total, y))


def test_ovf_ablation_knobs():
    _, _, reversed_ = setup("ovf", reverse_decay=True, delta_sigma=-0.1, n_feedback=4)
    assert reversed_.gammas == [1.0, 0.1, 0.01, 0.001]
    assert reversed_.sigmas == pytest.approx([0.1, 0.0, 0.0, 0.0])  # clamped at 0


@pytest.mark.parametrize("same_pattern", [True, False])
def test_ovf_same_pattern_rescales_one_draw_else_draws_afresh(same_pattern):
    _, model, method = setup("ovf", same_pattern=same_pattern)  # forwards at sigma 0.2, 0.25, 0.3, 0.35
    seen = []  # the perturbation of fc1's weight in each forward
    model.fc1.register_forward_pre_hook(lambda layer, inputs: seen.append(layer.weight_noise.clone()))
    loss, _ = method.loss(model, torch.randn(2, 3, 32, 32), torch.tensor([0, 1]), torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and len(seen) == 4
    for sigma, noise in zip(method.sigmas, seen[1:]):
        rescaled = torch.allclose(noise * 0.2, seen[0] * sigma, rtol=1e-5, atol=1e-9)
        correlation = torch.corrcoef(torch.stack([seen[0].flatten(), noise.flatten()]))[0, 1].item()
        assert rescaled if same_pattern else (not rescaled and abs(correlation) < 0.05)


def test_ovf_gradients_flow_through_all_forwards():
    cfg, model, method = setup("ovf")
    calls = []

    def count_backward(module, inputs, out):
        out.register_hook(lambda grad: calls.append(1))

    model.stages[0][0].register_forward_hook(count_backward)
    loss, _ = method.loss(model, torch.randn(4, 3, 32, 32), torch.randint(10, (4,)), torch.Generator().manual_seed(0))
    loss.backward()
    assert len(calls) == 4  # backbone + N = 3 oriented forwards


def test_irs_loss_equals_formula_and_head_noise():
    cfg, model, method = setup("irs", beta=0.1)
    assert len(method.heads) == 3 and method.gammas == [1.0, 0.1, 0.01] and method.head_sigma == 0.2
    x, y = torch.randn(5, 3, 32, 32), torch.randint(10, (5,))
    loss, extras = method.loss(model, x, y, torch.Generator().manual_seed(4))
    g, law = torch.Generator().manual_seed(4), cfg.noise_law()
    layers, heads = noisy_layers(model), noisy_layers(method.heads)
    backbone_noise = law.sample([layer.weight for layer in layers], 0.2, g)
    head_noise = law.sample([layer.weight for layer in heads], 0.2, g)
    with perturbed(layers, backbone_noise), perturbed(heads, head_noise):
        out, features = model(x, taps=True)
        head_outs = [h(f) for h, f in zip(method.heads, features)]
    total = (out - 0.1 * (head_outs[0] + 0.1 * head_outs[1] + 0.01 * head_outs[2])) / 4
    assert torch.allclose(loss, F.cross_entropy(total, y))
    assert len(extras["head_correct"]) == 3
    loss.backward()
    assert all(p.grad is not None for p in [*model.parameters(), *method.parameters()])


def irs_loss_by_hand(model, method, law, x, y, seed, head_sigma):
    """IRS loss with backbone noise at sigma_d 0.2 and head noise at `head_sigma` (none at 0), drawn in
    the method's order from one generator."""
    g, layers, heads = torch.Generator().manual_seed(seed), noisy_layers(model), noisy_layers(method.heads)
    backbone_noise = law.sample([layer.weight for layer in layers], 0.2, g)
    head_noise = law.sample([layer.weight for layer in heads], head_sigma, g) if head_sigma else None
    with perturbed(layers, backbone_noise), perturbed(heads, head_noise):
        out, features = model(x, taps=True)
        head_outs = [h(f) for h, f in zip(method.heads, features)]
    return F.cross_entropy(nft_logits(out, head_outs, method.gammas, method.beta), y)


@pytest.mark.parametrize("head_sigma", [0.0, 0.5])
def test_irs_head_noise_follows_head_sigma(head_sigma):
    cfg, model, method = setup("irs", beta=0.1, head_sigma=head_sigma)  # sigma_d 0.2
    x, y = torch.randn(5, 3, 32, 32), torch.randint(10, (5,))
    loss, _ = method.loss(model, x, y, torch.Generator().manual_seed(4))
    law = cfg.noise_law()
    assert torch.allclose(loss, irs_loss_by_hand(model, method, law, x, y, 4, head_sigma))
    for other in {0.0, 0.2, 0.5} - {head_sigma}:  # noise-free heads, heads at sigma_d, heads at 0.5
        assert not torch.allclose(loss, irs_loss_by_hand(model, method, law, x, y, 4, other))


def test_irs_knobs():
    _, _, no_head_noise = setup("irs", head_sigma=0.0, n_feedback=5, reverse_decay=True)
    assert no_head_noise.noise(noisy_layers(no_head_noise.heads), 0.0, None) is None
    assert len(no_head_noise.heads) == 5 and no_head_noise.gammas == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    _, _, resnet = setup("irs", model_name="resnet18")
    assert len(resnet.heads) == 4 and resnet.beta == 1e-1  # reference default beta for ResNet-18 on MNIST-like data


@pytest.mark.parametrize("n_draws", [1, 4])
def test_noise_injection_averages_the_losses_of_n_draws_fresh_noise_samples(n_draws):
    """W/ Noise ×K: K forwards of the batch, each with its own noise sample in draw order, the mean of their
    cross-entropies; K = 1 is plain W/ Noise, bit for bit."""
    cfg, model, method = setup("noise", n_draws=n_draws)
    assert method.hparams == {"n_draws": n_draws}
    x, y = torch.randn(6, 3, 32, 32), torch.randint(10, (6,))
    loss, _ = method.loss(model, x, y, torch.Generator().manual_seed(5))
    g, layers, law = torch.Generator().manual_seed(5), noisy_layers(model), cfg.noise_law()
    losses = []
    for _ in range(n_draws):
        with perturbed(layers, law.sample([layer.weight for layer in layers], 0.2, g)):
            losses.append(F.cross_entropy(model(x), y))
    expected = sum(losses) / n_draws
    assert torch.equal(loss, expected) if n_draws == 1 else torch.allclose(loss, expected)
    if n_draws > 1:  # each draw its own sample: the first draw alone is another loss
        assert not torch.allclose(loss, losses[0])


def test_positive_feedback_flips_the_sign_of_the_feedback_term():
    out, f = torch.tensor([[2.0, -1.0]]), torch.tensor([[1.0, 3.0]])
    assert torch.allclose(nft_logits(out, [f], [1.0], 0.5, sign=1), (out + 0.5 * f) / 2)
    x, y = torch.randn(4, 3, 32, 32), torch.randint(10, (4,))
    for name in ("ovf", "irs"):
        losses = {}
        for positive in (False, True):
            _, model, method = setup(name, beta=0.1, positive_feedback=positive)
            assert method.hparams["feedback_sign"] == (1 if positive else -1)
            losses[positive] = method.loss(model, x, y, torch.Generator().manual_seed(2))[0]
        _, model, method = setup(name, beta=0.1)  # the same draws, the sign flipped by hand: +beta = -(-beta)
        method.beta = -0.1
        assert torch.allclose(losses[True], method.loss(model, x, y, torch.Generator().manual_seed(2))[0])
        assert not torch.allclose(losses[True], losses[False])


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(method="ovf", n_draws=4), "n_draws is an option of method noise"),
        (
            dict(method="noise", positive_feedback=True),
            r"positive_feedback is an option of the NFT methods \(ovf, irs\), not noise",
        ),
        (dict(method="noise", n_draws=0), "n_draws must be >= 1"),
    ],
)
def test_control_options_belong_to_their_method(options, message):
    from neft.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        tiny(**options)


def test_irs_heads_are_absent_from_the_inference_model_and_their_accuracy_is_recorded(tmp_path):
    result = train(tiny(method="irs", epochs=1), tmp_path)
    model, meta = load_model(tmp_path / "model.pt")
    head_acc = result["history"][-1]["head_acc"]
    assert len(head_acc) == 3
    assert meta["flags"] == {"irs_heads_anti_aligned": [i + 1 for i, acc in enumerate(head_acc) if acc < 5]}
    assert set(meta["state_dict"]) == set(build_model("vgg8", 3, 10, 32, width=0.125).state_dict())
    assert not any("head" in k for k in meta["state_dict"])


@pytest.mark.parametrize("model_name", ["vgg8", "resnet18"])
@pytest.mark.parametrize("method", METHODS.names())
def test_short_training_beats_chance_at_sigma_zero(tmp_path, model_name, method):
    result = train(tiny(model=model_name, method=method, sigma_d=0.0, epochs=2, select="last"), tmp_path)
    last = result["history"][-1]
    assert result["status"] == "completed" and all(
        torch.isfinite(torch.tensor(h["train_loss"])) for h in result["history"]
    )
    assert last["val_clean"] > 25  # chance is 10%
