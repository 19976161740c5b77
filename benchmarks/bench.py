"""Speed and memory benchmark: training steps (each way neft/step.py runs them), Monte-Carlo (MC)
inference, a clean epoch, and what a grid would take. Not a test: it prints ratios measured in one process.

    python benchmarks/bench.py --json bench.json          # measure on whatever device it finds
    python benchmarks/bench.py --width 0.25               # narrower models, a quick look on a CPU
    python benchmarks/bench.py --models vgg8 --steps eager compile --no-reference --no-estimate
                                                          # VGG-8's compiled step against eager alone
    python benchmarks/bench.py --estimate bench.json --configfile config/quick.yaml --jobs 4 \
        [--step graph] [--sharing sharing.json] [--speedup 1]
                                                          # device-hours and wall time of a grid from
                                                          # those measurements (needs snakemake to plan it)

Step ratios are medians over interleaved rounds (clean, noise, OVF, IRS for each step kind, reference-
style, clean, ...), so slow drift of the machine affects every method alike. "Reference-style" does what
the authors' public code does: per step, noise drawn on the CPU at every layer call with max|W| read back
to the host, then copied to the device; per MC run, the model rebuilt and its checkpoint reloaded.

The wall-time estimate: the grid's device work (planned jobs x measured step and MC times, divided by
--speedup, an explicit assumption, 1 = as measured), shared by --jobs concurrent jobs at the throughput
benchmarks/sharing.py measured for that many (without --sharing: none gained, the GPU does one job's work
at a time), plus each job's start-up (sharing.py's, else --startup-s) spread over the jobs, and never less
than the longest job.
"""

import argparse
import importlib.util
import io
import json
import math
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from neft.cli import make_parser
from neft.config import EvalConfig, TrainConfig
from neft.data import ResidentBatches
from neft.datasets import DatasetSpec, synthetic
from neft.device import place
from neft.layers import NoisyWeight
from neft.mc import mc_evaluate
from neft.methods import METHODS, Method
from neft.models import build_model
from neft.noise import NoiseLaw
from neft.provenance import device_name
from neft.step import WARMUP, TrainStep

