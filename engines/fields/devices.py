"""Where a field trains: ``resolve_device`` turns a user's choice into a ``torch.device``.

CPU is the default everywhere (small fields are fastest on one CPU thread and bit-reproducible);
``"auto"`` takes CUDA when torch sees a GPU, ``"cuda"`` insists on it. Targets keep their tensors
on the CPU; the trainer holds device copies, and everything handed back (snapshots, previews,
metrics, checkpoints) is numpy or CPU tensors.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

import torch

from ..errors import InvalidInputError

DEVICE_CHOICES = ("cpu", "auto", "cuda")


def resolve_device(device=None) -> torch.device:
    """None / "cpu" -> CPU; "auto" -> CUDA when available, else CPU; "cuda[:n]" or a
    torch.device -> that device, which must exist (InvalidInputError otherwise)."""
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device.strip().lower() if isinstance(device, str) else device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'auto'") from exc
    if resolved.type == "cpu":
        return resolved
    if resolved.type != "cuda":
        raise InvalidInputError(f"device {device!r} is not supported: use 'cpu', 'cuda' or 'auto'")
    if not torch.cuda.is_available():
        raise InvalidInputError(f"device {device!r} was requested but CUDA is not available here "
                                "(no GPU, or torch was built without CUDA): use 'cpu' or 'auto'")
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise InvalidInputError(f"device {device!r} does not exist: torch sees "
                                f"{torch.cuda.device_count()} GPU(s)")
    return resolved


def field_device(field) -> torch.device:
    """The device of a module's first parameter or buffer (CPU for one that has neither)."""
    for tensor in field.parameters():
        return tensor.device
    for tensor in field.buffers():
        return tensor.device
    return torch.device("cpu")


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Ask glibc to keep large freed blocks instead of returning them to the system.

    By default every tensor above a few MB is a fresh mmap whose pages fault in on first touch,
    so a training step that allocates batch-sized tensors spends most of its time in page faults
    (a 16k-sample NeuRBF step: 40 ms, 15 ms with this). It speeds up every field alike; the
    process keeps its peak memory. Returns whether the setting took (False off glibc).
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))
