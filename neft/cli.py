"""Command line: `python -m neft train|evaluate|list`, and the pipeline's steps
`fetch|aggregate|beta-search|figures|tables|report|html` (all but fetch in neft/analysis/). Each command
is one entry of COMMANDS: its options, what it runs, the paths it reads and writes. Options of train and
evaluate mirror the config dataclasses; a YAML file given with --config sets them too (flags win). Bad
input -> one line on stderr, exit 2."""

import argparse
import dataclasses
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import yamlfile
from .config import EvalConfig, TrainConfig, check_integer, check_number, field_type, from_dict
from .errors import ConfigError, NeftError, one_line
from .io import check_paths, check_readable
from .layout import RUN_FILES


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)  # a misspelt option is an error, not a guess
        # '-1e-12', '-inf' are values, not options (argparse's own pattern knows only -1 and -.5)
        self._negative_number_matcher = re.compile(
            r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE
        )

    def error(self, message: str):  # one line, no usage dump
        sys.stderr.write(f"neft: error: {message} (see --help)\n")
        sys.exit(2)


def typed(tp, flag: str):
    """Parse one value of `flag`: int and float values are checked to be usable numbers (ConfigError)."""

    def parse(text: str):
        value = tp(text)  # ValueError -> argparse's "invalid <tp> value"
        check = {int: check_integer, float: check_number}.get(tp)
        if check:
            check(flag, value)
        return value

    parse.__name__ = tp.__name__
    return parse


def path(flag: str):
    def parse(text: str) -> str:
        if not text.strip():
            raise ConfigError(f"{flag} is empty; give a path")
        return text

    return parse


def none_or(parse):
    def parse_or_none(text: str):
        return None if text.lower() in ("none", "null") else parse(text)

    parse_or_none.__name__ = parse.__name__
    return parse_or_none


def add_config_options(parser: argparse.ArgumentParser, cls) -> None:
    for f in dataclasses.fields(cls):
        tp, optional = field_type(f)
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kw = dict(dest=f.name, default=argparse.SUPPRESS, help=f"{f.metadata['help']} (default: {default})")
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif getattr(tp, "__origin__", None) is list:
            parser.add_argument(flag, nargs="+", type=typed(float, flag), metavar="X", **kw)
        else:
            parse = typed(tp, flag)
            parser.add_argument(flag, type=none_or(parse) if optional else parse, metavar=tp.__name__.upper(), **kw)


def build_config(cls, args: argparse.Namespace):
    values = {}
    if args.config:
        check_readable("--config", args.config)  # before it is read: a FIFO would wait forever
        try:
            loaded = yamlfile.read(args.config) or {}
        except UnicodeDecodeError as e:
            raise ConfigError(
                f"cannot read config file {args.config}: not UTF-8 text (byte 0x{e.object[e.start]:02x} "
                f"at offset {e.start}); save it as UTF-8"
            ) from None
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read config file {args.config}: {one_line(e, 200)}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{args.config}: expected a mapping of keys to values")
        values.update(loaded)
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})
    return from_dict(cls, values, where=args.config or "options")


# --- the commands: each declares its options, what it does, and the paths it reads and writes (argument
# names, checked by io.check_paths before any work)
@dataclass(frozen=True)
class Command:
    help: str
    options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, object], None]  # (arguments, the config built from them, if any)
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    config: type | None = None  # TrainConfig, EvalConfig: the options (and --config file) build one


def train_options(p) -> None:
    p.add_argument(
        "--out", required=True, type=path("--out"), help="run folder: model.pt, train.json, checkpoint.pt while running"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from out/checkpoint.pt if present; a finished run: nothing to do",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="train anew into a folder holding another run (model.pt, train.json, checkpoint.pt), replacing it",
    )
    p.add_argument("--config", type=path("--config"), help="YAML file of train options")
    add_config_options(p, TrainConfig)


