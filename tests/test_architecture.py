"""The package's shape: the core imports nothing from the analysis wing, what the Snakefile imports needs no
torch, each variant is declared once and everything that names variants agrees with that table, and the
code passes the style tools CI runs (ruff, snakefmt)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from neft.variants import VARIANTS, of_table, parse_variant

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "neft"
SHELL = {"cli.py", "__main__.py"}  # the command line wires both wings


def core_modules() -> list[Path]:
    return [
        p
        for p in PACKAGE.rglob("*.py")
        if "analysis" not in p.relative_to(PACKAGE).parts and p.relative_to(PACKAGE).as_posix() not in SHELL
    ]


def imported(path: Path) -> set[str]:
    """Absolute names of every module `path` imports, at any depth of its code (lazy imports too)."""
    package = ["neft", *path.relative_to(PACKAGE).parent.parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return names


def test_core_imports_nothing_from_the_analysis_wing():
    modules = core_modules()
    assert len(modules) > 20 and PACKAGE / "trainer.py" in modules
    for path in modules:
        wing = sorted(n for n in imported(path) if n == "neft.analysis" or n.startswith("neft.analysis."))
        assert not wing, f"{path.relative_to(ROOT)} imports {wing}"


def test_the_analysis_wing_imports_no_torch():
    for path in (PACKAGE / "analysis").glob("*.py"):
        assert not {n for n in imported(path) if n.split(".")[0] in ("torch", "torchvision")}, path.name


def test_what_the_snakefile_imports_needs_no_torch():
    """The workflow's helpers import these at Snakemake's start, for every command it runs."""
    code = (
        "import sys; import neft.catalogue, neft.config, neft.io, neft.schema, neft.variants, neft.layout, "
        "neft.analysis.tables, neft.analysis.figures; "
        "print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


# --- the variant table
SETTING_KEYS = {"enabled", "model", "dataset", "sigma_d", "seeds"}  # where the ablations run, not what


def test_every_ablation_key_of_the_config_asks_for_one_variant():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    keys = set(schema["properties"]["ablations"]["properties"]) - SETTING_KEYS
    asked = [v.key for v in VARIANTS.values() if v.key]
    assert sorted(asked) == sorted(keys)


def test_every_variant_belongs_to_a_table_and_its_claim_is_the_papers():
    from neft.analysis.claims import load_claims
    from neft.analysis.tables import TABLES

    claims = load_claims()["ablations"]
    for variant in VARIANTS.values():
        assert variant.table in TABLES and variant in of_table(variant.table), variant.tag
        assert variant.claim is None or variant.claim in claims, variant.tag
    claimed = {v.claim for v in VARIANTS.values()} - {None}
    assert claimed == set(claims) - {
        "model",
        "dataset",
        "sigma_d",
    }  # every ablation number of the paper is some variant's


@pytest.mark.parametrize("tag", list(VARIANTS))
def test_a_variant_name_reads_back(tag):
    variant = VARIANTS[tag]
    for method in variant.methods:
        for value in ["", "3", "0.0001"]:
            assert parse_variant(variant.name(method, value)) == (method, tag, float(value) if value else None)


def test_an_unknown_tag_is_refused():
    from neft.errors import NeftError

    with pytest.raises(NeftError, match="unknown run variant 'ovf-foo1'"):
        parse_variant("ovf-foo1")


# --- style: what CI's test run checks
def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff(args):
    out = subprocess.run([tool("ruff"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_snakefmt():
    out = subprocess.run(
        [tool("snakefmt"), "--check", "Snakefile", "workflow"], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
