"""Atomic writes: a result file either exists complete or not at all (temp file + rename)."""
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import NeftError


def _temp_beside(path: Path) -> tuple[int, str]:
    if path.is_dir():
        raise NeftError(f"cannot write {path}: it is a folder; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise NeftError(f"cannot write {path} ({e.filename}: {e.strerror}); choose a writable folder") from None


def check_writable(path: Path) -> None:
    """Fail before hours of work rather than after it: `path` could be written now."""
    fd, tmp = _temp_beside(Path(path))
    os.close(fd)
    os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write) -> None:
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are for the whole group to read
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_json(path: Path, obj: Any) -> None:
    _atomic(path, lambda f: f.write((json.dumps(obj, indent=1, allow_nan=True) + "\n").encode()))


def save_text(path: Path, text: str) -> None:
    _atomic(path, lambda f: f.write(text.encode()))


def save_torch(path: Path, obj: Any) -> None:
    import torch  # here, so that the analysis steps writing text never import torch
    _atomic(path, lambda f: torch.save(obj, f))
