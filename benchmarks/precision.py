"""bf16 training against TF32 (fp32 on a CPU): the same trainings (VGG-8, W/ Noise, 3 seeds) in each
precision, then every model's noisy test accuracy at its sigma_d (Monte-Carlo, one `neft evaluate` process for
all of them, fp32). bf16 may become a training option only if its seeds agree with the reference's within their
spread: |mean(bf16) - mean(reference)| <= the larger of the two groups' standard deviations over seeds.
--mc-bf16 also evaluates every model with bf16 Monte-Carlo: the paired difference from its fp32 evaluation
(the same noise draws) against the MC error.

    python benchmarks/precision.py --json precision.json          # the GPU: Fashion-MNIST in data/
    OMP_NUM_THREADS=1 python benchmarks/precision.py --device cpu --precisions fp32 bf16 --mc-bf16 \
        --width 0.125 --sigma-d 0.3 --loader resident             # the CPU (the trainings run side by side)
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
from neft.stats import ci95_halfwidth

ROOT = Path(__file__).resolve().parent.parent


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


def paired(bf16: list[float], fp32: list[float]) -> dict:
    """bf16 MC runs against fp32 MC runs of one model under the same noise draws: mean difference and its CI95,
    the largest difference of one run, and the fp32 evaluation's own CI95 (the MC error)."""
    diff = [b - f for b, f in zip(bf16, fp32, strict=True)]
    return {
        "mean": statistics.mean(diff),
        "ci95": ci95_halfwidth(statistics.stdev(diff), len(diff)),
        "max_abs": max(map(abs, diff)),
        "fp32_ci95": ci95_halfwidth(statistics.stdev(fp32), len(fp32)),
    }


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
    parser.add_argument("--loader", default="auto", help="auto, torchvision or resident (neft/data.py)")
    parser.add_argument(
        "--precisions", nargs=2, default=["tf32", "bf16"], help="the reference's training precision, then bf16's"
    )
    parser.add_argument("--mc-bf16", action="store_true", help="also evaluate every model with bf16 Monte-Carlo")
    parser.add_argument("--runs", type=int, default=50, help="MC runs per model at its sigma_d")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    common = dict(data_dir=args.data_dir, download=False, device=args.device)
    reference, candidate = args.precisions
    mc_precisions = ["fp32", "bf16"] if args.mc_bf16 else ["fp32"]
    with tempfile.TemporaryDirectory() as tmp:
        runs = {(p, s): Path(tmp) / f"{p}-seed{s}" for p in args.precisions for s in args.seeds}
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
                            loader=args.loader,
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
        results = {(key, mc): out / f"mc-{mc}.json" for key, out in runs.items() for mc in mc_precisions}
        wait(
            [
                neft(
                    "evaluate",
                    *as_flags(
                        dict(
                            common,
                            model=[str(out / "model.pt") for out in runs.values()],
                            out=[str(results[key, mc]) for key in runs],
                            sigmas=[args.sigma_d],
                            runs=args.runs,
                            precision=mc,
                        )
                    ),
                )
                for mc in mc_precisions
            ]
        )
        mc_runs = {key: json.loads(r.read_text())["results"][0]["accuracy"] for key, r in results.items()}
        provenance = json.loads(next(iter(results.values())).read_text())["provenance"]
    by = {p: [statistics.mean(mc_runs[(p, s), "fp32"]) for s in args.seeds] for p in args.precisions}
    mean = {p: statistics.mean(v) for p, v in by.items()}
    spread = max(statistics.stdev(v) if len(v) > 1 else 0.0 for v in by.values())
    agree = abs(mean[candidate] - mean[reference]) <= spread
    for p in args.precisions:
        print(
            f"{p}: noisy accuracy at sigma_d {args.sigma_d} per seed {', '.join(f'{a:.2f}' for a in by[p])}; "
            f"mean {mean[p]:.2f} %"
        )
    print(
        f"{candidate} - {reference} = {mean[candidate] - mean[reference]:+.2f} points, seeds' spread (largest std) "
        f"{spread:.2f}: {'agree' if agree else 'DO NOT agree'} ({args.epochs} epochs, {args.runs} MC runs, "
        f"trained in {trained:.0f} s)"
    )
    mc_bf16 = (
        {f"{p} seed {s}": paired(mc_runs[(p, s), "bf16"], mc_runs[(p, s), "fp32"]) for p, s in runs}
        if args.mc_bf16
        else None
    )
    for model, d in (mc_bf16 or {}).items():
        print(
            f"{model}: bf16 MC - fp32 MC = {d['mean']:+.3f} points (CI95 {d['ci95']:.3f} over {args.runs} paired runs; "
            f"one run differs by at most {d['max_abs']:.2f}); fp32 MC CI95 {d['fp32_ci95']:.3f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    **{k: provenance[k] for k in ("device", "torch", "git_commit")},
                    "date": time.strftime("%Y-%m-%d"),
                    "config": {k: v for k, v in vars(args).items() if k != "json"},
                    "accuracy": by,
                    "mc_bf16_minus_fp32": mc_bf16,
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
