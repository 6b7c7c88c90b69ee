"""The lab's operator settings, in one place. Each comes from an environment variable that the
README's "Serving a class" section documents; nothing is read at import.

    from lab.settings import current
    limit = current().upload_limit_bytes

``current()`` reads the environment on every call (cheap), so a test or a launcher script that
sets a variable sees it take effect without reloading anything. A value that cannot be parsed
raises ``SettingsError`` naming the variable, so a typo stops the server at its first use with a
message instead of silently falling back to a default.

Access control is Panel's own and needs nothing here: ``panel serve lab --basic-auth <password
or credentials.json> --cookie-secret <secret>`` (or PANEL_BASIC_AUTH / PANEL_COOKIE_SECRET), or
Panel's OAuth flags; the README shows both.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_FOLDER = "NEURAL_LAB_DATA"
UPLOAD_MB = "NEURAL_LAB_UPLOAD_MB"
DATASET_MB = "NEURAL_LAB_DATASET_MB"
SLOTS = "NEURAL_LAB_SLOTS"
SLICE_S = "NEURAL_LAB_SLICE_S"
DASK_SCHEDULER = "NEURAL_LAB_DASK_SCHEDULER"
WORKER_MEMORY_MB = "NEURAL_LAB_WORKER_MEMORY_MB"

# Bokeh's FileInput sends a file base64-encoded in one websocket message (4/3 of its size) and
# Tornado buffers at most 100 MB of a message: 70 MB files still fit, with room to spare.
MAX_UPLOAD_MB = 70.0


class SettingsError(ValueError):
    """An environment variable holds a value the lab cannot use."""


@dataclass(frozen=True)
class Settings:
    data_folder: Path | None   # where "path on the server" may read; None: server paths are off
    upload_limit_mb: float     # the largest upload, in every room
    dataset_limit_mb: float    # the most memory one dataset may take once read
    slots: int                 # heavy work running at once (live runs take turns in them)
    slice_s: float             # a live run's turn in a slot, seconds
    dask_scheduler: str | None # where finite jobs run; None: a local cluster per job
    worker_memory_mb: float | None  # the most a session's worker process may use; None: no bound

    @property
    def upload_limit_bytes(self) -> int:
        return int(self.upload_limit_mb * 2**20)

    @property
    def dataset_limit_bytes(self) -> int:
        return int(self.dataset_limit_mb * 2**20)

    @property
    def worker_memory_bytes(self) -> int | None:
        return None if self.worker_memory_mb is None else int(self.worker_memory_mb * 2**20)


def default_slots() -> int:
    """One core is left to the web server; at least one slot."""
    return max((os.cpu_count() or 1) - 1, 1)


def current() -> Settings:
    """The settings the environment holds now."""
    return Settings(
        data_folder=_folder(DATA_FOLDER),
        upload_limit_mb=_number(UPLOAD_MB, 50.0, low=0.001, high=MAX_UPLOAD_MB),
        dataset_limit_mb=_number(DATASET_MB, 2048.0, low=1.0),
        slots=int(_number(SLOTS, default_slots(), low=1, whole=True)),
        slice_s=_number(SLICE_S, 2.0, low=0.05, high=60.0),
        dask_scheduler=os.environ.get(DASK_SCHEDULER, "").strip() or None,
        worker_memory_mb=_optional_number(WORKER_MEMORY_MB, 4096.0, low=64.0),
    )


def _folder(variable: str) -> Path | None:
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    folder = Path(text).expanduser().resolve()
    if not folder.is_dir():
        raise SettingsError(f"{variable}={text!r} is not a folder on this machine")
    return folder


def _number(variable: str, default: float, low: float, high: float | None = None,
            whole: bool = False) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(f"{variable}={text!r} is not {kind}") from None
    if value < low or (high is not None and value > high):
        bounds = f"at least {low:g}" + (f" and at most {high:g}" if high is not None else "")
        raise SettingsError(f"{variable}={text!r}: must be {bounds}")
    return value


def _optional_number(variable: str, default: float, low: float) -> float | None:
    """A number, or 'none' / '0' for no bound."""
    if os.environ.get(variable, "").strip().lower() in ("none", "0"):
        return None
    return _number(variable, default, low)
