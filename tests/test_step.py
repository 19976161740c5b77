"""The training step (neft/step.py): eager is the plain step, compile agrees with it up to rounding, graph
is refused without CUDA (benchmarks/device_check.py checks graph against eager on a GPU)."""

import subprocess
import sys

import pytest
import torch
from helpers import tiny

from neft.errors import ConfigError
from neft.methods import METHODS
from neft.models import build_model
from neft.step import TrainStep


def run_steps(kind: str, method: str, batches, model_name="vgg8"):
    """(losses, parameters before, parameters after) of one step per batch of a narrow model, noise seed 0."""
    cfg = tiny(method=method, model=model_name, sigma_d=0.0 if method == "vanilla" else 0.2)
    torch.manual_seed(0)
    model = build_model(model_name, 3, 10, 32, width=0.125)
    m = METHODS.get(method)(cfg, model, cfg.noise_law())
    optimizer = torch.optim.Adam([*model.parameters(), *m.parameters()], lr=1e-3)
    step, g = TrainStep(kind, model, m, optimizer, torch.device("cpu"), "fp32"), torch.Generator().manual_seed(0)
    params = [*model.parameters(), *m.parameters()]
    before = [p.detach().clone() for p in params]
    losses = [step(x, y, g)[0].item() for x, y in batches]
    return losses, before, [p.detach().clone() for p in params]


def batches(sizes=(8, 8, 5)):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(n, 3, 32, 32, generator=g), torch.randint(10, (n,), generator=g)) for n in sizes]


@pytest.mark.parametrize("method", METHODS.names())
def test_eager_step_is_the_plain_step(method):
    """What the trainer did inline before there was a step option: forwards, zero_grad, backward, Adam."""
    cfg = tiny(method=method, sigma_d=0.0 if method == "vanilla" else 0.2)
    torch.manual_seed(0)
    model = build_model("vgg8", 3, 10, 32, width=0.125)
    m = METHODS.get(method)(cfg, model, cfg.noise_law())
    optimizer = torch.optim.Adam([*model.parameters(), *m.parameters()], lr=1e-3)
    g, losses = torch.Generator().manual_seed(0), []
    for x, y in batches():
        loss, _ = m.loss(model, x, y, g)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    step_losses, _, params = run_steps("eager", method, batches())
    assert step_losses == losses
    assert all(torch.equal(a, b) for a, b in zip(params, [*model.parameters(), *m.parameters()], strict=True))


def test_graph_step_needs_cuda():
    with pytest.raises(ConfigError, match="step graph .* needs a CUDA device"):
        tiny(step="graph")  # device cpu
    cfg = tiny(method="noise")
    model = build_model("vgg8", 3, 10, 32, width=0.125)
    m = METHODS.get("noise")(cfg, model, cfg.noise_law())
    with pytest.raises(ConfigError, match="needs a CUDA device"):  # device auto, resolved to the CPU
        TrainStep("graph", model, m, torch.optim.Adam(model.parameters()), torch.device("cpu"), "fp32")


def test_cli_refuses_a_graph_step_on_the_cpu_in_one_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "neft",
            "train",
            "--out",
            str(tmp_path / "run"),
            "--dataset",
            "synthetic",
            "--device",
            "cpu",
            "--step",
            "graph",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "step graph" in out.stderr, out.stderr
    assert not (tmp_path / "run").exists()


def test_irs_head_counts_are_per_head():
    cfg = tiny(method="irs", sigma_d=0.2)
    torch.manual_seed(0)
    model = build_model("vgg8", 3, 10, 32, width=0.125)
    m = METHODS.get("irs")(cfg, model, cfg.noise_law())
    x, y = torch.randn(64, 3, 32, 32), torch.randint(10, (64,))
    seen = []
    for head in m.heads:
        head.register_forward_hook(lambda module, inputs, out: seen.append(out.argmax(1)))
    _, extras = m.loss(model, x, y, torch.Generator().manual_seed(0))
    assert extras["head_correct"].tolist() == [int((h == y).sum()) for h in seen]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["noise", "irs"])
def test_compiled_step_agrees_with_eager(method):
    """torch.compile fuses the forward and backward: the same step up to float32 rounding (the partial
    last batch included, which compiles a second time)."""
    eager_losses, before, eager = run_steps("eager", method, batches())
    compiled_losses, _, compiled = run_steps("compile", method, batches())
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-4)
    # Adam turns a rounding-level difference of a near-zero gradient into a step of up to lr: compare the
    # parameters' difference with how far they moved
    moved = sum((b - a).abs().sum() for a, b in zip(before, eager))
    assert sum((c - b).abs().sum() for b, c in zip(eager, compiled)) < 0.05 * moved
