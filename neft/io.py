"""Writing files safely: atomic writes (a file either exists complete or not at all: temp file + rename,
a failed write is one WriteError line), outputs checked against the inputs before any work, and the lock
that keeps a second process out of a run folder. No file is created or truncated through a symbolic link
(temp files and the lock are opened with O_NOFOLLOW), and an output only ever replaces a regular file."""

import errno
import fcntl
import io
import json
import logging
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import NeftError, WriteError

# what an output may not replace (lstat's mode -> what to call it); a missing file or a regular one is fine
NOT_A_FILE = {
    stat.S_ISDIR: "a folder",
    stat.S_ISLNK: "a symbolic link",
    stat.S_ISFIFO: "a FIFO",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
}


def short(path) -> str:
    """A path as a message shows it: whole up to 120 characters, else its ends."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:80]}...{text[-30:]}"


def kind(mode: int) -> str | None:
    """What a file of this mode (stat's st_mode) is, when it is not a regular file: 'a FIFO'."""
    return next((what for test, what in NOT_A_FILE.items() if test(mode)), None)


def not_a_file(path) -> str | None:
    """What `path` is when it is there but is not a regular file ('a FIFO'); None when it is one, or absent."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:  # a name too long, a loop of links, a folder that cannot be searched
        raise WriteError(f"cannot write {short(path)} ({e.strerror})") from None
    return kind(mode)


def check_target(path) -> None:
    """`path` may be replaced by a new regular file: it is absent or a regular file (never a folder, a
    symbolic link, a FIFO or a device: replacing /dev/null or a named pipe is never what was meant)."""
    what = not_a_file(path)
    if what:
        raise WriteError(f"cannot write {short(path)}: it is {what}; give the path of a regular file")


def check_readable(option: str, path) -> None:
    """An input path the system can look up, and a file or a folder (reading a FIFO waits for a writer forever);
    a missing one is said by the command that reads it."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as e:  # a name too long, a loop of links, a folder that cannot be searched
        raise NeftError(f"cannot read {option} {short(path)} ({e.strerror})") from None
    what = None if stat.S_ISDIR(mode) else kind(mode)
    if what:
        raise NeftError(f"cannot read {option} {short(path)}: it is {what}; give a file")


def check_paths(inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> None:
    """Before any work: no output is a folder or another non-regular file, overwrites an input or another
    output, or replaces the folder holding one. (option, path) pairs; paths compare resolved (relative, '..',
    symlinks)."""
    for option, path in [*inputs, *outputs]:
        if not str(path).strip():
            raise NeftError(f"{option} is empty; give a path")
        if "\0" in str(path):  # possible in a YAML string, never in a file name
            raise NeftError(f"{option} {short(repr(str(path)))} holds a NUL character; give a path")
    for option, path in inputs:
        check_readable(option, path)
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
        check_target(path)


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
            what = not_a_file(lock)  # a planted link, say; O_NOFOLLOW below, should one appear meanwhile
            if what:
                raise WriteError(f"cannot lock {short(folder)}: {lock.name} there is {what}, not a lock; remove it")
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or a device put there meanwhile
                os.close(fd)
                raise WriteError(f"cannot lock {short(folder)}: {lock.name} there is not a regular file; remove it")
            if not _locked(fd, folder, holder) or _same_file(lock, fd):
                break
            os.close(fd)  # locked a file its holder had just removed: lock the one there now
    except OSError as e:
        raise WriteError(
            f"cannot write {short(folder)} ({short(e.filename or lock)}: {e.strerror}); choose a writable folder"
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


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.lstat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


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
    """A new temp file beside `path` (mkstemp: O_EXCL and O_NOFOLLOW, so never through a planted link)."""
    check_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(
            f"cannot write {short(path)} ({short(e.filename)}: {e.strerror}); choose a writable folder"
        ) from None


def check_writable(path: Path) -> None:
    """Fail before hours of work rather than after it: `path` could be written now."""
    fd, tmp = _temp_beside(Path(path))
    os.close(fd)
    os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write) -> None:
    """The one writer of every output: `write(binary file)` fills a temp file beside `path`, which then
    replaces `path` (a regular file or nothing). Any OSError on the way (a full disk, a quota, an I/O error,
    a file too large), at the write, the flush, the fsync, the close or the rename, is one WriteError and
    leaves `path` as it was."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are for the whole group to read
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        check_target(path)  # a link or a FIFO put there meanwhile is not replaced either
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise WriteError(f"cannot write {short(path)} ({e.strerror or e})") from None
        raise


def save_json(path: Path, obj: Any) -> None:
    write_atomic(path, lambda f: f.write((json.dumps(obj, indent=1, allow_nan=True) + "\n").encode()))


def save_text(path: Path, text: str) -> None:
    write_atomic(path, lambda f: f.write(text.encode()))


def save_torch(path: Path, obj: Any) -> None:
    """torch.save into memory first: writing to a file, torch turns a full disk into a RuntimeError (not an
    OSError); writing the bytes here makes it an OSError like every other write failure."""
    import torch  # here, so that the analysis steps writing text never import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, lambda f: f.write(buffer.getbuffer()))