def run_train(args, cfg) -> None:
    from .trainer import checkpoint_on_signals, train

    if args.resume and args.overwrite:
        raise ConfigError("--resume keeps what the run folder holds and --overwrite replaces it; give one of them")
    with checkpoint_on_signals() as stop:
        result = train(cfg, args.out, resume=args.resume, stop=stop, overwrite=args.overwrite)
    logging.getLogger("neft").info("%s: %s, selected epoch %s", args.out, result["status"], result["selected_epoch"])


def evaluate_options(p) -> None:
    p.add_argument(
        "--model",
        required=True,
        nargs="+",
        type=path("--model"),
        help="model.pt written by train; several share one start-up (device, test set, model build)",
    )
    p.add_argument(
        "--out",
        required=True,
        nargs="+",
        type=path("--out"),
        help="result JSON per model (every run, summary per sigma, provenance), written as each is done",
    )
    p.add_argument("--csv", nargs="+", type=path("--csv"), help="also write a tidy CSV per model, one row per sigma")
    p.add_argument("--config", type=path("--config"), help="YAML file of evaluate options")
    add_config_options(p, EvalConfig)


def run_evaluate(args, cfg) -> None:
    from . import evaluate

    for option in ("out", "csv"):
        given = getattr(args, option) or args.model
        if len(given) != len(args.model):
            raise ConfigError(
                f"{len(args.model)} --model files but {len(given)} --{option} files; give one "
                f"--{option} per model, in the same order"
            )
    session = evaluate.Session(cfg)
    for model, out, csv in zip(args.model, args.out, args.csv or [None] * len(args.model)):
        result = evaluate.evaluate(model, cfg, out, csv, session)
        for r in result["results"]:
            print(
                f"{model + ': ' if len(args.model) > 1 else ''}sigma {r['sigma']:.3f}: {r['mean']:.2f} +- "
                f"{r['ci95']:.2f} % (std {r['std']:.2f}, R={r['runs']}), EKL {r['ekl']:.4f}"
            )


def run_list(args, cfg) -> None:
    from .datasets import DATASETS
    from .methods import METHODS
    from .models import MODELS
    from .noise import DEVICE_KINDS

    for registry in (MODELS, METHODS, DATASETS, DEVICE_KINDS):
        print(f"{registry.kind}s: {', '.join(registry.names())}")


def aggregate_options(p) -> None:
    p.add_argument(
        "files",
        nargs="+",
        type=path("input"),
        help="result JSON files, at ROOT/<model>/<dataset>/<variant>/sd<s>/seed<n>.json",
    )
    p.add_argument("--root", required=True, type=path("--root"), help="the folder the files' layout starts from")
    p.add_argument("--runs", required=True, type=path("--runs"), help="output: one row per run and evaluated sigma")
    p.add_argument(
        "--summary", required=True, type=path("--summary"), help="output: mean, std, CI95 over seeds, diverged counts"
    )


def run_aggregate(args, cfg) -> None:
    from .analysis.aggregate import aggregate

    aggregate(args.files, args.root, args.runs, args.summary)


def fetch_options(p) -> None:
    p.add_argument("dataset", help="dataset registry name")
    p.add_argument(
        "--data-dir", default="data", type=path("--data-dir"), help="folder holding (or receiving) the datasets"
    )
    p.add_argument("--download", action=argparse.BooleanOptionalAction, default=True, help="download missing files")
    p.add_argument("--out", required=True, type=path("--out"), help="output JSON: the dataset's folder and split sizes")


def run_fetch(args, cfg) -> None:
    from .fetch import fetch

    print(fetch(args.dataset, args.data_dir, args.download, args.out))


def beta_search_options(p) -> None:
    p.add_argument(
        "files",
        nargs="+",
        type=path("input"),
        help="train.json of each candidate run (one model/dataset/method/sigma_d)",
    )
    p.add_argument("--out", required=True, type=path("--out"), help="output YAML `beta: X`, for `neft train --config`")
    p.add_argument("--csv", required=True, type=path("--csv"), help="output: the candidates' table")


def run_beta_search(args, cfg) -> None:
    from .analysis.beta_search import search

    print(f"beta = {search(args.files, args.out, args.csv):g}")


