"""Speed and memory benchmark: training steps, Monte-Carlo (MC) inference, a clean epoch, and the
device-hours config/paper.yaml would take. Not a test: it prints ratios measured in one process.

    python benchmarks/bench.py --json bench.json          # measure on whatever device it finds
    python benchmarks/bench.py --width 0.25               # narrower models, a quick look on a CPU
    python benchmarks/bench.py --estimate bench.json      # device-hours of the paper grid from those
                                                          # measurements (needs snakemake to plan it)

Step ratios are medians over interleaved rounds (clean, noise, OVF, IRS, reference-style, clean,
...), so slow drift of the machine affects every method alike. "Reference-style" does what the
authors' public code does: per step, noise drawn on the CPU at every layer call with max|W| read back
to the host, then copied to the device; per MC run, the model rebuilt and its checkpoint reloaded.
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
from neft.datasets import DatasetSpec
from neft.layers import NoisyWeight
from neft.mc import mc_evaluate
from neft.methods import METHODS, Method
from neft.models import build_model
from neft.noise import NoiseLaw
from neft.provenance import device_name

TARGETS = {"noise": 1.15, "ovf": 4.3, "irs": 1.4}   # step time / clean step time
MC_TARGET_MS = 25.0                                  # one MC run over 10k 32x32 images
EPOCH_TARGET_S = 1.2                                 # clean VGG-8 epoch, 60k 32x32 images
MEMORY_TARGET_GIB = 24.0                             # ResNet-18 on Tiny ImageNet must fit a 24 GB card
SPLITS = {"mnist": (60000, 10000), "fashion_mnist": (60000, 10000), "cifar10": (50000, 10000),
          "cifar100": (50000, 10000), "tinyimagenet": (100000, 10000)}  # (train, test) images


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


def make_step(name: str, method: str, device, width: float, x, classes: int, precision: str, reference=False):
    """One training step of `method` (sigma_d 0.2) on the fixed batch x with random labels."""
    y = torch.randint(classes, (len(x),), device=device, generator=torch.Generator(device=device).manual_seed(1))
    cfg = TrainConfig(model=name, dataset="cifar10", method=method, sigma_d=0.0 if method == "vanilla" else 0.2,
                      width=width, device=str(device))
    model = build_model(name, x.shape[1], classes, x.shape[-1], width).to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    m = METHODS.get(method)(cfg, model, cfg.noise_law()).to(device)
    opt = torch.optim.Adam([*model.parameters(), *m.parameters()], lr=1e-3)
    g = torch.Generator(device=device).manual_seed(0)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss, _ = m.loss(model, x, y, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def reference_step():
        with ReferenceStyle():
            step()
    return reference_step if reference else step


def bench_steps(name: str, device, width: float, rounds: int, steps: int, precision: str) -> dict:
    """Median seconds per training step (batch 128, 32x32) of each method, ours and reference-style."""
    x = torch.randn(128, 3, 32, 32, device=device)
    runners = {method: make_step(name, method, device, width, x, 10, precision)
               for method in ("vanilla", "noise", "ovf", "irs")}
    runners.update({f"reference {method}": make_step(name, method, device, width, x, 10, precision, reference=True)
                    for method in ("noise", "ovf", "irs")})
    times = {k: [] for k in runners}
    for fn in runners.values():  # warm-up: cuDNN autotuning, allocator, lazy init
        fn()
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
    return torch.cuda.max_memory_allocated(device) / 2 ** 30


def bench_mc(name: str, device, width: float, images: int, runs: int, precision: str, batch: int) -> dict:
    """Seconds per MC run over `images` 32x32 images: the in-place loop, and reference-style."""
    torch.manual_seed(0)
    model = build_model(name, 3, 10, 32, width).to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    x = torch.randn(images, 3, 32, 32, device=device)
    y = torch.randint(10, (images,), device=device)
    law = NoiseLaw()
    mc_evaluate(model, law, x, y, [0.1], 2, 0, batch, precision)  # warm-up
    sync(device)
    start = time.perf_counter()
    mc_evaluate(model, law, x, y, [0.1], runs, 0, batch, precision)
    sync(device)
    fast = (time.perf_counter() - start) / runs
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)

    def reference_run():
        fresh = build_model(name, 3, 10, 32, width)
        buffer.seek(0)
        fresh.load_state_dict(torch.load(buffer, weights_only=True))
        fresh.to(device).eval()
        with torch.no_grad(), ReferenceStyle():
            for start in range(0, images, 1000):
                fresh(x[start:start + 1000]).argmax(1)
    reference_run()
    reference = timed(reference_run, device, max(2, runs // 10))
    memory = peak_memory(device, lambda: mc_evaluate(model, law, x, y, [0.1], 2, 0, batch, precision))
    return {"fast_s": fast, "reference_s": reference, "peak_gib": memory}


def bench_epoch(device, width: float, precision: str, steps: int | None) -> tuple[float, int]:
    """Seconds of a clean VGG-8 epoch over 60k 1x32x32 images (MNIST-like) from the resident loader."""
    spec = DatasetSpec("bench", 1, 10, 32, (0.5,), (0.5,), augment=False, resize=False, load=None)
    batches = ResidentBatches(torch.randint(0, 256, (60000, 1, 32, 32), dtype=torch.uint8),
                              torch.randint(10, (60000,)), spec, 128, seed=0, device=device)
    cfg = TrainConfig(model="vgg8", dataset="mnist", method="vanilla", sigma_d=0.0, width=width)
    model = build_model("vgg8", 1, 10, 32, width).to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    method = METHODS.get("vanilla")(cfg, model, cfg.noise_law())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = steps or batches.steps

    def epoch():
        for i, (x, y) in enumerate(batches.epoch(0)):
            if i == n:
                break
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss, _ = method.loss(model, x, y, None)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    epoch()  # warm-up
    return timed(epoch, device, 1) * batches.steps / n, n


def bench_tiny_imagenet_memory(device, width: float, precision: str) -> dict:
    """Peak memory of OVF and IRS training steps (OVF holds N+1 graphs) and of MC on 10k 64x64 images."""
    out = {}
    x = torch.randn(128, 3, 64, 64, device=device)
    for method in ("ovf", "irs"):
        out[f"{method} training step"] = peak_memory(device, make_step("resnet18", method, device, width, x, 200,
                                                                       precision))
    model = build_model("resnet18", 3, 200, 64, width).to(device).to(memory_format=torch.channels_last)
    x, y = torch.randn(10000, 3, 64, 64, device=device), torch.randint(200, (10000,), device=device)
    out["MC, 10k images"] = peak_memory(device, lambda: mc_evaluate(model, NoiseLaw(), x, y, [0.1], 2, 0, 1000,
                                                                    precision))
    return out


def measure(args) -> dict:
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    gpu = device.type == "cuda"
    precision = args.precision or ("bf16" if gpu else "fp32")
    if gpu:
        torch.backends.cudnn.benchmark = True
    mc_images = args.mc_images or (10000 if gpu else 1000)
    print(f"# neft benchmark: {device_name(device)}, torch {torch.__version__}, width {args.width}, {precision}, "
          f"{time.strftime('%Y-%m-%d')}", flush=True)
    record = {"device": device_name(device), "torch": str(torch.__version__), "width": args.width,
              "precision": precision, "date": time.strftime("%Y-%m-%d"), "mc_images": mc_images, "rows": []}
    rows = record["rows"]
    for name in ("vgg8", "resnet18"):
        t = bench_steps(name, device, args.width, args.rounds or (7 if gpu else 3), 10 if gpu else 2, precision)
        record[f"{name}_step_s"] = t
        for method, target in TARGETS.items():
            ratio = t[method] / t["vanilla"]
            rows.append((f"{name}: {method} step / clean step", f"<= {target}", f"{ratio:.2f}", ratio <= target))
            rows.append((f"{name}: reference-style {method} step / clean step", "baseline",
                         f"{t[f'reference {method}'] / t['vanilla']:.2f}", None))
        mc = bench_mc(name, device, args.width, mc_images, 20 if gpu else 3, precision, 2500 if gpu else 500)
        record[f"{name}_mc"] = {**mc, "ms_per_10k": mc["fast_s"] * 1e7 / mc_images,
                                "reference_ms_per_10k": mc["reference_s"] * 1e7 / mc_images}
        scaled = "" if mc_images == 10000 else f" (from {mc_images})"
        rows.append((f"{name}: one MC run, 10k images, ms{scaled}", f"<= {MC_TARGET_MS:g}",
                     f"{record[f'{name}_mc']['ms_per_10k']:.1f}", record[f"{name}_mc"]["ms_per_10k"] <= MC_TARGET_MS))
        rows.append((f"{name}: reference-style MC run, 10k images, ms{scaled}", "baseline",
                     f"{record[f'{name}_mc']['reference_ms_per_10k']:.1f}", None))
        if mc["peak_gib"] is not None:
            rows.append((f"{name}: MC peak memory, GiB", "", f"{mc['peak_gib']:.2f}", None))
    epoch_s, steps = bench_epoch(device, args.width, precision, None if gpu else 5)
    record["vgg8_clean_epoch_s"] = epoch_s
    rows.append((f"vgg8: clean epoch, 60k 32x32 images, s{'' if gpu else f' (from {steps} steps)'}",
                 f"<= {EPOCH_TARGET_S}", f"{epoch_s:.2f}", epoch_s <= EPOCH_TARGET_S))
    if gpu:
        for k, v in bench_tiny_imagenet_memory(device, args.width, precision).items():
            rows.append((f"resnet18 tinyimagenet: {k}, peak GiB", f"<= {MEMORY_TARGET_GIB:g}", f"{v:.2f}",
                         v <= MEMORY_TARGET_GIB))
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
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-p", "--configfile", configfile],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"snakemake -n failed: {out.stderr.strip().splitlines()[-1]}")
    lines = [line.split("python -m neft ", 1)[1].split(" > ")[0] for line in out.stdout.splitlines()
             if "python -m neft train" in line or "python -m neft evaluate" in line]
    return [shlex.split(line) for line in lines]


def job_seconds(argv: list[str], m: dict, reference: bool) -> float:
    """Estimated seconds of one planned train or evaluate job from the measured per-step and per-run
    times (32x32; 64x64 inputs cost 4x). Job start-up and data loading are not counted."""
    args = make_parser().parse_args(argv)
    prefix = "reference " if reference else ""
    if args.command == "train":
        cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__})
        n_train, _ = SPLITS[cfg.dataset]
        images = min(cfg.train_subset or math.inf, n_train - cfg.val_size)
        scale = 4.0 if cfg.dataset == "tinyimagenet" else 1.0
        steps = m[f"{cfg.model}_step_s"]
        step = steps["vanilla" if cfg.method == "vanilla" else prefix + cfg.method]
        if cfg.method == "ovf":  # measured with N = 3; each oriented forward costs about the same
            step = steps["vanilla"] + (step - steps["vanilla"]) * (cfg.n_feedback or 3) / 3
        mc_run = m[f"{cfg.model}_mc"]["reference_s" if reference else "fast_s"] * 1e4 / m["mc_images"]
        validation = (1 + cfg.val_mc_runs) * cfg.val_size / 1e4 * mc_run
        return cfg.epochs * scale * (math.ceil(images / cfg.batch_size) * step + validation)
    cfg = EvalConfig(**{k: v for k, v in vars(args).items() if k in EvalConfig.__dataclass_fields__})
    model, dataset = Path(args.model).parts[-6:-4]
    mc_run = m[f"{model}_mc"]["reference_s" if reference else "fast_s"] * 1e4 / m["mc_images"]
    runs = sum(1 if s == 0 else cfg.runs for s in cfg.sigmas)
    n_test = min(cfg.test_subset or math.inf, SPLITS[dataset][1])
    return runs * n_test / 1e4 * mc_run * (4.0 if dataset == "tinyimagenet" else 1.0)


def estimate(measured: dict, configfile: str) -> None:
    commands = planned_commands(configfile)
    print(f"\n# {configfile}: {sum(c[0] == 'train' for c in commands)} trainings, "
          f"{sum(c[0] == 'evaluate' for c in commands)} evaluations planned; times measured on {measured['device']} "
          f"({measured['precision']}, width {measured['width']}, {measured['date']})")
    for label, reference in (("neft", False), ("reference-style", True)):
        hours = {kind: sum(job_seconds(c, measured, reference) for c in commands if c[0] == kind) / 3600
                 for kind in ("train", "evaluate")}
        print(f"{label:>16}: {hours['train'] + hours['evaluate']:9.1f} device-hours "
              f"(training {hours['train']:.1f}, Monte-Carlo {hours['evaluate']:.1f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier (1.0 = the paper's models)")
    parser.add_argument("--precision", default=None, help="default: bf16 on CUDA, fp32 on CPU")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved timing rounds (7 on CUDA, 3 on CPU)")
    parser.add_argument("--mc-images", type=int, default=None, help="default 10000 on CUDA, 1000 on CPU (scaled to 10k)")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--estimate", type=Path, metavar="JSON", help="only estimate, from measurements saved by --json")
    parser.add_argument("--configfile", default="config/paper.yaml", help="the grid to estimate")
    args = parser.parse_args()
    if args.estimate:
        estimate(json.loads(args.estimate.read_text()), args.configfile)
        return
    measured = measure(args)
    if args.json:
        args.json.write_text(json.dumps(measured, indent=1))
    if importlib.util.find_spec("snakemake"):
        estimate(measured, args.configfile)
    else:  # e.g. the GPU machine: estimate later, where snakemake is installed
        print("\n(no snakemake here: run `python benchmarks/bench.py --estimate <json>` where it is installed)")


if __name__ == "__main__":
    main()
