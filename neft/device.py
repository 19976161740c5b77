"""Where and in which precision a job computes: the torch device a config names, the model placed on it,
TF32 on or off, and the bf16 autocast of forward passes. Shared by training, evaluation and the benchmarks."""

from contextlib import nullcontext

import torch

from .errors import ConfigError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(
            f"device {name!r} asked for, but {torch.cuda.device_count()} CUDA devices are available; "
            f"use device: auto, cpu or an available cuda:N"
        )
    return device


def place(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The model on `device` in channels-last memory format, the fast layout of cuDNN's and oneDNN's
    convolutions and poolings (on a CPU: 2-3x a Monte-Carlo run, BENCHMARKS.md). The same numbers as the
    default layout up to rounding."""
    return model.to(device, memory_format=torch.channels_last)


def set_precision(precision: str) -> None:
    """fp32 is strict (no TF32 in matmuls or cuDNN), tf32 allows it, bf16 autocasts the forward pass."""
    tf32 = precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def autocast(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()
