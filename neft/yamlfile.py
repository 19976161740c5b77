"""YAML as neft reads it: safe_load, then a bound on what the value expands to. YAML aliases let a few
hundred bytes stand for billions of values (an "alias bomb"): loading shares them and stays small, but any
walk over the value (a check, the repr in an error message) expands them. Every YAML file neft or the
workflow reads goes through `read`; a value loaded elsewhere (Snakemake's --configfile) through `check_size`.
Importing this module imports no torch."""

from pathlib import Path

import yaml

from .errors import ConfigError, one_line

MAX_VALUES = 100_000  # the paper's grid config expands to about 300
MAX_DEPTH = 50


def read(path: str | Path):
    """The value of the YAML file at `path`, bounded. OSError, UnicodeDecodeError (not UTF-8) and yaml.YAMLError
    go to the caller, who names what the file is; too big a value is one ConfigError."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        value = yaml.safe_load(text)
    except RecursionError:  # nested past the parser's stack
        raise ConfigError(f"{path}: nested deeper than {MAX_DEPTH} levels; is it the right file?") from None
    except ValueError as e:  # an integer of more digits than Python converts
        raise ConfigError(f"{path}: {one_line(e)}") from None
    check_size(value, str(path))
    return value


def check_size(value, where: str) -> None:
    """At most MAX_VALUES values once every alias is expanded, nested at most MAX_DEPTH deep, and no value
    holding itself; else one ConfigError naming `where` (the expanded value is never shown)."""
    sizes: dict[int, int] = {}  # id -> expanded size of a list or mapping already counted (aliases share it)

    def size(v, depth: int, inside: frozenset) -> int:
        if not isinstance(v, (list, dict)):
            return 1
        if id(v) in inside:
            raise ConfigError(f"{where}: a YAML alias makes a value that holds itself; write the value out")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where}: nested deeper than {MAX_DEPTH} levels; is it the right file?")
        if id(v) not in sizes:
            items = [x for kv in v.items() for x in kv] if isinstance(v, dict) else v
            total = 1
            for item in items:
                total += size(item, depth + 1, inside | {id(v)})
                if total > MAX_VALUES:
                    raise ConfigError(
                        f"{where}: expands to more than {MAX_VALUES} values (YAML aliases?); write the config out"
                    )
            sizes[id(v)] = total
        return sizes[id(v)]

    size(value, 0, frozenset())
