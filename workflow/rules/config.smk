# The config, checked before any job: read with its `extends` chain and validated against
# workflow/schemas/config.schema.yaml, whose train, eval and execution keys neft/schema.py takes from
# neft/config.py (one source for their types, limits and defaults); a bad key stops the run in one line.
# The analysis steps read it as checked, from results/<name>/config.json (rule checked_config).
import json
import math
import os
import re
import shlex
from pathlib import Path

import yaml
from jsonschema import ValidationError
from snakemake.exceptions import WorkflowError

from neft import schema, yamlfile
from neft.analysis.figures import FIGURES
from neft.analysis.tables import TABLES
from neft.config import as_flags
from neft.errors import NeftError, one_line
from neft.io import save_text
from neft.layout import RUN, WILDCARDS, Run, num
from neft.catalogue import nft_methods
from neft.variants import METHOD, VARIANTS, main_variants, parse_variant


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
        raise WorkflowError(
            f"config file {chain[-1]}: extends {path}, which closes a cycle ({' -> '.join([*chain, path])})"
        )
    try:
        base = yamlfile.read(path) or {}
    except NeftError as e:  # too big, too deep
        raise WorkflowError(f"config key extends: {e}") from None
    except (OSError, ValueError, yaml.YAMLError) as e:  # ValueError: not UTF-8
        raise WorkflowError(f"config key extends: cannot read {path} ({one_line(e, 300)})") from None
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
    """The config with every default filled in; a bad key stops the run before any job, in one line (a value
    is shown at most 200 characters long: YAML aliases may make it huge)."""
    files = tuple(os.path.relpath(p) for p in workflow.configfiles) or ("the config",)
    try:
        yamlfile.check_size(values, " + ".join(files))  # before anything walks it: Snakemake read it, aliases and all
    except NeftError as e:
        raise WorkflowError(str(e)) from None
    values = resolve_extends(dict(values), files)
    found = non_finite(values)
    if found:
        raise WorkflowError(f"config key {found[0] or '(top level)'}: {found[1]} is not a finite number")
    try:
        return schema.validate(values, schema.load(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"))
    except ValidationError as error:
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        hint = f" ({error.schema['description']})" if error.validator in ("anyOf", "oneOf") else ""
        message = error.message if len(error.message) <= 200 else f"{error.message[:200]}..."
        raise WorkflowError(f"config key {key or '(top level)'}: {message}{hint}") from None


_config = checked(config)
config.clear()
config.update(_config)
NAME = config["name"]
ABLATIONS, CONVERGENCE, EVAL = config["ablations"], config["convergence"], config["eval"]


# every run's files sit at its place in the run layout (neft/layout.py) under these folders
wildcard_constraints:
    **WILDCARDS,
    method=METHOD,
