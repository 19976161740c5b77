"""Speed and memory benchmark of the training step, Monte-Carlo inference and a clean epoch, with a
GPU-hour estimate for config/paper.yaml. Not a test: it prints ratios measured in one process.

    python benchmarks/bench.py                  # whatever device it finds (full-size models)
    python benchmarks/bench.py --width 0.25     # narrower models, for a quick look on a CPU

Ratios are medians over interleaved rounds (clean, noise, OVF, IRS, clean, ...), so slow drift of
the machine affects all methods alike. "reference-style" reproduces what the authors' public code
does per step -- noise drawn on the CPU at every layer call, max|W| read back to the host, copied to
the device -- and per MC run -- the model rebuilt and its checkpoint reloaded from disk.
"""
import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from neft.config import TrainConfig
from neft.data import ResidentBatches
from neft.datasets import DatasetSpec
from neft.layers import NoisyWeight
from neft.mc import mc_evaluate
from neft.methods import METHODS
from neft.models import build_model
from neft.noise import NoiseLaw
from neft.provenance import device_name

TARGETS = {"noise": 1.15, "ovf": 4.3, "irs": 1.4}   # step time / clean step time
MC_TARGET_MS = 25.0                                  # one MC run over 10k 32x32 images
EPOCH_TARGET_S = 1.2                                 # clean VGG-8 epoch, 60k 32x32 images


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, repeats: int) -> float:
    """Median seconds of `fn` over `repeats` calls (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class ReferenceStyle:
    """Inside: every noisy layer call draws its noise on the CPU (reading max|W| back to the host)
    and copies it to the device, as the public code does."""

    def __init__(self, sigma_d: float, law: NoiseLaw):
        self.std = sigma_d * law.slice_factor

    def __enter__(self):
        std = self.std

        def noisy_weight(layer):
            w = layer.weight
            scale = std * w.detach().abs().max().item()
            return w + torch.randn(w.shape).mul_(scale).to(w.device)
        self.saved, NoisyWeight.noisy_weight = NoisyWeight.noisy_weight, noisy_weight

    def __exit__(self, *exc):
        NoisyWeight.noisy_weight = self.saved


def step_fn(model, method, optimizer, x, y, g, precision):
    def step():
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss, _ = method.loss(model, x, y, g)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def make_step(name: str, method: str, sigma_d: float, device, width: float, x, classes: int, precision: str):
    """One training step of `method` on the fixed batch x (random labels of `classes` classes)."""
    y = torch.randint(classes, (len(x),), device=device, generator=torch.Generator(device=device).manual_seed(1))
    cfg = TrainConfig(model=name, dataset="cifar10", method=method, sigma_d=sigma_d, width=width, device=str(device))
    model = build_model(name, x.shape[1], classes, x.shape[-1], width).to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    m = METHODS.get(method)(cfg, model, cfg.noise_law()).to(device)
    opt = torch.optim.Adam([*model.parameters(), *m.parameters()], lr=1e-3)
    return step_fn(model, m, opt, x, y, torch.Generator(device=device).manual_seed(0), precision)


def bench_steps(name: str, device, width: float, batch: int, rounds: int, steps: int, precision: str) -> dict:
    """Median seconds per training step for each method, measured in interleaved rounds."""
    x = torch.randn(batch, 3, 32, 32, device=device)
    runners = {method: make_step(name, method, 0.0 if method == "vanilla" else 0.2, device, width, x, 10, precision)
               for method in ("vanilla", "noise", "ovf", "irs")}
    reference = make_step(name, "noise", 0.0, device, width, x, 10, precision)  # the patched layers add the noise

    def reference_step():
        with ReferenceStyle(0.2, NoiseLaw()):
            reference()
    runners["reference-style noise"] = reference_step
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
    # reference style: rebuild and reload from disk each run, fp32, noise drawn on the CPU
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)

    def reference_run():
        fresh = build_model(name, 3, 10, 32, width)
        buffer.seek(0)
        fresh.load_state_dict(torch.load(buffer, weights_only=True))
        fresh.to(device).eval()
        with torch.no_grad(), ReferenceStyle(0.1, law):
            for start in range(0, images, 1000):
                fresh(x[start:start + 1000]).argmax(1)
    reference_run()
    reference = timed(reference_run, device, max(2, runs // 10))
    memory = peak_memory(device, lambda: mc_evaluate(model, law, x, y, [0.1], 2, 0, batch, precision))
    return {"fast_s": fast, "reference_s": reference, "peak_gib": memory}


def bench_epoch(device, width: float, precision: str, steps: int | None) -> tuple[float, int]:
    """Clean VGG-8 epoch over 60k 1x32x32 images (MNIST-like) from the resident loader."""
    spec = DatasetSpec("bench", 1, 10, 32, (0.5,), (0.5,), augment=False, resize=False, load=None)
    images = torch.randint(0, 256, (60000, 1, 32, 32), dtype=torch.uint8)
    labels = torch.randint(10, (60000,))
    batches = ResidentBatches(images, labels, spec, 128, seed=0, device=device)
    cfg = TrainConfig(model="vgg8", dataset="mnist", method="vanilla", sigma_d=0.0, width=width)
    model = build_model("vgg8", 1, 10, 32, width).to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    method = METHODS.get("vanilla")(cfg, model, cfg.noise_law())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator(device=device)
    n = steps or batches.steps

    def epoch():
        for i, (x, y) in enumerate(batches.epoch(0)):
            if i == n:
                break
            step_fn(model, method, opt, x, y, g, precision)()
    epoch()  # warm-up
    return timed(epoch, device, 1) * batches.steps / n, n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier (1.0 = the paper's models)")
    parser.add_argument("--precision", default=None, help="default: bf16 on CUDA, fp32 on CPU")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved timing rounds")
    parser.add_argument("--mc-images", type=int, default=None, help="default 10000 on CUDA, 1000 on CPU (scaled to 10k)")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    gpu = device.type == "cuda"
    precision = args.precision or ("bf16" if gpu else "fp32")
    if gpu:
        torch.backends.cudnn.benchmark = True
    rounds = args.rounds or (7 if gpu else 3)
    mc_images = args.mc_images or (10000 if gpu else 1000)
    print(f"# neft benchmark: {device_name(device)}, torch {torch.__version__}, width {args.width}, {precision}",
          flush=True)
    rows, record = [], {"device": device_name(device), "torch": str(torch.__version__), "width": args.width,
                        "precision": precision, "date": time.strftime("%Y-%m-%d")}

    for name in ("vgg8", "resnet18"):
        t = bench_steps(name, device, args.width, 128, rounds, 10 if gpu else 2, precision)
        record[f"{name}_step_s"] = t
        for method, target in TARGETS.items():
            ratio = t[method] / t["vanilla"]
            rows.append((f"{name}: {method} step / clean step", f"<= {target}", f"{ratio:.2f}", ratio <= target))
        rows.append((f"{name}: reference-style noise step / clean step", "(baseline)",
                     f"{t['reference-style noise'] / t['vanilla']:.2f}", None))
        mc = bench_mc(name, device, args.width, mc_images, 20 if gpu else 3, precision, 2500 if gpu else 500)
        per_10k = mc["fast_s"] * 10000 / mc_images * 1000
        record[f"{name}_mc"] = {**mc, "ms_per_10k": per_10k}
        rows.append((f"{name}: one MC run, 10k images (ms)", f"<= {MC_TARGET_MS:g}", f"{per_10k:.1f}",
                     per_10k <= MC_TARGET_MS))
        rows.append((f"{name}: reference-style MC run, 10k images (ms)", "(baseline)",
                     f"{mc['reference_s'] * 10000 / mc_images * 1000:.1f}", None))
        if mc["peak_gib"] is not None:
            rows.append((f"{name}: MC peak memory (GiB)", "", f"{mc['peak_gib']:.2f}", None))
    epoch_s, steps = bench_epoch(device, args.width, precision, None if gpu else 5)
    record["vgg8_clean_epoch_s"] = epoch_s
    rows.append(("vgg8: clean epoch, 60k 32x32 (s)" + ("" if gpu else f", from {steps} steps"), f"<= {EPOCH_TARGET_S}",
                 f"{epoch_s:.2f}", epoch_s <= EPOCH_TARGET_S))
    if gpu:
        tiny = bench_tiny_imagenet_memory(device, args.width, precision)
        record["resnet18_tinyimagenet_peak_gib"] = tiny
        for k, v in tiny.items():
            rows.append((f"resnet18 tinyimagenet: {k} peak memory (GiB)", "<= 24", f"{v:.2f}", v <= 24))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure':<{width}}  {'target':>8}  {'measured':>9}  result")
    for name, target, value, ok in rows:
        print(f"{name:<{width}}  {target:>8}  {value:>9}  {'' if ok is None else ('pass' if ok else 'MISS')}")
    if args.json:
        args.json.write_text(json.dumps(record, indent=1))


def bench_tiny_imagenet_memory(device, width: float, precision: str) -> dict:
    """Peak memory of an OVF training step (the largest: N+1 graphs) and of MC on 10k 64x64 images."""
    out = {}
    x = torch.randn(128, 3, 64, 64, device=device)
    for method in ("ovf", "irs"):
        out[f"{method} training step"] = peak_memory(device, make_step("resnet18", method, 0.2, device, width, x, 200,
                                                                       precision))
    model = build_model("resnet18", 3, 200, 64, width).to(device).to(memory_format=torch.channels_last)
    x, y = torch.randn(10000, 3, 64, 64, device=device), torch.randint(200, (10000,), device=device)
    out["MC (10k images)"] = peak_memory(device, lambda: mc_evaluate(model, NoiseLaw(), x, y, [0.1], 2, 0, 1000, precision))
    return out


if __name__ == "__main__":
    sys.exit(main())

