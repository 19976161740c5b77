"""The Snakemake workflow: lint, config validation, the jobs planned for each grid, and the smoke DAG
end to end (its tables and report checked against the MC result files). Each test runs Snakemake in
a temporary copy of the workflow, so no output lands in the repository."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import BOMB
from scipy import stats

from neft import schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = schema.load(SCHEMA_FILE)  # with the train, eval and execution keys of neft/config.py
TABLES = ("table1", "table2", "ablations", "convergence", "beta_search")
RUNS_TABLES = ("table1", "table2", "ablations", "init", "feedback", "convergence")  # read from runs.csv


def copy_workflow(dest: Path) -> Path:
    for name in ("workflow", "config"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copy2(ROOT / "Snakefile", dest / "Snakefile")
    return dest


def snakemake(*args, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """Snakemake of this interpreter; rules find this interpreter's `python` (and neft) first on PATH."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    out.text = out.stdout + out.stderr
    return out


def planned(text: str) -> dict[str, int]:
    """Job counts of a dry run's 'Job stats' table."""
    stats_table = text[text.index("Job stats:") :].split("\n\n")[0] if "Job stats:" in text else ""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats_table, re.M) if m[1] != "total"}


@pytest.fixture
def work(tmp_path):
    return copy_workflow(tmp_path)


def test_lint_is_clean(work):
    out = snakemake("--lint", cwd=work)
    assert out.returncode == 0, out.text
    assert "Congratulations" in out.text


# --- the grid, computed here from the config itself
def expected_runs(cfg: dict) -> tuple[set, set]:
    """(evaluated runs, trained runs) as (model, dataset, variant, sigma_d, seed); runs that several parts
    of the grid ask for count once. The main grid: the methods and, with compute_matched, W/ Noise with
    N + 1 = 4 noise draws per step at every sigma_d."""
    matched = ["noise-draws4"] if cfg["compute_matched"] and "noise" in cfg["methods"] else []
    evaluated = {
        (e["model"], e["dataset"], m, 0.0 if m == "vanilla" else float(s), seed)
        for e in cfg["experiments"]
        for seed in cfg["seeds"]
        for m in cfg["methods"] + matched
        for s in ([0] if m == "vanilla" else cfg["sigma_d"])
    }
    a = cfg["ablations"]
    if a["enabled"]:
        for seed in a["seeds"]:

            def at(variant, sigma=a["sigma_d"], seed=seed):
                return a["model"], a["dataset"], variant, float(sigma), seed

            evaluated |= {at("vanilla", 0), at("ovf"), at("irs")}  # and the main run each variant changes:
            evaluated |= {
                at(f"{m}-{tag}{k}")
                for m in ("ovf", "irs")
                for tag, ks in (("n", a["n_feedback"][m]), ("pre", a["pretrained_epochs"]))
                for k in ks
            }
            evaluated |= {
                at(v)
                for v, on in [
                    ("ovf-revdecay", a["reversed_decay"]),
                    ("irs-revdecay", a["reversed_decay"]),
                    ("ovf-revsigma", a["reversed_delta_sigma"] is not None),
                    ("irs-noheadnoise", a["irs_without_head_noise"]),
                    ("ovf-posfb", a["positive_feedback"]),
                    ("irs-posfb", a["positive_feedback"]),
                ]
                if on
            }
            if a["init_sensitivity"]:
                evaluated |= {
                    at("vanilla-initpytorch", 0),
                    *(at(f"{m}-initpytorch") for m in ("noise", "ovf", "irs")),
                    at("noise"),
                }
    c = cfg["convergence"]
    if c["enabled"]:
        evaluated |= {
            (c["model"], c["dataset"], m, float(c["sigma_d"]), seed) for m in c["methods"] for seed in c["seeds"]
        }
    searched = {
        (mo, d, v.split("-")[0]) for mo, d, v, _, _ in evaluated if cfg["beta"].get(v.split("-")[0]) == "search"
    }
    b = cfg["beta_search"]
    candidates = {
        (mo, d, f"{m}-beta{beta}", float(b["sigma_d"]), seed)
        for mo, d, m in searched
        for beta in b["grid"]
        for seed in b["seeds"]
    }
    return evaluated, evaluated | candidates


