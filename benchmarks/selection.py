"""Model-selection study: how much test accuracy does picking the epoch by noisy validation accuracy
lose? Not a test: it trains, then measures (docs/method.md, "Model selection").

The trainer selects the epoch with the best mean accuracy over `val_mc_runs` fixed validation chips
(noise samples). One chip's accuracy varies by 10-20 points at sigma 0.3, so that best is a noisy
maximum. For each method and seed this trains one run with neft's trainer, keeping every epoch's
weights and its per-chip validation accuracies (the largest chip count asked for); validation chip r
depends on (seed, sigma, r) only, so the first k chips are exactly what `val_mc_runs: k` would see.
Each epoch's weights are then measured on the test set with `--test-runs` chips. Selection error of a
scheme (k chips, or the last epoch) = test accuracy of the best epoch - test accuracy of the epoch the
scheme picks. Each disjoint group of k of the validated chips counts as one k-chip selection (16
chips give 4 selections with 4 chips, 2 with 8, 1 with 16).

    python benchmarks/selection.py --json selection.json          # CPU-sized defaults (~40 min, 2 cores)
    python benchmarks/selection.py --width 1 --epochs 30 --train-subset 0 --test-subset 0 --device cuda
"""

import argparse
import json
import logging
import statistics
import tempfile
from pathlib import Path

from neft import trainer
from neft.config import TrainConfig
from neft.data import evaluation_data
from neft.device import resolve_device
from neft.mc import mc_evaluate
from neft.models import build_model
from neft.provenance import provenance


def train_keeping_epochs(cfg: TrainConfig) -> tuple[dict, list[dict]]:
    """neft's training of `cfg`, plus each epoch's weights and per-chip validation accuracies. The
    trainer validates every epoch through `trainer.mc_evaluate` (tag "val"); a wrapper sees the model
    right then."""
    epochs, validate = [], trainer.mc_evaluate

    def validate_and_keep(model, *args, **kwargs):
        results = validate(model, *args, **kwargs)
        epochs.append(
            {
                "state": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
                "val_chips": results[0].accuracy,
            }
        )
        return results

    trainer.mc_evaluate = validate_and_keep
    try:
        with tempfile.TemporaryDirectory() as out:
            summary = trainer.train(cfg, out)
    finally:
        trainer.mc_evaluate = validate
    return summary, epochs


def first_best(values: list[float]) -> int:
    """Index of the first maximum: the trainer keeps an epoch only if it beats the best so far."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def study_run(cfg: TrainConfig, chips: list[int], test_x, test_y, test_runs: int, eval_seed: int) -> dict:
    summary, epochs = train_keeping_epochs(cfg)
    device = resolve_device(cfg.device)
    law = cfg.noise_law()
    test = []
    for epoch in epochs:
        model = build_model(**summary["model_args"]).to(device)
        model.load_state_dict(epoch["state"])
        test.append(
            mc_evaluate(model, law, test_x.to(device), test_y.to(device), [cfg.sigma_d], test_runs, eval_seed)[0].mean
        )
    # k chips: every disjoint group of k among the validated chips is one k-chip validation (another seed's)
    groups = {k: [range(g * k, (g + 1) * k) for g in range(len(epochs[0]["val_chips"]) // k)] for k in chips}
    picked = {
        f"val {k}": [
            first_best([statistics.fmean(e["val_chips"][i] for i in group) for e in epochs]) for group in groups[k]
        ]
        for k in chips
    } | {"last": [len(epochs) - 1]}
    # the first group of the largest count is what the trainer validated with: it picked the same epoch
    assert summary["selected_epoch"] == picked[f"val {max(chips)}"][0] + 1, (summary["selected_epoch"], picked)
    best = first_best(test)
    return {
        "method": cfg.method,
        "seed": cfg.seed,
        "val_chips": [e["val_chips"] for e in epochs],
        "test": test,
        "chip_std_last_epoch": statistics.stdev(epochs[-1]["val_chips"]),
        "best_epoch": best + 1,
        "picked_epoch": {s: [i + 1 for i in ix] for s, ix in picked.items()},
        "loss_vs_best": {s: [test[best] - test[i] for i in ix] for s, ix in picked.items()},
        "gain_vs_last": {s: [test[i] - test[-1] for i in ix] for s, ix in picked.items()},
    }


def table(runs: list[dict], schemes: list[str]) -> str:
    head = "| scheme | selections | loss vs best epoch: mean | max | gain vs last epoch: mean | min | picks the best |"
    lines = [head, "|" + "---|" * 7]
    for s in schemes:
        loss = [x for r in runs for x in r["loss_vs_best"][s]]
        gain = [x for r in runs for x in r["gain_vs_last"][s]]
        hits = sum(e == r["best_epoch"] for r in runs for e in r["picked_epoch"][s])
        lines.append(
            f"| {s} | {len(loss)} | {statistics.fmean(loss):.2f} | {max(loss):.2f} | "
            f"{statistics.fmean(gain):+.2f} | {min(gain):+.2f} | {hits} of {len(loss)} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="vgg8")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--methods", nargs="+", default=["noise", "ovf"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument(
        "--sigma-d", type=float, default=0.1, help="training sigma_d, also the validation and test sigma"
    )
    parser.add_argument("--width", type=float, default=0.125)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--train-subset", type=int, default=3000, help="training images; 0 = all")
    parser.add_argument("--val-size", type=int, default=1000)
    parser.add_argument("--chips", nargs="+", type=int, default=[4, 8, 16], help="validation chip counts compared")
    parser.add_argument("--test-runs", type=int, default=24, help="test chips per epoch (R)")
    parser.add_argument("--test-subset", type=int, default=1000, help="test images; 0 = all")
    parser.add_argument("--eval-seed", type=int, default=0)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="write every run's per-epoch figures and the table here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    test_x, test_y, _ = evaluation_data(args.dataset, args.data_dir, False, args.test_subset or None)
    runs = []
    for method in args.methods:
        for seed in args.seeds:
            cfg = TrainConfig(
                model=args.model,
                dataset=args.dataset,
                method=method,
                sigma_d=args.sigma_d,
                seed=seed,
                width=args.width,
                epochs=args.epochs,
                train_subset=args.train_subset or None,
                val_size=args.val_size,
                val_mc_runs=max(args.chips),
                data_dir=args.data_dir,
                download=False,
                device=args.device,
                num_workers=0,
                checkpoint_every_s=1e9,
            )
            runs.append(study_run(cfg, args.chips, test_x, test_y, args.test_runs, args.eval_seed))
            r = runs[-1]
            print(
                f"{method} seed {seed}: test % per epoch {[round(t, 1) for t in r['test']]}, one validation chip's "
                f"std {r['chip_std_last_epoch']:.1f} points, picked {r['picked_epoch']}",
                flush=True,
            )
    schemes = [f"val {k}" for k in args.chips] + ["last"]
    text = table(runs, schemes)
    print(
        f"\nselection error in test points at sigma {args.sigma_d} ({len(runs)} runs, {args.test_runs} test chips "
        f"on {len(test_y)} images; validation on {args.val_size} images)\n{text}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                    "runs": runs,
                    "table": text,
                    "provenance": provenance(resolve_device(args.device)),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
