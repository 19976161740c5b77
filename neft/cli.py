"""Command line: `python -m neft train|evaluate|list`. Options mirror the config dataclasses; a YAML
file given with --config sets them too (flags win). Bad input -> one line on stderr, exit 2."""
import argparse
import dataclasses
import logging
import sys
from pathlib import Path

import yaml

from .config import EvalConfig, TrainConfig, field_type, from_dict
from .errors import ConfigError, NeftError


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        sys.stderr.write(f"neft: error: {message} (see --help)\n")
        sys.exit(2)


def none_or(tp):
    def parse(text: str):
        return None if text.lower() in ("none", "null") else tp(text)
    parse.__name__ = tp.__name__
    return parse


def add_config_options(parser: argparse.ArgumentParser, cls) -> None:
    for f in dataclasses.fields(cls):
        tp, optional = field_type(f)
        flag = "--" + f.name.replace("_", "-")
        kw = dict(dest=f.name, default=argparse.SUPPRESS, help=f"{f.metadata['help']} (default: {f.default if f.default is not dataclasses.MISSING else f.default_factory()})")
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif getattr(tp, "__origin__", None) is list:
            parser.add_argument(flag, nargs="+", type=float, metavar="X", **kw)
        else:
            parser.add_argument(flag, type=none_or(tp) if optional else tp, metavar=tp.__name__.upper(), **kw)


def build_config(cls, args: argparse.Namespace):
    values = {}
    if args.config:
        try:
            loaded = yaml.safe_load(Path(args.config).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read config file {args.config}: {' '.join(str(e).split())[:200]}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{args.config}: expected a mapping of keys to values")
        values.update(loaded)
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})
    return from_dict(cls, values, where=args.config or "options")


def make_parser() -> Parser:
    parser = Parser(prog="python -m neft", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("train", help="train one model (model x dataset x method x sigma_d x seed)")
    p.add_argument("--out", required=True, help="run folder: model.pt, train.json, checkpoint.pt while running")
    p.add_argument("--resume", action="store_true", help="continue from out/checkpoint.pt if present")
    p.add_argument("--config", help="YAML file of train options")
    add_config_options(p, TrainConfig)
    p = sub.add_parser("evaluate", help="Monte-Carlo noisy inference of a trained model over a sigma grid")
    p.add_argument("--model", required=True, help="model.pt written by train")
    p.add_argument("--out", required=True, help="result JSON (every run, summary per sigma, provenance)")
    p.add_argument("--csv", help="also write a tidy CSV, one row per sigma")
    p.add_argument("--config", help="YAML file of evaluate options")
    add_config_options(p, EvalConfig)
    sub.add_parser("list", help="list the registered models, methods, datasets and device kinds")
    return parser


def run(args: argparse.Namespace) -> None:
    if args.command == "train":
        from .trainer import sigterm_checkpoints, train
        cfg = build_config(TrainConfig, args)
        with sigterm_checkpoints() as stop:
            result = train(cfg, args.out, resume=args.resume, stop=stop)
        logging.getLogger("neft").info("%s: %s, selected epoch %s", args.out, result["status"], result["selected_epoch"])
    elif args.command == "evaluate":
        from .evaluate import evaluate
        cfg = build_config(EvalConfig, args)
        result = evaluate(args.model, cfg, args.out, args.csv)
        for r in result["results"]:
            print(f"sigma {r['sigma']:.3f}: {r['mean']:.2f} +- {r['ci95']:.2f} % (std {r['std']:.2f}, R={r['runs']}), "
                  f"EKL {r['ekl']:.4f}")
    else:
        from .datasets import DATASETS
        from .methods import METHODS
        from .models import MODELS
        from .noise import DEVICE_KINDS
        for registry in (MODELS, METHODS, DATASETS, DEVICE_KINDS):
            print(f"{registry.kind}s: {', '.join(registry.names())}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    args = make_parser().parse_args(argv)
    try:
        run(args)
    except NeftError as e:
        sys.stderr.write(f"neft: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("neft: interrupted\n")
        return 130
    except Exception as e:
        from .trainer import Interrupted
        if isinstance(e, Interrupted):
            sys.stderr.write(f"neft: {e}\n")
            return 143
        raise
    return 0