def merged(base: dict, over: dict) -> dict:
    return {
        **base,
        **{
            k: merged(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
            for k, v in over.items()
        },
    }


def load_config(name: str) -> dict:
    """A config file, on top of the one it `extends`, with the schema's defaults filled in."""
    cfg = yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())
    if "extends" in cfg:
        cfg = merged(load_config(Path(cfg.pop("extends")).stem), cfg)
    return schema.validate(cfg, schema.load(SCHEMA_FILE))


def test_quick_first_is_a_part_of_quick(work):
    """Its runs are quick's, with the very same commands, so quick goes on from them."""
    first, quick = (expected_runs(load_config(name))[1] for name in ("quick-first", "quick"))
    assert first < quick and len(first) == 2 * (1 + 4 * len(load_config("quick")["sigma_d"]))  # 4 with W/ Noise ×4
    commands = [
        set(
            re.findall(
                r"^Shell command: (python -m neft (?:train|evaluate) .*)$",
                snakemake("-n", "-p", "--configfile", f"config/{name}.yaml", cwd=work).text,
                re.M,
            )
        )
        for name in ("quick-first", "quick")
    ]
    assert len(commands[0]) == 2 * len(first) and commands[0] < commands[1]


def sizes() -> dict[str, tuple[int, int, int]]:
    """BENCHMARKS.md's Grid sizes and times: config -> (trainings, evaluations, all jobs), the docs' one place."""
    text = (ROOT / "BENCHMARKS.md").read_text()
    rows = re.findall(r"^\| config/([\w-]+)\.yaml \| (\d+) \| (\d+) \| (\d+) \|", text, re.M)
    return {name: tuple(map(int, counts)) for name, *counts in rows}


@pytest.mark.parametrize("name", ["paper", "quick", "quick-first", "gpu-first", "cpu", "smoke"])
def test_dry_run_plans_the_grid(work, name):
    """The jobs the grid plans are those the config asks for, and those BENCHMARKS.md says (the docs quote it)."""
    evaluated, trained = expected_runs(load_config(name))
    out = snakemake("-n", "--configfile", f"config/{name}.yaml", cwd=work)
    assert out.returncode == 0, out.text
    jobs = planned(out.text)
    assert (jobs["train"], jobs["evaluate"]) == (len(trained), len(evaluated))
    assert sizes()[name] == (jobs["train"], jobs["evaluate"], sum(jobs.values())), "update BENCHMARKS.md"
    assert not (work / "results").exists()


def test_every_snakemake_target_in_the_docs_is_one_the_workflow_knows(work):
    """`snakemake <target>` in README.md and docs/, and each target of docs/pipeline.md's table, is a rule."""
    known = set(snakemake("--list-rules", cwd=work).text.split())
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    written = {(d.name, m[1]) for d in docs for m in re.finditer(r"snakemake ([a-z_][a-z0-9_]*)\b", d.read_text())}
    pipeline = (ROOT / "docs" / "pipeline.md").read_text()
    table = pipeline[pipeline.index("## Targets") : pipeline.index("### Figures and tables")]
    written |= {("pipeline.md", m[1]) for m in re.finditer(r"^\| `(\w+)`", table, re.M)}
    assert len(written) > 10 and {"figure3", "table1", "report"} <= {t for _, t in written}
    assert not {(doc, target) for doc, target in written if target not in known}


def planned_trainings(text: str) -> dict[str, str]:
    """Run folder under runs/ -> the options of its `neft train`, from a dry run's shell commands (-p)."""
    found = re.finditer(r"python -m neft train --out results/\w+/runs/(\S+) (.*?) > ", text)
    return {m[1]: m[2] for m in found}


