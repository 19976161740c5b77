"""The fast paths against the plain ones on a device: what tests/ checks on the CPU, checked where the
fast paths really run (CUDA: GPU-resident loader, TF32, channels_last, bf16 autocast, torch.compile, the
training step captured in a CUDA graph).
Not a test, since CI has no GPU; tools/gpu/run.sh runs it before the grid and stops if a check fails.

    python benchmarks/device_check.py                 # cuda if there is one
    python benchmarks/device_check.py --device cpu    # the same checks on the CPU (tests/ runs this)

    python benchmarks/device_check.py --no-compile --grid config/gpu-first.yaml first.yaml
                                                      # tools/gpu/run.sh --first: the grid's paths only

Prints one line per check (measured value, criterion, ok) and exits 1 if any check fails. With --grid, a
failed fast path that has a plain one (PLAIN) does not fail the check: the grid written there runs the plain
one instead; only another check's failure exits 1.
"""

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import marker_image, offsets_and_flip, tiny  # noqa: E402

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, before CUDA starts

from neft.checkpoint import load_model  # noqa: E402
from neft.data import crop_flip, evaluation_data  # noqa: E402
from neft.device import resolve_device, set_precision  # noqa: E402
from neft.errors import one_line  # noqa: E402
from neft.layers import noisy_layers, perturbed  # noqa: E402
from neft.mc import mc_evaluate  # noqa: E402
from neft.methods import METHODS  # noqa: E402
from neft.models import build_model  # noqa: E402
from neft.noise import NoiseLaw  # noqa: E402
from neft.seeding import generator  # noqa: E402
from neft.step import WARMUP, TrainStep, make_capturable  # noqa: E402
from neft.trainer import train  # noqa: E402
from neft.variants import VARIANTS, compute_matched, parse_variant  # noqa: E402

RUNS = 10  # MC runs per comparison
STEP_BATCHES = [32] * (WARMUP + 3) + [20, 32, 32]  # warm-up, capture, replays, a partial batch, replays
# a fast path's checks are tagged with its name; where they fail or cannot run (off CUDA), a grid written by
# --grid runs these settings instead
PLAIN = {"graph": {"train": {"step": "eager"}}, "bf16": {"eval": {"precision": "fp32"}}}


def step_run(kind: str, variant: str, device, precision: str, capturable: bool):
    """Losses and final weights of one step per batch of STEP_BATCHES (narrow VGG-8, sigma_d 0.2) of a run variant
    (neft/variants.py), the learning rate changed half way (a graph captures the step again), and the noise
    generator's final state."""
    set_precision(precision)
    method, tag, value = parse_variant(variant)
    options = VARIANTS[tag].options(value, {}) if tag else {}
    cfg = tiny(method=method, sigma_d=0.0 if method == "vanilla" else 0.2, device=str(device), **options)
    torch.manual_seed(0)
    model = build_model("vgg8", 3, 10, 32, width=0.125).to(device)
    m = METHODS.get(method)(cfg, model, cfg.noise_law()).to(device)
    optimizer = torch.optim.Adam([*model.parameters(), *m.parameters()], lr=1e-3)
    if capturable:
        make_capturable(optimizer)
    step, g = TrainStep(kind, model, m, optimizer, device, precision), torch.Generator(device=device).manual_seed(0)
    data = torch.Generator(device=device).manual_seed(1)
    losses = []
    for i, n in enumerate(STEP_BATCHES):
        if i == len(STEP_BATCHES) // 2:
            optimizer.param_groups[0]["lr"] = 5e-4
        x, y = (
            torch.randn(n, 3, 32, 32, device=device, generator=data),
            torch.randint(10, (n,), device=device, generator=data),
        )
        losses.append(step(x, y, g)[0].detach().clone())
    weights = torch.cat([p.detach().flatten().float() for p in [*model.parameters(), *m.parameters()]])
    return torch.stack(losses).float(), weights, g.get_state()


def graph_step_is_eager(device, precision: str) -> tuple[str, bool]:
    """The captured step computes what the same step does eagerly (Adam capturable in both), for every method and
    W/ Noise x4 (the main grid's compute-matched baseline): losses and weights differ by at most 10x what two eager
    runs differ by (the GPU's own non-determinism, 0 where it has none; drawing other noise would differ by ~1e-2),
    and the noise generator ends in the same state."""
    set_precision(precision)
    gaps, ok = [], True
    for variant in [*METHODS.names(), compute_matched()]:
        ref_loss, ref_w, ref_rng = step_run("eager", variant, device, precision, capturable=True)
        gap = {}
        for kind in ("graph", "eager"):
            loss, w, rng = step_run(kind, variant, device, precision, capturable=True)
            gap[kind] = max((loss - ref_loss).abs().max().item(), (w - ref_w).abs().max().item())
            ok &= torch.equal(rng, ref_rng)
        ok &= gap["graph"] <= 10 * gap["eager"]
        gaps.append(f"{variant} {gap['graph']:.2g} (eager {gap['eager']:.2g})")
    return f"{precision}, max |graph - eager| per variant: {', '.join(gaps)}", ok