def figures_options(p) -> None:
    from .analysis.figures import FIGURES

    p.add_argument("name", choices=list(FIGURES))
    add_analysis_options(p)


def run_figures(args, cfg) -> None:
    from .analysis.figures import figure
    from .analysis.grid import read_grid
    from .analysis.runs import read_runs

    grid = read_grid(args.config)
    figure(args.name, read_runs(args.runs), grid, args.out)


def tables_options(p) -> None:
    from .analysis.tables import TABLES

    p.add_argument("name", choices=list(TABLES))
    add_analysis_options(p, required=False)
    p.add_argument(
        "--search", nargs="*", default=[], type=path("--search"), help="beta: the CSV files written by beta-search"
    )


def run_tables(args, cfg) -> None:
    import pandas as pd

    from .analysis.grid import read_grid
    from .analysis.render import write
    from .analysis.runs import read_runs
    from .analysis.tables import TABLES, beta_search, title

    table = TABLES[args.name]
    if table.setting is None:  # the beta search's, from its CSV files
        write(table, beta_search(args.search), args.out, table.title)
        return
    if args.runs is None or args.config is None:
        raise ConfigError(f"tables {args.name} needs --runs (runs.csv) and --config (the grid's config.json)")
    grid = read_grid(args.config)  # its one line before runs.csv's
    runs, where = read_runs(args.runs), table.where(grid)
    long = table.build(runs, grid) if where is not None or table.grid else pd.DataFrame()
    write(table, long, args.out, title(args.name, where, runs, grid.stand_ins))


def html_options(p) -> None:
    p.add_argument("source", type=path("source"), help="Markdown file; the images it shows are embedded")
    p.add_argument("--out", required=True, type=path("--out"), help="output HTML file")


def run_html(args, cfg) -> None:
    from .analysis.html import render

    render(args.source, args.out)


def report_options(p) -> None:
    add_analysis_options(p)
    p.add_argument("--figures", nargs="*", default=[], type=path("--figures"), help="figure files to show")
    p.add_argument("--tables", nargs="*", default=[], type=path("--tables"), help="table files to link")
    p.add_argument(
        "--benchmarks",
        nargs="*",
        default=[],
        type=path("--benchmarks"),
        help="Snakemake benchmark files (.../benchmarks/<rule>/...)",
    )


def run_report(args, cfg) -> None:
    from .analysis.grid import read_grid
    from .analysis.report import report
    from .analysis.runs import read_runs

    grid = read_grid(args.config)
    report(read_runs(args.runs), args.out[0], grid, args.figures, args.tables, args.benchmarks)


COMMANDS = {
    "train": Command(
        "train one model (model x dataset x method x sigma_d x seed)",
        train_options,
        run_train,
        reads=("config", "init_from", "data_dir"),
        writes=("out",),
        config=TrainConfig,
    ),
    "evaluate": Command(
        "Monte-Carlo noisy inference of trained models over a sigma grid",
        evaluate_options,
        run_evaluate,
        reads=("model", "config", "data_dir"),
        writes=("out", "csv"),
        config=EvalConfig,
    ),
    "list": Command("list the registered models, methods, datasets and device kinds", lambda p: None, run_list),
    # the pipeline's steps besides train and evaluate (fetch.py and analysis/)
    "aggregate": Command(
        "MC result files -> per-seed rows (runs.csv) and means over seeds (summary.csv)",
        aggregate_options,
        run_aggregate,
        reads=("files", "root"),
        writes=("runs", "summary"),
    ),
    "fetch": Command(
        "download or unpack a dataset into data_dir once, before parallel jobs read it",
        fetch_options,
        run_fetch,
        reads=("data_dir",),
        writes=("out",),
    ),
    "beta-search": Command(
        "pick beta from candidates' validation accuracy (paper Sec. 4.2)",
        beta_search_options,
        run_beta_search,
        reads=("files",),
        writes=("out", "csv"),
    ),
    "figures": Command(
        "Figure 3 (accuracy) or Figure 4 (EKL) vs sigma_d from runs.csv",
        figures_options,
        run_figures,
        reads=("runs", "config"),
        writes=("out",),
    ),
    "tables": Command(
        "Table 1, Table 2, ablations, convergence count or beta search table",
        tables_options,
        run_tables,
        reads=("runs", "config", "search"),
        writes=("out",),
    ),
    "html": Command(
        "a Markdown file (the report, a table) as one self-contained HTML page",
        html_options,
        run_html,
        reads=("source",),
        writes=("out",),
    ),
    "report": Command(
        "the replication report: numbers beside the paper's, verdict per claim",
        report_options,
        run_report,
        reads=("runs", "config", "figures", "tables", "benchmarks"),
        writes=("out",),
    ),
}