def variant_names(cfg: dict) -> set[str]:
    """The variants (method-<tag><value>) of neft/variants.py that the config's `ablations` asks for."""
    from neft.variants import VARIANTS

    return {
        v.name(m, value)
        for v in VARIANTS.values()
        if v.key
        for m in v.methods
        for value in v.values(cfg["ablations"], m)
    }


def test_the_variant_table_plans_and_configures_the_runs(work):
    """Each variant the smoke grid asks for is trained, with the train options its entry in neft/variants.py
    sets (a pretrained one from the W/O Noise model of its seed); with every `ablations` key off, none is."""
    from neft.variants import VARIANTS, parse_variant

    cfg = load_config("smoke")
    out = snakemake("-n", "-p", "--configfile", "config/smoke.yaml", cwd=work)
    runs = planned_trainings(out.text)
    candidates = {f"irs-beta{b:g}" for b in cfg["beta_search"]["grid"]}
    assert len(variant_names(cfg)) >= len(VARIANTS) - 2  # all but the beta candidates and W/ Noise ×4
    main = {"noise-draws4"}  # the compute-matched W/ Noise of the main grid
    assert {Path(r).parts[2] for r in runs if "-" in Path(r).parts[2]} == variant_names(cfg) | candidates | main
    for run, options in runs.items():
        model, dataset, variant, _, seed = Path(run).parts
        method, tag, value = parse_variant(variant)
        if not tag:
            continue
        changes = dict(VARIANTS[tag].options(value, cfg))
        if VARIANTS[tag].pretrained:
            changes["init_from"] = f"results/smoke/runs/{model}/{dataset}/vanilla/sd0/{seed}/model.pt"
        for key, set_to in changes.items():
            flag = f"--{key.replace('_', '-')}"
            assert (f" {flag} " if set_to is True else f" {flag} {set_to} ") in f" {options} ", (run, key)
    off = {
        "reversed_decay": False,
        "reversed_delta_sigma": None,
        "irs_without_head_noise": False,
        "init_sensitivity": False,
        "pretrained_epochs": [],
        "n_feedback": {"ovf": [], "irs": []},
        "positive_feedback": False,
    }
    assert set(off) == {v.key for v in VARIANTS.values() if v.key}
    (work / "off.yaml").write_text(
        f"extends: config/smoke.yaml\ncompute_matched: false\nablations: {json.dumps(off)}\n"
    )
    runs = planned_trainings(snakemake("-n", "-p", "--configfile", "off.yaml", cwd=work).text)
    assert {Path(r).parts[2] for r in runs if "-" in Path(r).parts[2]} == candidates


def test_paper_grid_size():
    evaluated, trained = expected_runs(load_config("paper"))
    # 6 panels x 5 seeds x (1 + 4 trained variants x 8 sigma_d: W/ Noise, W/ Noise ×4, OVF, IRS) + 23 ablation
    # variants x 5 seeds (17 of the paper, 4 of the initialisation sensitivity, 2 positive-feedback controls) + 15
    # new convergence runs
    assert len(trained) == len(evaluated) == 6 * 5 * 33 + 23 * 5 + 15


def test_the_checked_config_is_written_for_the_analysis_and_rewritten_only_when_it_changes(work):
    """results/<name>/config.json is the config as config.smk checked it (every default filled in); the same
    config again, however it is written, leaves the file (and so the analysis) alone."""
    target = "results/smoke/config.json"
    out = snakemake("--cores", "1", target, "--configfile", "config/smoke.yaml", cwd=work)
    assert out.returncode == 0, out.text[-3000:]
    written = work / target
    assert json.loads(written.read_text()) == load_config("smoke")
    made = written.stat().st_mtime_ns
    (work / "same.yaml").write_text("extends: config/smoke.yaml\nseeds: [0, 1]\n")  # smoke's own seeds
    for config in ("config/smoke.yaml", "same.yaml"):
        out = snakemake("--cores", "1", target, "--configfile", config, cwd=work)
        assert "Nothing to be done" in out.text and written.stat().st_mtime_ns == made, out.text[-3000:]
    (work / "other.yaml").write_text("extends: config/smoke.yaml\nconvergence: {threshold: 2.0}\n")
    out = snakemake("--cores", "1", target, "--configfile", "other.yaml", cwd=work)
    assert out.returncode == 0 and json.loads(written.read_text())["convergence"]["threshold"] == 2.0