TARGETS = {"noise": 1.15, "ovf": 4.3, "irs": 1.4}  # step time / clean step time
CLEAN_STEP_TARGET_MS = {"vgg8": 2.5}  # clean VGG-8 step, batch 128
MC_TARGET_MS = 25.0  # one MC run over 10k 32x32 images
EPOCH_TARGET_S = 1.2  # clean VGG-8 epoch, 60k 32x32 images
MEMORY_TARGET_GIB = 24.0  # ResNet-18 on Tiny ImageNet must fit a 24 GB card
# median wall time of a job beyond what its own clock counts (interpreter, imports, Snakemake's start of the
# job) over the 26 trainings of config/quick-first.yaml on an H100, commit 59e0d51 (../shared/gpu-runs/2026-11-25)
DEFAULT_STARTUP_S = 12.7
SPLITS = {
    "mnist": (60000, 10000),
    "fashion_mnist": (60000, 10000),
    "cifar10": (50000, 10000),
    "cifar100": (50000, 10000),
    "tinyimagenet": (100000, 10000),
    "synthetic": (synthetic.SIZES[True], synthetic.SIZES[False]),
}  # (train, test) images


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, repeats: int) -> float:
    """Median seconds of one call of `fn` over `repeats` calls (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class ReferenceStyle:
    """Inside: the methods draw no noise of their own; every noisy layer call draws its noise on the
    CPU (reading max|W| back to the host) and copies it to the device, as the public code does."""

    def __enter__(self):
        def noisy_weight(layer):
            w = layer.weight
            scale = 0.2 * NoiseLaw().slice_factor * w.detach().abs().max().item()
            return w + torch.randn(w.shape).mul_(scale).to(w.device)

        self.saved = NoisyWeight.noisy_weight, Method.noise
        NoisyWeight.noisy_weight, Method.noise = noisy_weight, lambda *args, **kw: None

    def __exit__(self, *exc):
        NoisyWeight.noisy_weight, Method.noise = self.saved


def make_step(
    name: str, step: str, device, width: float, x, classes: int, precision: str, kind="eager", reference=False
):
    """One training step of `step` (STEPS; sigma_d 0.2) on the fixed batch x with random labels, run the `kind` way."""
    y = torch.randint(classes, (len(x),), device=device, generator=torch.Generator(device=device).manual_seed(1))
    method, options = STEPS[step]
    cfg = TrainConfig(
        model=name,
        dataset="cifar10",
        method=method,
        sigma_d=0.0 if method == "vanilla" else 0.2,
        width=width,
        device=str(device),
        **options,
    )
    model = place(build_model(name, x.shape[1], classes, x.shape[-1], width), device)
    m = METHODS.get(method)(cfg, model, cfg.noise_law()).to(device)
    opt = torch.optim.Adam([*model.parameters(), *m.parameters()], lr=1e-3)
    g = torch.Generator(device=device).manual_seed(0)
    train_step = TrainStep(kind, model, m, opt, device, precision)

    def step():
        train_step(x, y, g)

    def reference_step():
        with ReferenceStyle():
            step()

    return reference_step if reference else step


# the timed steps: method and options; "noise x4" is W/ Noise with OVF's N + 1 = 4 noise draws per step
STEPS = {
    "vanilla": ("vanilla", {}),
    "noise": ("noise", {}),
    "ovf": ("ovf", {}),
    "irs": ("irs", {}),
    "noise x4": ("noise", {"n_draws": 4}),
}


def step_key(kind: str, method: str) -> str:
    """Key of a step time: 'noise' for eager (the older files' keys), 'graph noise' for another kind."""
    return method if kind == "eager" else f"{kind} {method}"


def bench_steps(
    name: str,
    device,
    width: float,
    channels: int,
    rounds: int,
    steps: int,
    precision: str,
    kinds: list[str],
    reference: bool,
) -> dict:
    """Median seconds per training step (batch 128, 32x32) of each method and step kind, and reference-style."""
    x = torch.randn(128, channels, 32, 32, device=device)
    runners = {
        step_key(kind, step): make_step(name, step, device, width, x, 10, precision, kind)
        for kind in kinds
        for step in STEPS
    }
    if reference:
        runners.update(
            {
                f"reference {method}": make_step(name, method, device, width, x, 10, precision, reference=True)
                for method in TARGETS
            }
        )
    times = {k: [] for k in runners}
    for fn in runners.values():  # warm-up: cuDNN autotuning, allocator, lazy init, compilation, graph capture
        for _ in range(WARMUP + 2):
            fn()
    for _ in range(rounds):
        for k, fn in runners.items():
            times[k].append(timed(fn, device, 1 if k.startswith("reference") else steps))
    return {k: statistics.median(v) for k, v in times.items()}


def peak_memory(device, fn) -> float | None:
    if device.type != "cuda":
        return None
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    sync(device)
    return torch.cuda.max_memory_allocated(device) / 2**30


def bench_mc(
    name: str,
    device,
    width: float,
    channels: int,
    images: int,
    runs: int,
    precision: str,
    batch: int,
    reference: bool,
    compiled: bool,
) -> dict:
    """Seconds per MC run over `images` 32x32 images: the in-place loop (and compiled), and reference-style."""
    torch.manual_seed(0)
    model = place(build_model(name, channels, 10, 32, width), device)
    x = torch.randn(images, channels, 32, 32, device=device)
    y = torch.randint(10, (images,), device=device)
    law = NoiseLaw()
    mc_evaluate(model, law, x, y, [0.1], 2, 0, batch, precision)  # warm-up
    sync(device)
    start = time.perf_counter()
    mc_evaluate(model, law, x, y, [0.1], runs, 0, batch, precision)
    sync(device)
    fast = (time.perf_counter() - start) / runs
    out = {
        "fast_s": fast,
        "peak_gib": peak_memory(device, lambda: mc_evaluate(model, law, x, y, [0.1], 2, 0, batch, precision)),
    }
    if compiled:
        runner = torch.compile(model)
        mc_evaluate(runner, law, x, y, [0.1], 2, 0, batch, precision)  # compiles
        sync(device)
        start = time.perf_counter()
        mc_evaluate(runner, law, x, y, [0.1], runs, 0, batch, precision)
        sync(device)
        out["compiled_s"] = (time.perf_counter() - start) / runs
    if not reference:
        return out
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)

    def reference_run():
        fresh = build_model(name, channels, 10, 32, width)
        buffer.seek(0)
        fresh.load_state_dict(torch.load(buffer, weights_only=True))
        fresh.to(device).eval()
        with torch.no_grad(), ReferenceStyle():
            for start in range(0, images, 1000):
                fresh(x[start : start + 1000]).argmax(1)

    reference_run()
    return {**out, "reference_s": timed(reference_run, device, max(2, runs // 10))}


def bench_epoch(device, width: float, precision: str, steps: int | None, kind: str) -> tuple[float, int]:
    """Seconds of a clean VGG-8 epoch over 60k 1x32x32 images (MNIST-like) from the resident loader."""
    spec = DatasetSpec("bench", 1, 10, 32, (0.5,), (0.5,), augment=False, resize=False, load=None)
    batches = ResidentBatches(
        torch.randint(0, 256, (60000, 1, 32, 32), dtype=torch.uint8),
        torch.randint(10, (60000,)),
        spec,
        128,
        seed=0,
        device=device,
    )
    cfg = TrainConfig(model="vgg8", dataset="mnist", method="vanilla", sigma_d=0.0, width=width)
    model = place(build_model("vgg8", 1, 10, 32, width), device)
    method = METHODS.get("vanilla")(cfg, model, cfg.noise_law())
    train_step = TrainStep(kind, model, method, torch.optim.Adam(model.parameters(), lr=1e-3), device, precision)
    g = torch.Generator(device=device).manual_seed(0)
    n = steps or batches.steps

    def epoch():
        for i, (x, y) in enumerate(batches.epoch(0)):
            if i == n:
                break
            train_step(x, y, g)

    epoch()  # warm-up
    return timed(epoch, device, 1) * batches.steps / n, n


def bench_tiny_imagenet_memory(device, width: float, precision: str) -> dict:
    """Peak memory of OVF and IRS training steps (OVF holds N+1 graphs) and of MC on 10k 64x64 images."""
    out = {}
    x = torch.randn(128, 3, 64, 64, device=device)
    for method in ("ovf", "irs"):
        step = make_step("resnet18", method, device, width, x, 200, precision)
        out[f"{method} training step"] = peak_memory(device, step)
    model = place(build_model("resnet18", 3, 200, 64, width), device)
    x, y = torch.randn(10000, 3, 64, 64, device=device), torch.randint(200, (10000,), device=device)
    out["MC, 10k images"] = peak_memory(
        device, lambda: mc_evaluate(model, NoiseLaw(), x, y, [0.1], 2, 0, 1000, precision)
    )
    return out


def measure(args, save) -> dict:
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    gpu = device.type == "cuda"
    precision = args.precision or ("bf16" if gpu else "fp32")
    kinds = args.steps or (["eager", "graph"] if gpu else ["eager"])
    if gpu:
        torch.backends.cudnn.benchmark = True
    mc_images = args.mc_images or (10000 if gpu else 1000)
    mc_batch = args.mc_batch or (2500 if gpu else 256)
    print(
        f"# neft benchmark: {device_name(device)}, torch {torch.__version__}, width {args.width}, {precision}, "
        f"{args.channels}-channel input, steps {' '.join(kinds)}, MC batch {mc_batch}, {time.strftime('%Y-%m-%d')}",
        flush=True,
    )
    record = {
        "device": device_name(device),
        "torch": str(torch.__version__),
        "width": args.width,
        "channels": args.channels,
        "precision": precision,
        "steps": kinds,
        "date": time.strftime("%Y-%m-%d"),
        "mc_images": mc_images,
        "mc_batch": mc_batch,
        "rows": [],
    }
    rows = record["rows"]
    for name in args.models:
        t = bench_steps(
            name,
            device,
            args.width,
            args.channels,
            args.rounds or (7 if gpu else 3),
            10 if gpu else 2,
            precision,
            kinds,
            args.reference,
        )
        record[f"{name}_step_s"] = t
        for kind in kinds:
            clean = t[step_key(kind, "vanilla")]
            target = CLEAN_STEP_TARGET_MS.get(name)
            rows.append(
                (
                    f"{name}: {kind} clean step, ms",
                    f"<= {target}" if target else "",
                    f"{clean * 1e3:.2f}",
                    clean * 1e3 <= target if target else None,
                )
            )
            if kind != "eager":
                rows.append((f"{name}: {kind} clean step / eager clean step", "", f"{clean / t['vanilla']:.2f}", None))
            for method, target in TARGETS.items():
                ratio = t[step_key(kind, method)] / clean
                rows.append(
                    (
                        f"{name}: {kind} {method} step / {kind} clean step",
                        f"<= {target}",
                        f"{ratio:.2f}",
                        ratio <= target,
                    )
                )
            ratio = t[step_key(kind, "noise x4")] / t[step_key(kind, "ovf")]
            rows.append(
                (f"{name}: {kind} noise x4 step / {kind} ovf step", "0.9-1.1", f"{ratio:.2f}", abs(ratio - 1) <= 0.1)
            )
        if args.reference:
            for method in TARGETS:
                rows.append(
                    (
                        f"{name}: reference-style {method} step / clean step",
                        "baseline",
                        f"{t[f'reference {method}'] / t['vanilla']:.2f}",
                        None,
                    )
                )
        mc = bench_mc(
            name,
            device,
            args.width,
            args.channels,
            mc_images,
            20 if gpu else 3,
            precision,
            mc_batch,
            args.reference,
            args.mc_compile,
        )
        record[f"{name}_mc"] = {
            **mc,
            **{k.replace("_s", "_ms_per_10k"): v * 1e7 / mc_images for k, v in mc.items() if k.endswith("_s")},
        }
        scaled = "" if mc_images == 10000 else f" (from {mc_images})"
        for key, label, target in (
            ("fast", "one MC run", MC_TARGET_MS),
            ("compiled", "one compiled MC run", MC_TARGET_MS),
            ("reference", "reference-style MC run", None),
        ):
            if f"{key}_s" in mc:
                ms = record[f"{name}_mc"][f"{key}_ms_per_10k"]
                rows.append(
                    (
                        f"{name}: {label}, 10k images, ms{scaled}",
                        f"<= {target:g}" if target else "baseline",
                        f"{ms:.1f}",
                        ms <= target if target else None,
                    )
                )
        if mc["peak_gib"] is not None:
            rows.append((f"{name}: MC peak memory, GiB", "", f"{mc['peak_gib']:.2f}", None))
        save(record)  # what is measured so far survives a time limit that cuts the rest
    for kind in kinds:
        epoch_s, steps = bench_epoch(device, args.width, precision, None if gpu else 5, kind)
        record[f"vgg8_clean_epoch_s{'' if kind == 'eager' else f'_{kind}'}"] = epoch_s
        rows.append(
            (
                f"vgg8: {kind} clean epoch, 60k 32x32 images, s{'' if gpu else f' (from {steps} steps)'}",
                f"<= {EPOCH_TARGET_S}",
                f"{epoch_s:.2f}",
                epoch_s <= EPOCH_TARGET_S,
            )
        )
    if gpu:
        for k, v in bench_tiny_imagenet_memory(device, args.width, precision).items():
            rows.append(
                (
                    f"resnet18 tinyimagenet: {k}, peak GiB",
                    f"<= {MEMORY_TARGET_GIB:g}",
                    f"{v:.2f}",
                    v <= MEMORY_TARGET_GIB,
                )
            )
    save(record)
    print_rows(rows)
    return record


def print_rows(rows) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n| {'figure':<{width}} | {'target':>8} | {'measured':>9} | result |")
    print(f"|{'-' * (width + 2)}|{'-' * 10}:|{'-' * 10}:|--------|")
    for name, target, value, ok in rows:
        print(f"| {name:<{width}} | {target:>8} | {value:>9} | {'' if ok is None else ('pass' if ok else 'MISS'):<6} |")


def planned_commands(configfile: str) -> list[list[str]]:
    """The `python -m neft train|evaluate` command lines Snakemake plans for a config (a dry run)."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--configfile", configfile], capture_output=True, text=True
    )
    if out.returncode:
        sys.exit(f"snakemake -n failed: {out.stderr.strip().splitlines()[-1]}")
    lines = [
        line.split("python -m neft ", 1)[1].split(" > ")[0]
        for line in out.stdout.splitlines()
        if "python -m neft train" in line or "python -m neft evaluate" in line
    ]
    return [shlex.split(line) for line in lines]


def job_seconds(argv: list[str], m: dict, reference: bool) -> tuple[float, str]:
    """(estimated device seconds, step kind whose times were used) of one planned train or evaluate job, from
    the measured per-step and per-run times (32x32; 64x64 inputs cost 4x). Start-up is not counted here."""
    args = make_parser().parse_args(argv)
    if args.command == "train":
        cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__})
        n_train, _ = SPLITS[cfg.dataset]
        images = min(cfg.train_subset or math.inf, n_train - cfg.val_size)
        scale = 4.0 if cfg.dataset == "tinyimagenet" else 1.0
        steps = m[f"{cfg.model}_step_s"]
        kind = cfg.step if step_key(cfg.step, "vanilla") in steps else "eager"
        if reference:
            step = steps["vanilla" if cfg.method == "vanilla" else f"reference {cfg.method}"]
            clean = steps["vanilla"]
        else:
            step, clean = steps[step_key(kind, cfg.method)], steps[step_key(kind, "vanilla")]
        if cfg.method == "ovf":  # measured with N = 3; each oriented forward costs about the same
            step = clean + (step - clean) * (cfg.n_feedback or 3) / 3
        if cfg.n_draws > 1:  # measured with 4 draws (reference-style, or files without it: 4 single-draw steps)
            four = None if reference else steps.get(step_key(kind, "noise x4"))
            step = clean + ((four or 4 * step) - clean) * cfg.n_draws / 4
        mc_run = m[f"{cfg.model}_mc"]["reference_s" if reference else "fast_s"] * 1e4 / m["mc_images"]
        validation = (1 + cfg.val_mc_runs) * cfg.val_size / 1e4 * mc_run
        return cfg.epochs * scale * (math.ceil(images / cfg.batch_size) * step + validation), kind
    cfg = EvalConfig(**{k: v for k, v in vars(args).items() if k in EvalConfig.__dataclass_fields__})
    total = 0.0
    for model_file in args.model:
        model, dataset = Path(model_file).parts[-6:-4]
        mc_run = m[f"{model}_mc"]["reference_s" if reference else "fast_s"] * 1e4 / m["mc_images"]
        runs = sum(1 if s == 0 else cfg.runs for s in cfg.sigmas)
        n_test = min(cfg.test_subset or math.inf, SPLITS[dataset][1])
        total += runs * n_test / 1e4 * mc_run * (4.0 if dataset == "tinyimagenet" else 1.0)
    return total, "eager"


def sharing_throughput(sharing: dict | None, jobs: int) -> tuple[float, str]:
    """(throughput of `jobs` concurrent jobs in one job's, where it comes from)."""
    if jobs == 1:
        return 1.0, "one job at a time"
    if sharing is None:
        return 1.0, "assumed: no gain from sharing (no sharing measurement given)"
    measured = {r["jobs"]: r["speedup"] for r in sharing["results"]}
    below = max((k for k in measured if k <= jobs), default=1)
    return measured.get(below, 1.0), (
        f"measured by sharing.py with {below} jobs on {sharing['device']} ({sharing['step']} steps, {sharing['date']})"
    )


def wall_seconds(device_s: list[float], startup_s: float, jobs: int, throughput: float) -> float:
    """`jobs` job slots: the GPU does `throughput` times one job's work, so each job takes jobs / throughput
    times its device time, plus its start-up; never less than the longest job."""
    stretch = jobs / throughput
    return max(sum(d * stretch + startup_s for d in device_s) / jobs, max(d * stretch + startup_s for d in device_s))


def estimate(
    measured: dict,
    configfile: str,
    jobs: int = 1,
    sharing: dict | None = None,
    speedup: float = 1.0,
    startup_s: float | None = None,
) -> dict:
    commands = planned_commands(configfile)
    print(
        f"\n# {configfile}: {sum(c[0] == 'train' for c in commands)} trainings, "
        f"{sum(c[0] == 'evaluate' for c in commands)} evaluations planned; times measured on {measured['device']} "
        f"({measured['precision']}, width {measured['width']}, {measured['date']})"
        f"{f'; neft divided by an assumed speed-up of {speedup:g}' if speedup != 1 else ''}"
    )
    out = {}
    timed_reference = any("reference_s" in v for k, v in measured.items() if k.endswith("_mc"))
    for label, reference in (("neft", False), ("reference-style", True))[: 1 + timed_reference]:
        scale = 1.0 if reference else 1 / speedup
        jobs_s = [(c[0], s * scale, step) for c in commands for s, step in [job_seconds(c, measured, reference)]]
        hours = {kind: sum(s for k, s, _ in jobs_s if k == kind) / 3600 for kind in ("train", "evaluate")}
        kinds = sorted({step for k, _, step in jobs_s if k == "train"})
        print(
            f"{label:>16}: {hours['train'] + hours['evaluate']:9.1f} device-hours "
            f"(training {hours['train']:.1f}, Monte-Carlo {hours['evaluate']:.1f})"
            f"{'' if reference else ', training steps timed as ' + ' '.join(kinds)}"
        )
        out[label] = {"device_s": [s for _, s, _ in jobs_s], **hours}
    if startup_s is None:
        startup_s = sharing["startup_s"] if sharing else DEFAULT_STARTUP_S
    throughput, source = sharing_throughput(sharing, jobs)
    wall = wall_seconds(out["neft"]["device_s"], startup_s, jobs, throughput)
    print(
        f"{'wall time':>16}: {wall / 60:9.1f} minutes on one GPU with {jobs} jobs at a time (throughput "
        f"{throughput:.2f}x one job's, {source}; start-up {startup_s:.1f} s per job)"
    )
    return {**out, "wall_s": wall, "jobs": jobs, "throughput": throughput, "startup_s": startup_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier (1.0 = the paper's models)")
    parser.add_argument("--channels", type=int, default=3, help="input channels (1: MNIST-like, 3: CIFAR-like)")
    parser.add_argument("--mc-batch", type=int, default=None, help="MC images per forward (2500 on CUDA, 256 on CPU)")
    parser.add_argument("--precision", default=None, help="default: bf16 on CUDA, fp32 on CPU")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved timing rounds (7 on CUDA, 3 on CPU)")
    parser.add_argument(
        "--mc-images", type=int, default=None, help="default 10000 on CUDA, 1000 on CPU (scaled to 10k)"
    )
    parser.add_argument(
        "--models", nargs="+", choices=["vgg8", "resnet18"], default=["vgg8", "resnet18"], help="models to time"
    )
    parser.add_argument("--json", type=Path, help="write the measurements here (again after each model)")
    parser.add_argument(
        "--estimate", type=Path, metavar="JSON", help="only estimate, from measurements saved by --json"
    )
    parser.add_argument("--configfile", default="config/paper.yaml", help="the grid to estimate")
    parser.add_argument(
        "--no-estimate", dest="estimate_after", action="store_false", help="measure only (no dry run of a grid)"
    )
    parser.add_argument(
        "--steps",
        nargs="+",
        choices=["eager", "compile", "graph"],
        help="step kinds to time (default: eager and graph on CUDA, eager on the CPU)",
    )
    parser.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the reference-style steps and MC runs",
    )
    parser.add_argument(
        "--mc-compile",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also time MC runs through torch.compile",
    )
    parser.add_argument("--jobs", type=int, default=1, help="estimate: concurrent jobs on the GPU")
    parser.add_argument(
        "--sharing", type=Path, help="estimate: the JSON of benchmarks/sharing.py (throughput of --jobs)"
    )
    parser.add_argument(
        "--speedup",
        type=float,
        default=1.0,
        help="estimate: divide the measured step and MC times by this (an assumption; 1 = as measured)",
    )
    parser.add_argument(
        "--startup-s",
        type=float,
        default=None,
        help=f"estimate: start-up per job (default: sharing.py's, else {DEFAULT_STARTUP_S} s)",
    )
    args = parser.parse_args()
    if args.estimate:
        sharing = json.loads(args.sharing.read_text()) if args.sharing else None
        estimate(
            json.loads(args.estimate.read_text()), args.configfile, args.jobs, sharing, args.speedup, args.startup_s
        )
        return
    measured = measure(args, lambda record: args.json and args.json.write_text(json.dumps(record, indent=1)))
    if not args.estimate_after:
        return
    if importlib.util.find_spec("snakemake"):
        estimate(measured, args.configfile)
    else:  # e.g. the GPU machine: estimate later, where snakemake is installed
        print("\n(no snakemake here: run `python benchmarks/bench.py --estimate <json>` where it is installed)")


if __name__ == "__main__":
    main()
