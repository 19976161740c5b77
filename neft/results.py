"""The Monte-Carlo result file (`neft evaluate`'s JSON): its format tag and a checked reader that the
analysis steps use without importing torch."""
import json
from pathlib import Path

from .errors import CheckpointError

RESULT_FORMAT = "neft.mc/1"


def read_result(path: str | Path) -> dict:
    """A result file written by `evaluate`, checked for its format."""
    try:
        result = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: unreadable result file ({e}); rerun its evaluate step") from None
    if not isinstance(result, dict) or result.get("format") != RESULT_FORMAT:
        found = result.get("format") if isinstance(result, dict) else type(result).__name__
        raise CheckpointError(f"{path}: result format {found!r}, expected {RESULT_FORMAT!r}; "
                              f"rerun its evaluate step with this version of neft")
    return result