# --- validation
@pytest.mark.parametrize(
    "override,key",
    [
        ("train: {epoch: 3}", "config key train: Additional properties are not allowed ('epoch' was unexpected)"),
        ("sigmas: [0.1]", "config key (top level): Additional properties are not allowed ('sigmas' was unexpected)"),
        ("sigma_d: [0.3, 1.5]", "config key sigma_d[1]: 1.5 is greater than the maximum of 1"),
        ("ablations: {sigma_d: -0.1}", "config key ablations.sigma_d: -0.1 is less than the minimum of 0"),
        ("eval: {sigmas: [0, 2]}", "config key eval.sigmas[1]: 2 is greater than the maximum of 1"),
        ("experiments: [{model: vgg9, dataset: synthetic}]", "config key experiments[0].model: 'vgg9' is not one of"),
        ("convergence: {dataset: imagenet}", "config key convergence.dataset: 'imagenet' is not one of"),
        ("methods: [noise, ovg]", "config key methods[1]: 'ovg' is not one of"),
        ("beta: {irs: 0}", "config key beta.irs: 0 is not valid under any of the given schemas"),
        ("sigma_d: [.nan]", "config key sigma_d[0]: nan is not a finite number"),  # planned `sdnan` runs before
        ("eval: {sigmas: [0, .inf]}", "config key eval.sigmas[1]: inf is not a finite number"),
        ("train: {lr: .nan}", "config key train.lr: nan is not a finite number"),
        ("convergence: {threshold: .inf}", "config key convergence.threshold: inf is not a finite number"),
        ("eval: {sigmas: [0.1, 0.3, 0.1]}", "config key eval.sigmas: [0.1, 0.3, 0.1] has non-unique elements"),
    ],
)
def test_bad_config_stops_before_any_job_naming_the_key(work, override, key):
    (work / "bad.yaml").write_text(f"extends: config/smoke.yaml\n{override}\n")
    out = snakemake("--cores", "1", "--configfile", "bad.yaml", cwd=work)
    assert out.returncode != 0
    assert key in out.text
    assert "rule train" not in out.text and not (work / "results").exists()


