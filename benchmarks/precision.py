"""bf16 training against TF32: the same trainings (VGG-8, W/ Noise, 3 seeds) in each precision, then every
model's noisy test accuracy at its sigma_d (Monte-Carlo, one `neft evaluate` process for all of them, fp32).
bf16 may become a training option only if its seeds agree with TF32's within their spread:
|mean(bf16) - mean(TF32)| <= the larger of the two groups' standard deviations over seeds.

    python benchmarks/precision.py --json precision.json          # the GPU: Fashion-MNIST in data/
    python benchmarks/precision.py --dataset synthetic --width 0.125 --train-subset 512 --epochs 1 \
        --val-size 256 --runs 2 --device cpu                                     # a smoke run on the CPU

Exit code 0 whether or not they agree (the verdict is printed and saved); 1 if a training or the evaluation fails.
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
PRECISIONS = ("tf32", "bf16")


def neft(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "neft", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            sys.exit(
                f"precision.py: {' '.join(p.args[2:4])} failed (exit {p.returncode}): "
                f"{(err.strip().splitlines() or [''])[-1]}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--model", default="vgg8")
    parser.add_argument("--method", default="noise")
    parser.add_argument("--sigma-d", type=float, default=0.2)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-subset", type=int, default=None, help="default: the whole training split")
    parser.add_argument("--val-size", type=int, default=5000)
    parser.add_argument("--step", default="eager", help="eager, compile or graph (neft/step.py)")
    parser.add_argument("--runs", type=int, default=50, help="MC runs per model at its sigma_d")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    common = dict(data_dir=args.data_dir, download=False, device=args.device)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {(p, s): Path(tmp) / f"{p}-seed{s}" for p in PRECISIONS for s in args.seeds}
        started = time.monotonic()
        wait(
            [
                neft(
                    "train",
                    *as_flags(
                        dict(
                            common,
                            out=str(out),
                            model=args.model,
                            dataset=args.dataset,
                            method=args.method,
                            sigma_d=args.sigma_d,
                            seed=s,
                            width=args.width,
                            epochs=args.epochs,
                            val_size=args.val_size,
                            precision=p,
                            step=args.step,
                            num_workers=0,
                            checkpoint_every_s=1e9,
                            train_subset=args.train_subset,
                        )
                    ),
                )
                for (p, s), out in runs.items()
            ]
        )
        trained = time.monotonic() - started
        results = {key: out / "mc.json" for key, out in runs.items()}
        wait(
            [
                neft(
                    "evaluate",
                    *as_flags(
                        dict(
                            common,
                            model=[str(out / "model.pt") for out in runs.values()],
                            out=[str(r) for r in results.values()],
                            sigmas=[args.sigma_d],
                            runs=args.runs,
                            precision="fp32",
                        )
                    ),
                )
            ]
        )
        accuracy = {key: json.loads(r.read_text())["results"][0]["mean"] for key, r in results.items()}
        provenance = json.loads(next(iter(results.values())).read_text())["provenance"]
    by = {p: [accuracy[(p, s)] for s in args.seeds] for p in PRECISIONS}
    mean = {p: statistics.mean(v) for p, v in by.items()}
    spread = max(statistics.stdev(v) if len(v) > 1 else 0.0 for v in by.values())
    agree = abs(mean["bf16"] - mean["tf32"]) <= spread
    for p in PRECISIONS:
        print(
            f"{p}: noisy accuracy at sigma_d {args.sigma_d} per seed {', '.join(f'{a:.2f}' for a in by[p])}; "
            f"mean {mean[p]:.2f} %"
        )
    print(
        f"bf16 - tf32 = {mean['bf16'] - mean['tf32']:+.2f} points, seeds' spread (largest std) {spread:.2f}: "
        f"{'agree' if agree else 'DO NOT agree'} ({args.epochs} epochs, {args.runs} MC runs, "
        f"trained in {trained:.0f} s)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    **{k: provenance[k] for k in ("device", "torch", "git_commit")},
                    "date": time.strftime("%Y-%m-%d"),
                    "config": {k: v for k, v in vars(args).items() if k != "json"},
                    "accuracy": by,
                    "mean": mean,
                    "spread": spread,
                    "agree": agree,
                    "train_seconds": trained,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
