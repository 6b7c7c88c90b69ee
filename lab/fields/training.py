"""The fields room's training, as it runs in the room's worker process (``lab.worker``).

``Training`` holds the target and the run(s) learning it (the model and, when comparing, its
rival, step for step), advances them in chunks of ~CHUNK_SECONDS and takes snapshots when one
is due: at most every SNAPSHOT_INTERVAL and never more than SNAPSHOT_SHARE of the time, so that
watching costs little training. ``FieldsRoom`` calls its methods from the server process
through ``Worker.call``, so every method takes and returns plain picklable values: configs,
numbers, snapshots of numpy arrays, bytes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from engines.errors import InvalidInputError
from lab.fields.run import FieldConfig, FieldRun

CHUNK_SECONDS = 0.05          # a pause or a learning-rate change takes effect within this
SNAPSHOT_SHARE = 1 / 10       # at most this share of the time goes to snapshots
SNAPSHOT_INTERVAL = {"image": 0.3, "shape": 1.0}  # fastest refresh per task, in seconds


@dataclass(frozen=True)
class View:
    """What the room shows of a shape (images need no choices)."""
    preview_resolution: int = 48
    slice_z: float = 0.0


@dataclass(frozen=True)
class RunInfo:
    """A run's state in plain values, for the room's bookkeeping and tests."""
    config: FieldConfig
    steps_done: int
    learning_rate: float
    batch_size: int | None
    device: str
    history_steps: list


class Training:
    """A target and the runs training on it; lives in the worker process."""

    def __init__(self):
        torch.set_num_threads(1)  # small ops are ~10x faster on one thread; the web server keeps the other core
        self.target = None
        self.runs: list[FieldRun] = []
        self._staged: FieldRun | None = None
        self._chunk, self._next_snapshot = 1, 0.0

    def set_target(self, target) -> None:
        """Train on ``target`` from the next ``reset`` on (the current runs are dropped)."""
        self.target, self.runs = target, []

    def reset(self, configs: list[FieldConfig], learning_rate: float, batch_size: int, device: str,
              view: View) -> list:
        """Fresh runs of ``configs`` on the target; returns their snapshots."""
        self.runs = [FieldRun(self.target, config, learning_rate, batch_size, device) for config in configs]
        return self.snapshots(view)

    def configure(self, learning_rate: float | None = None, batch_size: int | None = None,
                  adaptive: bool | None = None) -> None:
        """Settings that apply live, to every run."""
        for run in self.runs:
            if learning_rate is not None:
                run.set_learning_rate(learning_rate)
            if batch_size is not None:
                run.set_batch_size(batch_size)
            if adaptive is not None:
                run.set_adaptive(adaptive)

    # ---- stepping ------------------------------------------------------------------------
    def begin(self) -> None:
        """A new press of Train: the first chunk is one step and a snapshot follows it."""
        self._chunk, self._next_snapshot = 1, 0.0

    def advance(self, max_steps: int, view: View) -> tuple[int, list | None]:
        """One chunk of ~CHUNK_SECONDS (at most ``max_steps``) on every run; returns the steps
        taken and the snapshots when one was due (else None). A divergence raises
        ``DivergenceError`` after the engine restored the run's last good state."""
        n = max(1, min(self._chunk, int(max_steps)))
        started = time.perf_counter()
        for run in self.runs:
            run.step(n)
        per_step = (time.perf_counter() - started) / n
        self._chunk = max(1, int(CHUNK_SECONDS / max(per_step, 1e-6)))
        shots = self.snapshots(view) if time.perf_counter() >= self._next_snapshot else None
        return n, shots

    def step(self, n: int, view: View) -> list:
        """``n`` steps now, then the snapshots."""
        for run in self.runs:
            run.step(n)
        return self.snapshots(view)

    # ---- looking at the runs -------------------------------------------------------------
    def snapshots(self, view: View) -> list:
        """A snapshot of every run (the model first); finite runs also become the state a
        divergence returns to."""
        started = time.perf_counter()
        shots = [run.image_snapshot() if run.is_image else run.shape_snapshot(view.preview_resolution, view.slice_z)
                 for run in self.runs]
        for run in self.runs:
            if np.isfinite(run.last_loss):
                run.remember_good_state()
        cost = time.perf_counter() - started
        # refresh at most every SNAPSHOT_INTERVAL, and never spend more than SNAPSHOT_SHARE on it
        interval = SNAPSHOT_INTERVAL["image" if self.runs and self.runs[0].is_image else "shape"]
        self._next_snapshot = time.perf_counter() + max(interval, cost * (1 - SNAPSHOT_SHARE) / SNAPSHOT_SHARE)
        return shots

    def slice(self, z: float, resolution: int) -> np.ndarray:
        return self.runs[0].slice(z, resolution)

    def refine(self, resolution: int, slice_z: float):
        """The model's shape snapshot with its isosurface at ``resolution``."""
        return self.runs[0].shape_snapshot(resolution, slice_z, max_points=2_000_000)

    def mesh_bytes(self, resolution: int, file_type: str) -> bytes:
        mesh = self.runs[0].full_mesh(resolution)
        if mesh is None:
            raise InvalidInputError("the field has no surface yet: train it a little first")
        return mesh.export(file_type=file_type)

    def describe(self) -> list[RunInfo]:
        return [RunInfo(run.config, run.steps_done, run.learning_rate, run.batch_size, str(run.device),
                        list(run.trainer.history["step"])) for run in self.runs]

    def field(self, index: int = 0) -> torch.nn.Module:
        """A copy of a run's field (it is pickled on its way out of the worker)."""
        return self.runs[index].field

    # ---- checkpoints ---------------------------------------------------------------------
    def checkpoint_bytes(self) -> bytes:
        return self.runs[0].checkpoint_bytes()

    def stage_checkpoint(self, data: bytes, device: str) -> tuple:
        """Read a checkpoint into a run kept aside (the current runs go on training); returns
        (config, learning rate, batch size, target). Raises InvalidInputError for a bad file."""
        self._staged = FieldRun.from_checkpoint(data, device)
        run = self._staged
        return run.config, run.learning_rate, run.batch_size, run.target

    def adopt_checkpoint(self, view: View) -> list:
        """The staged run and its target replace the current ones; returns its snapshot."""
        run, self._staged = self._staged, None
        self.target, self.runs = run.target, [run]
        return self.snapshots(view)