@pytest.mark.parametrize(
    "files,says",
    [
        pytest.param(
            {"bad.yaml": "seeds: [0]\n"}, "config key (top level): 'name' is a required property", id="no-name"
        ),  # planned the whole paper grid into results/paper/ before
        pytest.param(
            {"bad.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: bad.yaml\n"},
            "config file b.yaml: extends bad.yaml, which closes a cycle (bad.yaml -> b.yaml -> bad.yaml)",
            id="extends-cycle",
        ),  # named bad.yaml ("extends itself") before
        pytest.param(
            {"bad.yaml": "extends: bad.yaml\n"},
            "config file bad.yaml: extends bad.yaml, which closes a cycle (bad.yaml -> bad.yaml)",
            id="extends-self",
        ),
        pytest.param(
            {"bad.yaml": "extends: l1.yaml\n", "l1.yaml": "name: x  # réglage\n".encode("latin-1")},
            "config key extends: cannot read l1.yaml ('utf-8' codec can't decode byte 0xe9 in position 12",
            id="extends-not-utf8",
        ),
        pytest.param(
            {"bad.yaml": f"name: bomb\n{BOMB}"},
            "bad.yaml: expands to more than 100000 values (YAML aliases?); write the config out",
            id="alias-bomb",
        ),  # hung (the check for NaN walked every alias)
        pytest.param(
            {"bad.yaml": "extends: b.yaml\n", "b.yaml": BOMB},
            "config key extends: b.yaml: expands to more than 100000 values",
            id="extends-alias-bomb",
        ),
        pytest.param(
            {"bad.yaml": f"extends: config/smoke.yaml\ntrain: [{', '.join(['0'] * 20_000)}]\n"},
            "config key train: [0, 0, 0, 0",
            id="long-value-shortened",
        ),
    ],
)
def test_bad_config_file_stops_before_any_job_naming_it(work, files, says):
    for name, content in files.items():
        (work / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    out = snakemake("-n", "--configfile", "bad.yaml", cwd=work)
    assert out.returncode != 0 and says in out.text and len(out.text) < 5000, out.text[-2000:]
    assert "rule train" not in out.text and not (work / "results").exists()


def properties(schema: dict, path: str = ""):
    """(path, subschema) of every key the schema defines, nested objects and array items included."""
    for name, sub in schema.get("properties", {}).items():
        yield f"{path}{name}", sub
        yield from properties(sub, f"{path}{name}.")
        yield from properties(sub.get("items", {}), f"{path}{name}[].")
    for name, sub in schema.get("$defs", {}).items():
        yield from properties(sub, f"$defs.{name}.")


def test_every_key_is_typed_described_defaulted_and_closed():
    resolved = {f"#/$defs/{k}": v for k, v in SCHEMA["$defs"].items()}
    for path, sub in properties(SCHEMA):
        full = {**resolved.get(sub.get("$ref"), {}), **sub}
        assert "default" in sub or path in SCHEMA["required"], path
        assert "description" in full, path
        assert {"type", "anyOf", "enum"} & set(full), path
        if full.get("type") == "object" and "properties" in full:
            assert full.get("additionalProperties") is False, path


def test_neft_options_are_declared_once():
    """train, eval and execution name their keys; each key's schema is its neft/config.py field's, none is
    written out in the schema file too."""
    import dataclasses

    from neft.config import EvalConfig, TrainConfig

    raw = yaml.safe_load(SCHEMA_FILE.read_text())["properties"]
    for section, cls in [("train", TrainConfig), ("eval", EvalConfig), ("execution", TrainConfig)]:
        keys = raw[section]["options_of"]["keys"]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert set(keys) <= set(fields) and not set(keys) & set(raw[section].get("properties", {})), section
        for key in keys:
            assert SCHEMA["properties"][section]["properties"][key] == schema.field_schema(fields[key])


def outside(f) -> list:
    """Values just outside the limits a neft/config.py field declares (opt)."""
    from neft.config import field_type

    tp, _ = field_type(f)
    step = 1 if tp is int else 0.5
    limits = f.metadata
    bad = ["nope"] if {"choices", "pattern", "registry"} & set(limits) else []
    bad += [limits["minimum"] - step] if "minimum" in limits else []
    bad += [limits["maximum"] + step] if "maximum" in limits else []
    bad += [limits["above"]] if "above" in limits else []
    return [[v] for v in bad] if "list" in str(tp) else bad


@pytest.mark.parametrize("section", ["train", "eval", "execution"])
def test_the_schema_and_neft_refuse_the_same_values(section):
    """Each limit a key's field declares: the schema refuses a value just outside it, and so does neft itself;
    the default passes both."""
    import dataclasses

    from jsonschema import ValidationError

    from neft.config import EvalConfig, TrainConfig, from_dict
    from neft.errors import ConfigError

    cls = EvalConfig if section == "eval" else TrainConfig
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = yaml.safe_load(SCHEMA_FILE.read_text())["properties"][section]["options_of"]["keys"]
    cases = [(key, value) for key in keys for value in outside(fields[key])]
    assert len(cases) >= 3
    for key, value in cases:
        with pytest.raises(ValidationError):
            schema.validate({"name": "x", section: {key: value}}, schema.load(SCHEMA_FILE))
        with pytest.raises(ConfigError):
            from_dict(cls, {key: value})
    defaults = {key: SCHEMA["properties"][section]["properties"][key]["default"] for key in keys}
    schema.validate({"name": "x", section: dict(defaults)}, schema.load(SCHEMA_FILE))
    from_dict(cls, defaults)


def test_environments_follow_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    rule_env = yaml.safe_load((ROOT / "workflow" / "envs" / "neft.yaml").read_text())
    pip = next(d["pip"] for d in rule_env["dependencies"] if isinstance(d, dict))
    assert pip == project["dependencies"]
    dev_env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert {"pip": ["-e .[workflow,test]"]} in dev_env["dependencies"]
    assert set(project["optional-dependencies"]) >= {"workflow", "test"}


# --- the smoke DAG, once for the tests below
@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("smoke"))
    started = time.monotonic()
    out = snakemake("--cores", "2", "--configfile", "config/smoke.yaml", cwd=work, timeout=900)
    assert out.returncode == 0, out.text[-5000:]
    print(f"smoke DAG: {time.monotonic() - started:.0f} s")
    assert "The replication report: results/smoke/report.html" in out.text  # the Snakefile's onsuccess says where
    return work


