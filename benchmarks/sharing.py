"""GPU sharing: trainings per hour with K = 1, 2, 4, 8 concurrent trainings on one device. Each training is a
real `python -m neft train` process (VGG-8, W/ Noise, a fixed number of steps); the K processes start
together and the wall time runs from their launch to the last exit.

    python benchmarks/sharing.py --json sharing.json                 # the GPU: Fashion-MNIST in data/
    python benchmarks/sharing.py --jobs 1 2 --dataset synthetic --width 0.125 --train-subset 256 \
        --epochs 2 --device cpu                                      # a smoke run on the CPU

Per K it reports the wall time, trainings per hour (K x 3600 / wall, start-up included, as a grid sees it),
the median seconds of the middle epoch (all K processes train then; validation included) and the speed-up:
the K processes' work per second over one process's. `bench.py --estimate --sharing` uses the speed-up and
the start-up (wall time less the training's own clock, median of the K = 1 runs).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neft.config import as_flags

ROOT = Path(__file__).resolve().parent.parent


def run_k(k: int, args, folder: Path) -> dict:
    """Start k trainings at once; their wall times and train.json records."""
    options = dict(
        model=args.model,
        dataset=args.dataset,
        method=args.method,
        sigma_d=args.sigma_d,
        width=args.width,
        epochs=args.epochs,
        train_subset=args.train_subset,
        val_size=args.val_size,
        val_mc_runs=2,
        step=args.step,
        precision=args.precision,
        device=args.device,
        data_dir=args.data_dir,
        download=False,
        num_workers=0,
        checkpoint_every_s=1e9,
    )
    command = [sys.executable, "-m", "neft", "train", *as_flags(options)]
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [*command, "--seed", str(i), "--out", str(folder / f"k{k}-{i}")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(k)
    ]
    walls = []
    for p in procs:
        err = p.communicate()[1]
        walls.append(time.monotonic() - started)
        if p.returncode:
            sys.exit(f"sharing.py: a training failed (exit {p.returncode}): {err.strip().splitlines()[-1:]}")
    records = [json.loads((folder / f"k{k}-{i}" / "train.json").read_text()) for i in range(k)]
    middle = args.epochs // 2  # every process is past its start-up then
    return {
        "jobs": k,
        "wall_s": max(walls),
        "trainings_per_hour": k * 3600 / max(walls),
        "epoch_s": statistics.median(r["history"][middle]["seconds"] for r in records),
        "startup_s": statistics.median(w - r["seconds"] for w, r in zip(walls, records)),
        **{key: records[0]["provenance"][key] for key in ("device", "torch", "git_commit")},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2, 4, 8], help="concurrent trainings K")
    parser.add_argument("--model", default="vgg8")
    parser.add_argument("--method", default="noise")
    parser.add_argument("--sigma-d", type=float, default=0.1)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=3, help="the middle one is timed")
    parser.add_argument("--train-subset", type=int, default=12800, help="images per epoch (100 steps of 128)")
    parser.add_argument("--val-size", type=int, default=1000)
    parser.add_argument("--step", default="eager", help="eager, compile or graph (neft/step.py)")
    parser.add_argument("--precision", default="tf32")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in sorted(set(args.jobs) | {1}):  # K = 1 first: the others are measured against it
            r = run_k(k, args, Path(tmp))
            results.append(r)
            r["speedup"] = k * results[0]["epoch_s"] / r["epoch_s"]
            print(
                f"K={k}: wall {r['wall_s']:.1f} s, {r['trainings_per_hour']:.0f} trainings/hour, middle epoch "
                f"{r['epoch_s']:.2f} s, throughput {r['speedup']:.2f}x one training's, start-up {r['startup_s']:.1f} s",
                flush=True,
            )
            if args.json:  # after each K: a time limit that cuts the larger ones keeps the smaller
                args.json.write_text(json.dumps(record(args, results), indent=1))


def record(args, results: list[dict]) -> dict:
    return {
        **{key: results[0][key] for key in ("device", "torch", "git_commit")},
        "date": time.strftime("%Y-%m-%d"),
        "model": args.model,
        "method": args.method,
        "dataset": args.dataset,
        "width": args.width,
        "step": args.step,
        "precision": args.precision,
        "epochs": args.epochs,
        "train_subset": args.train_subset,
        "startup_s": results[0]["startup_s"],
        "results": results,
    }


if __name__ == "__main__":
    main()
