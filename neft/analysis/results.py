"""The Monte-Carlo result file (`neft evaluate`'s JSON): the checked reader that the analysis steps use
without importing torch."""

from pathlib import Path

from ..formats import RESULT_FORMAT, read_json


def read_result(path: str | Path) -> dict:
    """A result file written by `evaluate`, checked for its format and keys (formats.py)."""
    return read_json(path, RESULT_FORMAT)