def mc_mean(work: Path, variant: str, seed: int, sigma_d: float = 0.3, at: float = 0.3) -> float:
    result = json.loads((work / f"results/smoke/mc/vgg8/synthetic/{variant}/sd{sigma_d:g}/seed{seed}.json").read_text())
    return next(r["mean"] for r in result["results"] if r["sigma"] == at)


@pytest.mark.slow
def test_smoke_makes_every_output(smoke):
    for path in [
        "figures/smoke/figure3.png",
        "figures/smoke/figure3.csv",
        "figures/smoke/figure3.pdf",
        "figures/smoke/figure4.png",
        "figures/smoke/figure4.pdf",
        "results/smoke/report.md",
        "results/smoke/report.html",
        *(f"results/smoke/tables/{t}.{ext}" for t in TABLES for ext in ("csv", "md", "html", "tex")),
    ]:
        assert (smoke / path).stat().st_size > 0, path
    # keep_models: false -> every model.pt was a temp file, gone once evaluated; train.json stays
    assert not list((smoke / "results/smoke/runs").rglob("model.pt"))
    assert len(list((smoke / "results/smoke/runs").rglob("train.json"))) == len(expected_runs(load_config("smoke"))[1])
    # each job computes on the threads its rule is given (smoke: 1; Snakemake sets OMP_NUM_THREADS, torch follows)
    results = [*(smoke / "results/smoke/runs").rglob("train.json"), *(smoke / "results/smoke/mc").rglob("*.json")]
    assert all(json.loads(f.read_text())["provenance"]["device"].endswith(", 1 threads)") for f in results)


@pytest.mark.slow
def test_smoke_tables_equal_the_mc_result_files(smoke):
    tables = {t: pd.read_csv(smoke / f"results/smoke/tables/{t}.csv") for t in TABLES[:4]}
    t1 = tables["table1"].set_index(["method", "n_feedback"])["mean"]
    assert t1["ovf", 1] == mc_mean(smoke, "ovf-n1", 0) and t1["ovf", 3] == mc_mean(smoke, "ovf", 0)
    assert t1["irs", 1] == mc_mean(smoke, "irs-n1", 0) and t1["irs", 3] == mc_mean(smoke, "irs", 0)
    t2 = tables["table2"].set_index(["method", "column"])["mean"]
    assert t2["ovf", "pre+0"] == mc_mean(smoke, "vanilla", 0, sigma_d=0) and t2["irs", "pre+1"] == mc_mean(
        smoke, "irs-pre1", 0
    )
    assert t2["ovf", "scratch+1"] == mc_mean(smoke, "ovf", 0)
    for row in tables["ablations"].itertuples():
        assert row.mean == mc_mean(smoke, row.variant, 0) and row.nft_mean == mc_mean(smoke, row.method, 0)
    for row in tables["convergence"].itertuples():
        assert row.mean == pytest.approx((mc_mean(smoke, row.method, 0) + mc_mean(smoke, row.method, 1)) / 2)
    # summary.csv: mean and Student-t CI95 over the two seeds
    summary = pd.read_csv(smoke / "results/smoke/aggregate/summary.csv")
    row = summary.query("variant == 'noise' and sigma_d == 0.3 and eval_sigma == 0.3").iloc[0]
    seeds = pd.Series([mc_mean(smoke, "noise", 0), mc_mean(smoke, "noise", 1)])
    assert row["mean"] == pytest.approx(seeds.mean())
    assert row.ci95 == pytest.approx(stats.t.ppf(0.975, 1) * seeds.std() / 2**0.5)
    # the report carries the same tables, as their .md files have them, and its verdicts
    report = (smoke / "results/smoke/report.md").read_text()
    for table in TABLES[:4]:
        assert (smoke / f"results/smoke/tables/{table}.md").read_text().strip() in report, table
    assert "- Verdicts over " in report