def compiled_step_agrees(device) -> tuple[str, bool]:
    """torch.compile's step, fp32: the first loss within 1e-5 (relative) of eager's, later ones (which
    training's chaos drifts apart) within 1e-2, weights apart by less than 5 % of how far they moved (Adam turns
    a rounding-level difference of a near-zero gradient into a step of up to lr)."""
    ref_loss, ref_w, _ = step_run("eager", "noise", device, "fp32", capturable=False)
    loss, w, _ = step_run("compile", "noise", device, "fp32", capturable=False)
    torch.manual_seed(0)
    start = torch.cat([p.detach().flatten().float() for p in build_model("vgg8", 3, 10, 32, width=0.125).parameters()])
    moved = (ref_w[: len(start)] - start.to(device)).abs().sum()
    gaps = ((loss - ref_loss).abs() / ref_loss.abs()).tolist()
    weight_gap = ((w - ref_w).abs().sum() / moved).item()
    return (
        f"loss {gaps[0]:.2g} apart at the first step, {max(gaps):.2g} at most, weights {weight_gap:.2g} of their "
        f"movement",
        gaps[0] < 1e-5 and max(gaps) < 1e-2 and weight_gap < 0.05,
    )


def crops_are_uniform(device) -> tuple[str, bool]:
    """Resident crops/flips drawn on the device: uniform over the 9 x 9 offsets x 2 flips."""
    n = 12000
    image = marker_image().expand(3, 32, 32).float().div(255).to(device)
    cells = offsets_and_flip(crop_flip(image.expand(n, 3, 32, 32), generator(device, 0)).cpu())
    counts = [cells.count(c) for c in sorted(set(cells))]
    p = stats.chisquare(counts).pvalue
    return f"{len(counts)} cells, chi-square p = {p:.3g}", len(counts) == 162 and p > 1e-3


def deterministic(fn):
    """cuDNN's deterministic algorithms while `fn` runs (the comparison then sees the graph, not the GPU's
    run-to-run non-determinism, wherever the GPU has deterministic kernels)."""
    saved = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        return fn()
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved


def test_set(device):
    x, y, _ = evaluation_data("synthetic", tempfile.gettempdir(), False, num_workers=0)
    return x.to(device), y.to(device)


def trained_model(device, precision: str, out: Path):
    """Narrow VGG-8, 2 epochs on the synthetic set, on the device (resident loader, `precision`)."""
    summary = train(tiny(epochs=2, train_subset=2048, device=str(device), loader="resident", precision=precision), out)
    model, _ = load_model(out / "model.pt")
    return summary, model.to(device)


