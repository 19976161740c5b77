"""What produced a result: git commit, package versions, device, host, time."""

import datetime
import importlib.metadata
import os
import platform
import socket
import subprocess
from functools import lru_cache
from pathlib import Path

import torch

from . import __version__


@lru_cache(maxsize=1)
def git_commit() -> str:
    """HEAD of the checkout neft runs from (-dirty if tracked files changed); in a copy without .git (a
    GPU machine the tree was copied to), NEFT_GIT_COMMIT as the copier set it, else 'unknown'."""
    root = Path(__file__).resolve().parent.parent
    fallback = os.environ.get("NEFT_GIT_COMMIT") or "unknown"
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return fallback
    if out.returncode != 0:
        return fallback
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def provenance(device: torch.device) -> dict:
    return {
        "neft": __version__,
        "git_commit": git_commit(),
        "torch": str(torch.__version__),
        "torchvision": importlib.metadata.version("torchvision"),  # without importing it (1.5 s)
        "python": platform.python_version(),
        "device": device_name(device),
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "host": socket.gethostname(),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