@pytest.mark.slow
def test_smoke_beta_search_feeds_the_grid(smoke):
    search = pd.read_csv(smoke / "results/smoke/beta/vgg8/synthetic/irs.csv")
    chosen = yaml.safe_load((smoke / "results/smoke/beta/vgg8/synthetic/irs.yaml").read_text())["beta"]
    for row in search.itertuples():
        run = json.loads(
            (smoke / f"results/smoke/runs/vgg8/synthetic/irs-beta{row.beta:g}/sd0.3/seed0/train.json").read_text()
        )
        assert row.val_accuracy == run["selected_val_accuracy"]
    assert chosen == search.beta[search.chosen].item()
    main = json.loads((smoke / "results/smoke/mc/vgg8/synthetic/irs/sd0.3/seed1.json").read_text())
    assert main["train"]["method_hparams"]["beta"] == chosen


@pytest.mark.slow
def test_smoke_reruns_exactly_what_a_change_affects(smoke):
    out = snakemake("-n", "--configfile", "config/smoke.yaml", cwd=smoke)
    assert "Nothing to be done" in out.text, out.text[-3000:]
    (smoke / "threshold.yaml").write_text("extends: config/smoke.yaml\nconvergence: {threshold: 2.0}\n")
    # a change of the checked config (config.json) redoes the analysis steps, nothing before them
    analysis = {"checked_config": 1, "figure": 2, "table": len(RUNS_TABLES), "report": 1, "report_html": 1, "all": 1}
    assert planned(snakemake("-n", "--configfile", "threshold.yaml", cwd=smoke).text) == analysis
    (smoke / "revsigma.yaml").write_text("extends: config/smoke.yaml\nablations: {reversed_delta_sigma: -0.1}\n")
    jobs = planned(snakemake("-n", "--configfile", "revsigma.yaml", cwd=smoke).text)
    assert (jobs["train"], jobs["evaluate"], jobs["aggregate"]) == (1, 1, 1)


@pytest.mark.slow
def test_committed_results_let_a_fresh_checkout_go_on_where_they_stop(smoke, tmp_path):
    """What a GPU run brings back (results/ and figures/ without models, logs or .snakemake, with their
    dates, as tools/gpu/unpack.sh leaves them) is enough: nothing is trained or evaluated again, only
    the runs whose MC results are missing; a search that reruns still reruns the runs it feeds. (The
    dates a clone gives: test_gpu_kit_...)"""
    fresh = copy_workflow(tmp_path)
    for part in ("results/smoke", "figures/smoke"):
        shutil.copytree(smoke / part, fresh / part, ignore=shutil.ignore_patterns("*.pt", "logs"))
    jobs = planned(snakemake("-n", "--configfile", "config/smoke.yaml", cwd=fresh).text)
    assert jobs.get("train", 0) == jobs.get("evaluate", 0) == 0, jobs
    jobs = planned(snakemake("-n", "--configfile", "config/smoke.yaml", "--forcerun", "beta_search", cwd=fresh).text)
    # every IRS run (on the searched beta); irs-pre1 needs the W/O Noise model again (a deleted temp file), which
    # then reruns ovf-pre1 too
    irs = [r for r in expected_runs(load_config("smoke"))[0] if r[2].split("-")[0] == "irs"]
    assert (jobs["beta_search"], jobs["train"], jobs["evaluate"]) == (1, len(irs) + 2, len(irs) + 2), jobs
    # a run stopped at its deadline: one MC result never made, so nothing after the aggregate either
    (fresh / "results/smoke/mc/vgg8/synthetic/irs/sd0.3/seed1.json").unlink()
    for made_later in ("results/smoke/aggregate", "results/smoke/tables", "results/smoke/report.md", "figures"):
        shutil.rmtree(fresh / made_later) if (fresh / made_later).is_dir() else (fresh / made_later).unlink()
    jobs = planned(snakemake("-n", "--configfile", "config/smoke.yaml", cwd=fresh).text)
    assert (jobs["train"], jobs["evaluate"], jobs["aggregate"], jobs["report"]) == (1, 1, 1, 1), jobs


