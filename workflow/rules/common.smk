# Helpers of the rules: the config (extends, schema validation, one-line errors), the runs a config
# asks for, and the options each run passes to `python -m neft`.
import math
import os
import re
import shlex
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def merge(base, over):
    """`over` on top of `base`, key by key: nested mappings merge, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merge(out[key], value) if both else value
    return out


def resolve_extends(values, chain):
    """A config whose `extends` names another file: that file's values, overridden by this one's. `chain`:
    the files read so far, the one holding `values` last."""
    path = values.get("extends")
    if not path:
        return values
    if not isinstance(path, str):
        raise WorkflowError(f"config key extends: a config file path, got {path!r}")
    if Path(path).resolve() in [Path(p).resolve() for p in chain]:
        raise WorkflowError(f"config file {chain[-1]}: extends {path}, which closes a cycle ({' -> '.join([*chain, path])})")
    try:
        base = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, ValueError, yaml.YAMLError) as e:  # ValueError: not UTF-8
        raise WorkflowError(f"config key extends: cannot read {path} ({' '.join(str(e).split())})") from None
    if not isinstance(base, dict):
        raise WorkflowError(f"config key extends: {path} is not a mapping of keys to values")
    return merge(resolve_extends(base, (*chain, path)), {k: v for k, v in values.items() if k != "extends"})


def non_finite(value, key=""):
    """(key, number) of the first NaN or infinite number in `value` (JSON Schema cannot say 'finite')."""
    if isinstance(value, float) and not math.isfinite(value):
        return key, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for k, v in items:
        found = non_finite(v, f"{key}[{k}]" if isinstance(k, int) else f"{key}.{k}".lstrip("."))
        if found:
            return found
    return None


def checked(values):
    """The config with every default filled in; a bad key stops the run before any job, in one line."""
    values = resolve_extends(dict(values), tuple(os.path.relpath(p) for p in workflow.configfiles) or ("the config",))
    found = non_finite(values)
    if found:
        raise WorkflowError(f"config key {found[0] or '(top level)'}: {found[1]} is not a finite number")
    try:
        validate(values, "../schemas/config.schema.yaml")
    except WorkflowError as e:
        error = e.__context__  # the jsonschema ValidationError, with the path of the bad key
        if not hasattr(error, "absolute_path"):
            raise
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        hint = f" ({error.schema['description']})" if error.validator in ("anyOf", "oneOf") else ""
        raise WorkflowError(f"config key {key or '(top level)'}: {error.message}{hint}") from None
    return values


_config = checked(config)
config.clear()
config.update(_config)
NAME = config["name"]
ABLATIONS, CONVERGENCE, EVAL = config["ablations"], config["convergence"], config["eval"]

wildcard_constraints:
    name=re.escape(NAME),
    model="[a-z0-9_]+",
    dataset="[a-z0-9_]+",
    variant="[a-z]+(-[a-z]+[0-9.]*)?",
    method="[a-z]+",
    sigma_d="[0-9.]+",
    seed="[0-9]+",


# --- run names: <model>/<dataset>/<variant>/sd<sigma_d>/seed<seed> (the layout neft/aggregate.py reads)
VARIANT = re.compile(r"(?P<method>[a-z]+)(?:-(?P<tag>[a-z]+?)(?P<value>[0-9.]*))?")


def num(x):
    """A number as it appears in a path: 0.3 -> '0.3', 1e-4 -> '0.0001', 0 -> '0'."""
    return f"{float(x):.12f}".rstrip("0").rstrip(".")


def run_id(model, dataset, variant, sigma_d, seed):
    return f"{model}/{dataset}/{variant}/sd{num(sigma_d)}/seed{seed}"


def main_runs():
    """W/O Noise once at sigma_d = 0; every other method at each sigma_d."""
    for e in config["experiments"]:
        for seed in config["seeds"]:
            for method in config["methods"]:
                for s in [0] if method == "vanilla" else config["sigma_d"]:
                    yield run_id(e["model"], e["dataset"], method, s, seed)


def ablation_runs():
    """Table 1, Table 2 and the other ablations, with the NFT runs and the W/O Noise model they need."""
    a = ABLATIONS
    if not a["enabled"]:
        return
    for seed in a["seeds"]:
        at = lambda variant, s=a["sigma_d"]: run_id(a["model"], a["dataset"], variant, s, seed)
        yield at("vanilla", 0)
        for method in ("ovf", "irs"):
            yield at(method)
            yield from (at(f"{method}-n{n}") for n in a["n_feedback"][method])
            yield from (at(f"{method}-pre{k}") for k in a["pretrained_epochs"])
            if a["reversed_decay"]:
                yield at(f"{method}-revdecay")
        if a["reversed_delta_sigma"] is not None:
            yield at("ovf-revsigma")
        if a["irs_without_head_noise"]:
            yield at("irs-noheadnoise")
        if a["init_sensitivity"]:
            yield at("vanilla-initpytorch", 0)
            yield from (at(f"{method}-initpytorch") for method in ("noise", "ovf", "irs"))


def convergence_runs():
    c = CONVERGENCE
    if c["enabled"]:
        for seed in c["seeds"]:
            for method in c["methods"]:
                yield run_id(c["model"], c["dataset"], method, c["sigma_d"], seed)


# every trained model that is evaluated; identical runs of different parts of the grid are one run
EVALUATED = sorted(set(main_runs()) | set(ablation_runs()) | set(convergence_runs()))


def searched(run):
    """(model, dataset, method) of a run whose method takes its beta from the beta_search rule."""
    model, dataset, variant = Path(run).parts[:3]
    method = VARIANT.fullmatch(variant)["method"]
    return (model, dataset, method) if config["beta"].get(method) == "search" else None


SEARCHES = sorted({searched(r) for r in EVALUATED} - {None})


def beta_candidates(model, dataset, method):
    s = config["beta_search"]
    return [run_id(model, dataset, f"{method}-beta{num(b)}", s["sigma_d"], seed) for b in s["grid"] for seed in s["seeds"]]


# --- the options of one run, from its wildcards
def pretrained_model(w):
    return f"results/{w.name}/runs/{run_id(w.model, w.dataset, 'vanilla', 0, w.seed)}/model.pt"


ABLATION_OPTIONS = {  # variant tag -> what it changes (see neft/aggregate.py)
    "n": lambda value, w: {"n_feedback": int(value)},
    "pre": lambda value, w: {"epochs": int(value), "init_from": pretrained_model(w)},
    "revdecay": lambda value, w: {"reverse_decay": True},
    "revsigma": lambda value, w: {"delta_sigma": ABLATIONS["reversed_delta_sigma"]},
    "noheadnoise": lambda value, w: {"head_sigma": 0.0},
    "beta": lambda value, w: {"beta": float(value)},
    "initpytorch": lambda value, w: {"init": "pytorch"},
}


def parse_variant(variant):
    m = VARIANT.fullmatch(variant)
    if not m or (m["tag"] and m["tag"] not in ABLATION_OPTIONS):
        raise WorkflowError(f"unknown run variant {variant!r}: a method, or method-<tag> with tag in {sorted(ABLATION_OPTIONS)}")
    return m["method"], m["tag"], m["value"]


def flags(options):
    """{'sigma_d': 0.3, 'reverse_decay': True, 'lr': None} -> '--lr none --reverse-decay --sigma-d 0.3'"""
    out = []
    for key, value in sorted(options.items()):
        flag = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            out.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, list):
            out.append(" ".join([flag, *map(str, value)]))
        else:
            out.append(f"{flag} {'none' if value is None else shlex.quote(str(value))}")
    return " ".join(out)


def execution(*keys):
    return {k: config["execution"][k] for k in keys}


def fetched(w):
    """The dataset is in place before any job reads it; its date never reruns anything (ancient)."""
    return ancient(f"results/{w.name}/datasets/{w.dataset}.json")


def train_inputs(w):
    method, tag, _ = parse_variant(w.variant)
    inputs = {"data": fetched(w)}
    if tag == "pre":
        inputs["pretrained"] = pretrained_model(w)
    if tag != "beta" and config["beta"].get(method) == "search":
        inputs["beta"] = f"results/{w.name}/beta/{w.model}/{w.dataset}/{method}.yaml"
    return inputs


def train_flags(w):
    """Every option of the run, so that changing any of them reruns exactly the runs it changes."""
    method, tag, value = parse_variant(w.variant)
    options = dict(config["train"], model=w.model, dataset=w.dataset, method=method, sigma_d=float(w.sigma_d),
                   seed=int(w.seed), **execution("device", "data_dir", "download", "num_workers", "checkpoint_every_s"))
    beta = config["beta"].get(method)
    if not isinstance(beta, str) and beta is not None:
        options["beta"] = beta
    if tag:
        options.update(ABLATION_OPTIONS[tag](value, w))
    picked = train_inputs(w).get("beta")  # a YAML `beta: <the search's pick>`
    return flags(options) + (f" --config {shlex.quote(picked)}" if picked else "")


def eval_sigmas(w):
    """W/O Noise: the whole grid and every sigma_d a table reads it at; others: the grid or their own sigma_d.
    Every model also at sigma = 0 (its clean accuracy: one run)."""
    own = {0.0, float(w.sigma_d)}
    if parse_variant(w.variant)[0] == "vanilla":
        ablation = {ABLATIONS["sigma_d"]} if ABLATIONS["enabled"] else set()  # Table 2's pre+0, the init table
        return sorted(set(EVAL["sigmas"]) | set(config["sigma_d"]) | ablation | own)
    return sorted(set(EVAL["sigmas"]) | own) if EVAL["full_grid"] else sorted(own)


def eval_flags(w):
    options = {k: EVAL[k] for k in ("runs", "seed", "batch_size", "test_subset", "precision")}
    return flags(dict(options, sigmas=[num(s) for s in eval_sigmas(w)], **execution("device", "data_dir", "download")))


def model_file(path):
    """model.pt, deleted once evaluated when keep_models is false (its MC results stay valid)."""
    return path if config["keep_models"] else temp(path)


# --- what the analysis steps read
def mc_files(runs):
    return [f"results/{NAME}/mc/{r}.json" for r in runs]


def benchmark_files():
    trained = EVALUATED + [c for s in SEARCHES for c in beta_candidates(*s)]
    return ([f"results/{NAME}/benchmarks/train/{r}.tsv" for r in trained]
            + [f"results/{NAME}/benchmarks/evaluate/{r}.tsv" for r in EVALUATED])


def seeds_flag(option, seeds):
    return f"{option} {' '.join(map(str, seeds))}"


GRID_FLAGS = f"--sigma-d {' '.join(map(num, config['sigma_d']))} {seeds_flag('--seeds', config['seeds'])}"
# a dataset standing in for the paper's: named so in the figures and tables, its claims checked in the report
STAND_INS = config["report"]["stand_ins"]
STAND_IN_FLAGS = f"--stand-in {' '.join(f'{k}={v}' for k, v in STAND_INS.items())}" if STAND_INS else ""


def setting_flags(block, option="--setting", seeds="--seeds"):
    """--setting MODEL DATASET SIGMA_D --seeds ... of the ablations or the convergence count ('' when it is
    disabled: its tables then say 'not run')."""
    if not block["enabled"]:
        return ""
    return f"{option} {block['model']} {block['dataset']} {num(block['sigma_d'])} {seeds_flag(seeds, block['seeds'])}"


def report_flags():
    beta = " ".join(f"{m}={config['beta'].get(m, 'default')}" for m in ("ovf", "irs"))
    out = [GRID_FLAGS, f"--name {NAME}", f"--threshold {CONVERGENCE['threshold']}", f"--beta {beta}"]
    out.append(setting_flags(ABLATIONS, "--ablation", "--ablation-seeds"))
    out.append(setting_flags(CONVERGENCE, "--convergence", "--convergence-seeds"))
    if CONVERGENCE["enabled"]:
        out.append(f"--convergence-methods {' '.join(CONVERGENCE['methods'])}")
    return " ".join([*out, STAND_IN_FLAGS])


# the tables of the ablation setting (one wildcard rule) and their labels in the Snakemake report
ABLATION_TABLES = {"table1": "Table 1", "table2": "Table 2", "ablations": "Ablations", "init": "Initialisation"}
TABLES = [*ABLATION_TABLES, "convergence", "beta_search"]


# Snakemake report labels; of two formats the report shows the first in sort order
FIGURE_FORMATS = {"png": "image (PNG)", "pdf": "vector (PDF)"}
TABLE_FORMATS = {"html": "HTML", "csv": "CSV", "tex": "LaTeX"}  # .md is for report.md


def figure_outputs(name, label):
    return {ext: report(f"figures/{NAME}/{name}.{ext}", caption=f"../report/{name}.rst", category="Figures",
                        labels={"figure": label, "format": fmt}) for ext, fmt in FIGURE_FORMATS.items()}



def table_files(name):
    return [f"results/{NAME}/tables/{name}.{ext}" for ext in ("csv", "md", "html", "tex")]


def table_outputs(name, label):
    """A table rule's outputs: .md for report.md, the others also in the Snakemake report. `label` may be a
    function of the wildcards (a wildcard rule's tables)."""

    def labels(fmt):
        return (lambda w: {"table": label(w), "format": fmt}) if callable(label) else {"table": label, "format": fmt}

    shown = {ext: report(f"results/{NAME}/tables/{name}.{ext}", category="Tables", labels=labels(fmt))
             for ext, fmt in TABLE_FORMATS.items()}
    return dict(md=f"results/{NAME}/tables/{name}.md", **shown)
