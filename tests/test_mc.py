"""Monte-Carlo evaluation: exactness at sigma 0, reproducibility, common random numbers, the fast
in-place loop against a model rebuilt per run, statistics and EKL."""

import copy
import math

import pytest
import torch
from torch import nn

from neft.layers import noisy_layers, perturbed
from neft.mc import mc_evaluate, score, summarize
from neft.models import build_model
from neft.noise import NoiseLaw
from neft.seeding import generator


def setup(seed=0):
    torch.manual_seed(seed)
    model = build_model("resnet18", 3, 10, 32, width=0.125).eval()
    x, y = torch.randn(300, 3, 32, 32), torch.randint(10, (300,))
    with torch.no_grad():  # labels the model partly agrees with, so accuracies are far from 0 and 100
        y[:150] = model(x[:150]).argmax(1)
    return model, x, y


def test_sigma_zero_equals_clean_accuracy_exactly():
    model, x, y = setup()
    clean = (model(x).argmax(1) == y).double().mean().item() * 100
    result = mc_evaluate(model, NoiseLaw(), x, y, [0.0], runs=5, seed=0, batch_size=64)[0]
    assert result.accuracy == [clean] * 5 and result.std == 0


def test_a_model_in_training_mode_is_evaluated_in_eval_mode_and_left_as_it_was():
    model, x, y = setup()  # BatchNorm: batch statistics in training mode, running ones in eval mode
    clean = (model(x).argmax(1) == y).double().mean().item() * 100
    buffers = copy.deepcopy(dict(model.named_buffers()))
    model.train()
    with torch.no_grad():
        train_mode = (model(x).argmax(1) == y).double().mean().item() * 100
    model.load_state_dict({**model.state_dict(), **buffers})  # undo what those forwards did to the running stats
    assert train_mode != clean
    result = mc_evaluate(model, NoiseLaw(), x, y, [0.0, 0.2], runs=2, seed=0, batch_size=100)
    assert result[0].accuracy == [clean] * 2
    assert model.training and all(torch.equal(buffers[k], v) for k, v in model.named_buffers())


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_same_seed_identical_runs_whatever_the_batch_and_weights_restored(layout, precision):
    """The batch size is a speed setting only (the trainer validates in batches that suit the device)."""
    model, x, y = setup()
    model.to(memory_format=layout)
    before = copy.deepcopy(model.state_dict())
    a = mc_evaluate(model, NoiseLaw(), x, y, [0.1, 0.3], runs=4, seed=3, batch_size=128, precision=precision)
    b = mc_evaluate(model, NoiseLaw(), x, y, [0.1, 0.3], runs=4, seed=3, batch_size=300, precision=precision)
    c = mc_evaluate(model, NoiseLaw(), x, y, [0.1, 0.3], runs=4, seed=4, precision=precision)
    assert [r.accuracy for r in a] == [r.accuracy for r in b]
    assert [r.accuracy for r in a] != [r.accuracy for r in c]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_models_with_the_same_seed_see_the_same_draws(monkeypatch):
    draws = []
    original = NoiseLaw.standard_normal
    monkeypatch.setattr(
        NoiseLaw, "standard_normal", staticmethod(lambda w, g: draws.append(original(w, g)) or draws[-1])
    )
    model_a, x, y = setup(0)
    model_b, _, _ = setup(1)
    mc_evaluate(model_a, NoiseLaw(), x, y, [0.2], runs=3, seed=9)
    mc_evaluate(model_b, NoiseLaw(), x, y, [0.2], runs=3, seed=9)
    first, second = draws[:3], draws[3:]
    assert all(torch.equal(za, zb) for a, b in zip(first, second) for za, zb in zip(a, b))
    assert not torch.equal(model_a.fc.weight, model_b.fc.weight)


def rebuilt_per_run(state, x, y, sigma, runs, seed):
    """The plain path: a fresh model per run, loaded from the noise-free state, noise added in forward.
    Per run: (accuracy %, number of correct predictions, their -log p_y, one per correct prediction)."""
    out = []
    for run in range(runs):
        model = build_model("resnet18", 3, 10, 32, width=0.125)
        model.load_state_dict(state)
        model.eval()
        layers = noisy_layers(model)
        noise = NoiseLaw().sample(
            [layer.weight for layer in layers], sigma, generator("cpu", seed, "mc", float(sigma), run)
        )
        with torch.no_grad(), perturbed(layers, noise):
            log_p = torch.log_softmax(model(x), 1)
        hit = log_p.argmax(1) == y
        out.append((hit.sum().item() * 100 / len(y), hit.sum().item(), (-log_p[hit, y[hit]]).tolist()))
    return out


def test_in_place_loop_equals_model_rebuilt_per_run():
    model, x, y = setup()
    fast = mc_evaluate(model, NoiseLaw(), x, y, [0.15, 0.35], runs=4, seed=5, batch_size=300)
    for result in fast:
        assert result.accuracy == [acc for acc, _, _ in rebuilt_per_run(model.state_dict(), x, y, result.sigma, 4, 5)]


def test_ekl_pools_every_correct_prediction_of_all_runs():
    model, x, y = setup()
    result = mc_evaluate(model, NoiseLaw(), x, y, [0.35], runs=4, seed=5, batch_size=128)[0]
    runs = rebuilt_per_run(model.state_dict(), x, y, 0.35, 4, 5)
    pooled = [kl for _, _, kls in runs for kl in kls]
    per_run = [sum(kls) / n for _, n, kls in runs]
    assert len({n for _, n, _ in runs}) > 1  # runs differ in correct predictions: pooling is not the mean of means
    assert result.ekl == pytest.approx(sum(pooled) / len(pooled), rel=1e-5)
    assert result.ekl_runs == pytest.approx(per_run, rel=1e-5)
    assert abs(result.ekl - sum(per_run) / len(per_run)) > 1e-3 * result.ekl


def test_statistics():
    # 4 runs on 50 images: 40, 41, 42, 43 correct
    r = summarize(0.1, [40, 41, 42, 43], [4.0, 8.2, 0.0, 12.9], n=50)
    assert r.accuracy == [80.0, 82.0, 84.0, 86.0]
    assert r.mean == 83.0 and r.std == pytest.approx(2.5819889)
    assert r.ci95 == pytest.approx(3.182446 * 2.5819889 / 2, rel=1e-5)  # Student t, 3 dof
    assert r.ekl_runs == pytest.approx([0.1, 0.2, 0.0, 0.3])


def test_ekl_by_hand():
    # run 1: 1 correct prediction with -log p_y = 2.0; run 2: 3 correct with -log p_y summing to 1.5;
    # run 3: none. Pooled: 3.5 / 4 (the mean of the runs' means would be (2.0 + 0.5) / 2 = 1.25).
    r = summarize(0.2, [1, 3, 0], [2.0, 1.5, 0.0], n=5)
    assert r.ekl == pytest.approx(0.875)
    assert r.ekl_runs[:2] == pytest.approx([2.0, 0.5]) and math.isnan(r.ekl_runs[2])
    assert math.isnan(summarize(0.2, [0, 0], [0.0, 0.0], n=5).ekl)


class Fixed(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits[x.long().squeeze(1)]


def test_ekl_is_mean_negative_log_probability_of_correct_predictions():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    x, y = torch.arange(3.0)[:, None], torch.tensor([0, 0, 0])
    correct, nll = score(Fixed(logits), x, y, batch_size=2, precision="fp32")
    p = torch.softmax(logits, 1)
    assert correct.item() == 2
    assert nll.item() == pytest.approx(-(p[0, 0].log() + p[2, 0].log()).item())