@pytest.mark.slow
def test_a_result_deleted_after_the_grid_is_made_again(smoke, tmp_path):
    """Snakemake remakes a missing file only for a target that needs it: `all` lists every MC result, so a
    rerun trains and evaluates that run again (same numbers on the CPU) and redoes runs.csv and what reads it."""
    grid = tmp_path / "grid"
    shutil.copytree(smoke, grid, symlinks=True)
    lost = grid / "results/smoke/mc/vgg8/synthetic/irs/sd0.3/seed1.json"
    before = pd.read_csv(grid / "results/smoke/aggregate/runs.csv")
    lost.unlink()
    out = snakemake("--cores", "2", "--configfile", "config/smoke.yaml", cwd=grid, timeout=900)
    assert out.returncode == 0, out.text[-3000:]
    jobs = planned(out.text)
    assert (jobs.get("train"), jobs.get("evaluate"), jobs.get("report")) == (1, 1, 1), out.text[-3000:]
    after = pd.read_csv(grid / "results/smoke/aggregate/runs.csv")
    timings = ["train_seconds", "eval_seconds"]
    pd.testing.assert_frame_equal(after.drop(columns=timings), before.drop(columns=timings))
    assert "Nothing to be done" in snakemake("-n", "--configfile", "config/smoke.yaml", cwd=grid).text


@pytest.mark.slow
def test_smoke_html_report_shows_the_report_tables_and_figures(smoke):
    """Everything opens in the browser (HTML pages, PNG, PDF), the figures travel inside the report's page,
    and the landing page describes the grid."""
    out = snakemake("--configfile", "config/smoke.yaml", "--report", "snakemake-report.html", cwd=smoke)
    assert out.returncode == 0, out.text[-3000:]
    text = (smoke / "snakemake-report.html").read_text()
    results = json.loads(re.search(r"^\s*var results = (\{.*\});$", text, re.M)[1])
    shown = {Path(path).name: result for path, result in results.items()}
    mime = {"html": "text/html", "png": "image/png", "pdf": "application/pdf"}
    figures = [f"figure{n}.{ext}" for n in (3, 4) for ext in ("png", "pdf")]
    for name in ["report.html", *(f"{t}.html" for t in TABLES), *figures]:
        assert shown[name]["mime_type"] == mime[name.split(".")[1]], name

    def page(name: str) -> str:
        return base64.b64decode(shown[name]["data_uri"].split("base64,", 1)[1]).decode()

    report = page("report.html")
    assert "<h1>" in report and "<table>" in report
    for n in (3, 4):
        assert base64.b64encode((smoke / f"figures/smoke/figure{n}.png").read_bytes()).decode() in report
    assert "<table>" in page("table1.html") and "VGG-8, synthetic, σ_d = 0.3, seeds 0 (n = 1)" in page("table1.html")
    landing = json.loads(re.search(r"^\s*var workflow_desc = (.*);$", text, re.M)[1])
    assert "NeFT replication, grid" in landing and "seeds 0, 1" in landing
