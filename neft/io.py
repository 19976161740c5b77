"""Writing files safely: atomic writes (a file either exists complete or not at all: temp file + rename,
a failed write is one WriteError line), outputs checked against the inputs before any work, and the lock
that keeps a second process out of a run folder."""

import errno
import fcntl
import json
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import NeftError, WriteError


def check_paths(inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> None:
    """Before any work: no output is a folder, overwrites an input or another output, or replaces the folder
    holding one. (option, path) pairs; paths compare resolved (relative, '..', symlinks)."""
    for option, path in [*inputs, *outputs]:
        if not str(path).strip():
            raise NeftError(f"{option} is empty; give a path")
        if "\0" in str(path):  # possible in a YAML string, never in a file name
            raise NeftError(f"{option} {str(path)!r} holds a NUL character; give a path")
    real = [(option, path, Path(os.path.realpath(path))) for option, path in [*outputs, *inputs]]
    for i, (option, path, out) in enumerate(real[: len(outputs)]):
        for j, (other_option, other, seen) in enumerate(real[:i] + real[len(outputs) :]):
            if out == seen:
                clash = "would overwrite"
            elif out in seen.parents and (j < i or seen.exists()):
                clash = "would replace the folder holding"
            elif seen in out.parents and j < i:
                clash = "lies inside the output"
            else:  # an output inside an input folder (a data folder, the results root) is fine
                continue
            raise NeftError(f"{option} {path} {clash} {other_option} {other}; give another {option}")
        if out.is_dir():
            raise WriteError(f"cannot write {path}: it is a folder; give a file path")


@contextmanager
def folder_lock(folder: Path, holder: str):
    """Hold `folder`/.lock while inside: a second process gets one line instead of writing the same files.
    The kernel drops the lock when the process ends, however it ends (kill -9 too), so a .lock file left
    behind never blocks. A folder made here is removed again if it is left empty."""
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    lock = folder / ".lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            if not _locked(fd, folder, holder) or (lock.exists() and lock.stat().st_ino == os.fstat(fd).st_ino):
                break
            os.close(fd)  # locked a file its holder had just removed: lock the one there now
    except OSError as e:
        raise WriteError(
            f"cannot write {folder} ({e.filename or lock}: {e.strerror}); choose a writable folder"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        lock.unlink(missing_ok=True)  # still held: whoever opened it meanwhile finds it gone once locked
        os.close(fd)
        for path in made:  # innermost first
            try:
                path.rmdir()
            except OSError:  # not empty: results, or a checkpoint to resume from
                break


def _locked(fd: int, folder: Path, holder: str) -> bool:
    """Lock `fd` (True), or go on without a lock where the file system has none (False); held: one line."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise NeftError(
            f"{folder} is in use by another {holder} (pid {owner}); wait for it to end, or stop it"
        ) from None
    except OSError as e:
        if e.errno not in (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP):  # e.g. Lustre mounted without flock
            os.close(fd)
            raise
        logging.getLogger("neft").warning("%s: no lock (%s): nothing keeps a second %s out", folder, e.strerror, holder)
        return False


def _temp_beside(path: Path) -> tuple[int, str]:
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a folder; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(f"cannot write {path} ({e.filename}: {e.strerror}); choose a writable folder") from None


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
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):  # a full disk, a quota, an I/O error
            raise WriteError(f"cannot write {path} ({e.strerror or e})") from None
        raise


def save_json(path: Path, obj: Any) -> None:
    _atomic(path, lambda f: f.write((json.dumps(obj, indent=1, allow_nan=True) + "\n").encode()))


def save_text(path: Path, text: str) -> None:
    _atomic(path, lambda f: f.write(text.encode()))


def save_torch(path: Path, obj: Any) -> None:
    import torch  # here, so that the analysis steps writing text never import torch

    _atomic(path, lambda f: torch.save(obj, f))
