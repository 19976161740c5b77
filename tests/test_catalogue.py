"""The catalogue (neft/catalogue.py): each entry's module implements what it names, the schema's names and
the per-method keys are the catalogue's, the public code's values per model and dataset hold, and a new
method is one implementation file plus one entry: a throwaway one goes through the smoke grid's plan, a
training, an evaluation, a figure and the report with no other file touched."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from test_workflow import ROOT, SCHEMA, planned, planned_trainings

from neft import catalogue
from neft.catalogue import DATASETS, METHODS, MODELS, Model
from neft.errors import ConfigError


@pytest.mark.parametrize("name", list(METHODS))
def test_a_methods_module_implements_it(name):
    from neft.methods import METHODS as REGISTRY
    from neft.methods import Method

    assert issubclass(REGISTRY.get(name), Method)


@pytest.mark.parametrize("name", list(MODELS))
def test_a_models_module_implements_it(name):
    from neft.models import build_model

    model = build_model(name, 3, 10, 32, width=0.125)
    assert len(model.irs_taps) >= MODELS[name].irs_feedbacks  # IRS's default N has its snapshot places


@pytest.mark.parametrize("name", list(DATASETS))
def test_a_datasets_module_implements_it(name):
    from neft.datasets import DATASETS as REGISTRY

    assert REGISTRY.get(name).name == name


def test_the_schemas_names_and_per_method_keys_are_the_catalogues():
    assert SCHEMA["$defs"]["method"]["enum"] == sorted(METHODS)
    assert SCHEMA["$defs"]["model"]["enum"] == sorted(MODELS)
    assert SCHEMA["$defs"]["dataset"]["enum"] == sorted(DATASETS)
    assert SCHEMA["$defs"]["noisy_method"]["enum"] == sorted(m for m in METHODS if m != "vanilla")
    nft = ["ovf", "irs"]
    assert list(catalogue.nft_methods()) == nft
    assert list(SCHEMA["properties"]["beta"]["properties"]) == nft
    assert list(SCHEMA["properties"]["ablations"]["properties"]["n_feedback"]["properties"]) == nft


def test_the_public_codes_values_per_model_and_dataset():
    assert catalogue.default_beta("ovf", "resnet18", "cifar100") == 1e-1
    assert catalogue.default_beta("irs", "vgg8", "fashion_mnist") == 1e-2  # MNIST's, the nearest it ran
    assert catalogue.default_beta("ovf", "vgg8", "tinyimagenet") == 1e-3  # CIFAR-10's
    assert (catalogue.feedbacks("ovf", "resnet18"), catalogue.feedbacks("irs", "resnet18")) == (3, 4)
    assert catalogue.feedbacks("irs", "vgg8") == 3


def test_a_model_the_public_code_did_not_run_borrows_or_is_one_line(monkeypatch):
    monkeypatch.setitem(MODELS, "vgg11", Model("vgg11", "VGG-11", "neft.models.vgg", lr=1e-3, irs_feedbacks=3))
    with pytest.raises(ConfigError, match=r"ovf has no default beta for vgg11 on mnist \(neft/catalogue.py\)"):
        catalogue.default_beta("ovf", "vgg11", "mnist")
    monkeypatch.setitem(MODELS, "vgg11", Model("vgg11", "VGG-11", "neft.models.vgg", 1e-3, 3, beta_from="vgg8"))
    assert catalogue.default_beta("ovf", "vgg11", "mnist") == 1e-3


# --- a new method: one implementation file plus one entry
THROWAWAY = '''\
"""A throwaway NFT method (tests/test_catalogue.py): W/ Noise with one feedback at twice sigma_d."""

from neft.methods import METHODS, Method, perturbed
from neft.methods.feedback import nft_loss


@METHODS.register("throwaway")
class Throwaway(Method):
    def __init__(self, cfg, model, law):
        super().__init__(cfg, model, law)
        self.beta = self.resolve_beta(cfg)
        self.hparams = dict(beta=self.beta, n_feedback=1)

    def loss(self, model, x, y, generator):
        with perturbed(self.layers, self.noise(self.layers, self.sigma_d, generator)):
            out = model(x)
        with perturbed(self.layers, self.noise(self.layers, 2 * self.sigma_d, generator)):
            feedback = model(x)
        return nft_loss(out, [feedback], [1.0], self.beta, y), {}
'''
ENTRY = """\
    Method(
        "throwaway",
        "Throwaway",
        "throwaway_method",
        dict(color="#E69F00", marker="P", linestyle=(0, (1, 1))),
        nft=True,
        feedbacks=1,
        beta={"vgg8": {"mnist": 0.02}},
    ),
"""
SMALL = """\
extends: config/smoke.yaml
name: throwaway
methods: [noise, throwaway]
seeds: [0]
compute_matched: false
ablations: {enabled: false}
convergence: {enabled: false}
"""
COPIED = ("neft", "workflow", "config", "Snakefile")


def files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for name in COPIED
        for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.slow
def test_a_new_method_is_one_implementation_file_plus_one_entry(tmp_path):
    repo, plugins = tmp_path / "repo", tmp_path / "plugins"
    for name in COPIED:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, repo / name)
    plugins.mkdir()
    (plugins / "throwaway_method.py").write_text(THROWAWAY)  # the implementation, from a file outside neft/
    catalogue_py = repo / "neft" / "catalogue.py"
    text = catalogue_py.read_text()
    end = text.index("\n)\nMODELS = entries(")
    catalogue_py.write_text(text[:end] + "\n" + textwrap.indent(textwrap.dedent(ENTRY), "    ").rstrip() + text[end:])
    before, after = files(ROOT), files(repo)
    assert {f for f in after if after[f] != before.get(f)} == {"neft/catalogue.py"}  # no other file touched

    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(repo), str(plugins)]),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )

    def snakemake(*args):
        out = subprocess.run(
            [sys.executable, "-m", "snakemake", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=900
        )
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return out.stdout + out.stderr

    # the smoke grid's plan with it: its main runs and the NFT methods' ablations
    (repo / "plan.yaml").write_text("extends: config/smoke.yaml\nmethods: [vanilla, noise, ovf, irs, throwaway]\n")
    planned_variants = {Path(r).parts[2] for r in planned_trainings(snakemake("-n", "-p", "--configfile", "plan.yaml"))}
    assert {"throwaway", "throwaway-pre1", "throwaway-revdecay", "throwaway-posfb"} <= planned_variants
    # a training, an evaluation, the figures and the report with it
    (repo / "small.yaml").write_text(SMALL)
    jobs = planned(snakemake("--cores", "2", "--configfile", "small.yaml"))
    assert (jobs["train"], jobs["evaluate"], jobs["figure"], jobs["report"]) == (2, 2, 2, 1)
    result = json.loads((repo / "results/throwaway/mc/vgg8/synthetic/throwaway/sd0.3/seed0.json").read_text())
    assert result["train"]["method_hparams"]["beta"] == 0.02  # synthetic borrows MNIST's beta (its beta_from)
    figure = pd.read_csv(repo / "figures/throwaway/figure3.csv")
    assert set(figure.variant) == {"noise", "throwaway"} and (repo / "figures/throwaway/figure3.png").exists()
    report = " ".join((repo / "results/throwaway/report.md").read_text().split())
    assert "| Throwaway beats W/ Noise, VGG-8 / synthetic | – | " in report  # no paper number, no verdict