def make_parser(command_name: str | None = None) -> Parser:
    """The parser of every command, or with only `command_name`'s options (the analysis commands' options
    import pandas and matplotlib, which train and evaluate need not start)."""
    parser = Parser(prog="python -m neft", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help)
        if command_name in (None, name):
            command.options(p)
    return parser


def add_analysis_options(p, required: bool = True) -> None:
    """What the figures, tables and report read: runs.csv and the grid's checked config; what they write."""
    p.add_argument("--runs", required=required, type=path("--runs"), help="runs.csv written by aggregate")
    p.add_argument(
        "--config",
        required=required,
        type=path("--config"),
        help="the grid's config as the workflow checked it (results/<name>/config.json)",
    )
    p.add_argument("--out", nargs="+", required=True, type=path("--out"), help="output file(s)")


def check_files(args: argparse.Namespace, cfg=None) -> None:
    """No output of the command overwrites one of its inputs, or another of its outputs, and none but train's
    replaces a training run's files (hours of work)."""
    command = COMMANDS[args.command]

    def named(names):
        for name in names:
            value = getattr(cfg, name) if hasattr(cfg, name) else getattr(args, name, None)
            option = "input" if name == "files" else "--" + name.replace("_", "-")
            yield from ((option, v) for v in (value if isinstance(value, list) else [value]) if v is not None)

    if args.command == "train":  # --out is a folder: the run's files are what is written
        check_paths(list(named(command.reads)), [("--out", str(Path(args.out) / name)) for name in RUN_FILES])
        return
    outputs = list(named(command.writes))
    check_paths(list(named(command.reads)), outputs)
    for option, path in outputs:
        real = Path(os.path.realpath(path))
        if real.name in RUN_FILES and any((real.parent / name).exists() for name in RUN_FILES):
            raise NeftError(
                f"{option} {path} would replace a file of the training run in {Path(path).parent}; give another "
                f"{option}"
            )


def run(args: argparse.Namespace) -> None:
    command = COMMANDS[args.command]
    cfg = build_config(command.config, args) if command.config else None
    check_files(args, cfg)
    command.run(args, cfg)


def release(error: BaseException) -> None:
    """Drop what the frames of `error` (and the errors it chains) hold, so that a DataLoader caught in
    them stops its workers now. Left to interpreter shutdown, the workers may never be told to stop
    (Python 3.12 cannot start the thread that does it), and exit waits forever for them, since they
    ignore the stop signals (data.ignore_stop_signals)."""
    while error is not None:
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    code = 0
    try:
        argv = sys.argv[1:] if argv is None else argv
        run(
            make_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
        )  # a value the parser checks (a path, a number) may raise ConfigError
    except NeftError as e:
        # one raised in a DataLoader worker comes back with the worker's traceback: keep its last line
        message = str(e).strip().splitlines()[-1].removeprefix(f"{type(e).__module__}.{type(e).__name__}: ")
        sys.stderr.write(f"neft: error: {message}\n")
        release(e)
        code = 2
    except KeyboardInterrupt as e:
        sys.stderr.write("neft: interrupted\n")
        release(e)
        code = 130
    except Exception as e:
        from .trainer import Interrupted

        if not isinstance(e, Interrupted):
            raise
        sys.stderr.write(f"neft: {e}\n")
        release(e)
        code = 128 + e.signum
    return code