def rebuilt_per_run(model, x, y, sigma: float, seed: int) -> list[float]:
    """The plain path: the noise added in forward to an untouched model, run by run."""
    model.eval()
    layers, accuracy = noisy_layers(model), []
    for run in range(RUNS):
        noise = NoiseLaw().sample(
            [layer.weight.detach() for layer in layers], sigma, generator(x.device, seed, "mc", float(sigma), run)
        )
        with torch.no_grad(), perturbed(layers, noise):
            accuracy.append((model(x).argmax(1) == y).sum().item() * 100 / len(y))
    return accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--no-compile", dest="compile", action="store_false", help="skip torch.compile's checks (slow to compile)"
    )
    parser.add_argument(
        "--grid",
        nargs=2,
        metavar=("CONFIG", "OUT"),
        help="write OUT: a config extending CONFIG with the plain settings of each fast path that did not pass",
    )
    args = parser.parse_args()
    device = resolve_device(args.device)
    fast = device.type == "cuda"
    print(f"device {device} ({torch.cuda.get_device_name(device) if fast else 'CPU'}), torch {torch.__version__}")
    checks = []  # (ok, the fast path it checks or None)

    def check(name, fn, path=None):
        started = time.monotonic()
        try:
            measured, ok = fn()
        except Exception as e:  # a crash is a failed check, with its message; the others still run
            measured, ok = f"{type(e).__name__}: {one_line(e, 200)}", False
        checks.append((ok, path))
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {measured} ({time.monotonic() - started:.1f} s)", flush=True)

    check("resident crop/flip on the device is uniform", lambda: crops_are_uniform(device))
    x, y = test_set(device)
    with tempfile.TemporaryDirectory() as tmp:
        precision = "tf32" if fast else "fp32"
        trained = {}

        def training():
            summary, trained["model"] = trained_model(device, precision, Path(tmp))
            accuracy = summary["selected_val_accuracy"]
            return f"{precision}, status {summary['status']}, val accuracy {accuracy:.1f}% (chance 10%)", summary[
                "status"
            ] == "completed" and accuracy > 20

        check("training on the device (resident loader)", training)
        if fast:

            def graph_training():
                summary = train(
                    tiny(
                        epochs=2,
                        train_subset=2048,
                        device=str(device),
                        loader="resident",
                        precision="tf32",
                        step="graph",
                        method="irs",
                    ),
                    Path(tmp) / "graph",
                )
                accuracy = summary["selected_val_accuracy"]
                return f"IRS, tf32, status {summary['status']}, val accuracy {accuracy:.1f}% (chance 10%)", summary[
                    "status"
                ] == "completed" and accuracy > 20

            check("training with the step captured in a CUDA graph", graph_training, "graph")
            for p in ("fp32", "bf16"):
                check(
                    f"graph step == eager step ({p})",
                    lambda p=p: deterministic(lambda: graph_step_is_eager(device, p)),
                    "graph",
                )
            if args.compile:
                check("compiled step == eager step up to rounding (fp32)", lambda: compiled_step_agrees(device))
            set_precision("fp32")
        model = trained.get("model") or build_model("vgg8", 3, 10, 32, width=0.125).to(device)
        if fast:
            model.to(memory_format=torch.channels_last)

        def in_place():
            loop = mc_evaluate(model, NoiseLaw(), x, y, [0.2], RUNS, seed=5, batch_size=len(y))[0].accuracy
            plain = rebuilt_per_run(model, x, y, 0.2, 5)
            return (
                f"max |difference| {max(abs(a - b) for a, b in zip(loop, plain)):.3g} points over {RUNS} runs",
                loop == plain,
            )

        check("in-place MC loop == noise added in forward, fp32", in_place)

        def within_standard_error(precision, runner=model):
            reference = mc_evaluate(model, NoiseLaw(), x, y, [0.1], RUNS, seed=0)[0]
            other = mc_evaluate(runner, NoiseLaw(), x, y, [0.1], RUNS, seed=0, precision=precision)[0]
            se = reference.std / math.sqrt(RUNS)
            return f"{other.mean:.2f} vs fp32 {reference.mean:.2f} (SE {se:.2f})", abs(
                other.mean - reference.mean
            ) <= se

        check("bf16 MC mean within one MC standard error of fp32", lambda: within_standard_error("bf16"), "bf16")
        if fast:
            if args.compile:
                check(
                    "torch.compile MC mean within one MC standard error of eager",
                    lambda: within_standard_error("fp32", torch.compile(model)),
                )

            def cpu_agrees():
                cpu_model = build_model("vgg8", 3, 10, 32, width=0.125)
                cpu_model.load_state_dict(model.state_dict())
                on_cpu = mc_evaluate(cpu_model, NoiseLaw(), x.cpu(), y.cpu(), [0.0], 1, seed=0)[0].mean
                here = mc_evaluate(model, NoiseLaw(), x, y, [0.0], 1, seed=0)[0].mean
                return f"{here:.2f} vs CPU {on_cpu:.2f}", abs(here - on_cpu) <= 0.2

            check("clean accuracy on the device == on the CPU (within 0.2 points)", cpu_agrees)
    print(f"{sum(ok for ok, _ in checks)} of {len(checks)} checks passed")
    if args.grid:
        config, out = args.grid
        passed = {path for path in PLAIN if (True, path) in checks and (False, path) not in checks}
        settings = {"extends": config}
        for path, plain in PLAIN.items():
            if path not in passed:
                for section, values in plain.items():
                    settings.setdefault(section, {}).update(values)
        Path(out).write_text(yaml.safe_dump(settings, sort_keys=False))
        print(f"{out}: {config} with " + ", ".join(f"{p} {'fast' if p in passed else 'plain'}" for p in PLAIN))
        checks = [c for c in checks if c[1] is None]  # a failed fast path has its plain one in the grid
    sys.exit(0 if all(ok for ok, _ in checks) else 1)


if __name__ == "__main__":
    main()
