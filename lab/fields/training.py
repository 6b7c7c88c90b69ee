"""The fields room's training, as it runs in the room's worker process (``lab.worker``).

``Training`` holds the target and the run(s) learning it (the model and, when comparing, its
rival), advances them in chunks of ~CHUNK_SECONDS and takes snapshots when one is due: at most
every SNAPSHOT_INTERVAL and never more than SNAPSHOT_SHARE of the time, so that watching costs
little training. Each run trains on its own plan (``RunPlan``: its config, learning rate and
batch size, by default its family's tuned recipe). Compared runs share the budget step for step
(``pace="steps"``) or in training time (``pace="time"``: the run that is behind in wall-clock
training time goes next). ``FieldsRoom`` calls it through ``Worker.remote``, so every method
takes and returns plain picklable values: plans, numbers, snapshots of numpy arrays, bytes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from engines.errors import InvalidInputError
from lab.fields.config import FieldConfig
from lab.fields.radiance_run import make_run
from lab.fields.run import FieldRun

CHUNK_SECONDS = 0.05          # a pause or a learning-rate change takes effect within this
# fastest refresh per task (seconds), and the most of the time snapshots may take: a radiance
# preview is a rendered view (~0.1-0.3 s at 100x100 on one CPU thread) that must refresh at >= 1 Hz
SNAPSHOT_INTERVAL = {"image": 0.3, "shape": 1.0, "radiance": 0.9, "flatland": 0.5}
SNAPSHOT_SHARE = {"image": 1 / 10, "shape": 1 / 10, "radiance": 1 / 2, "flatland": 1 / 4}
PACES = ("steps", "time")


@dataclass(frozen=True)
class RunPlan:
    """One run to build: its field and how it trains (None: the family's tuned recipe)."""
    config: FieldConfig
    learning_rate: float | None = None
    batch_size: int | None = None


@dataclass(frozen=True)
class View:
    """What the room shows of a shape, a radiance scene or flatland (images need no choices)."""
    preview_resolution: int = 48
    slice_z: float = 0.0
    azimuth: float = 30.0        # the novel view's camera (degrees)
    elevation: float = 20.0
    preview_size: int = 100      # the novel view's pixels per side
    held_out: int = 0            # which held-out view is shown
    camera: int = 0              # flatland: the chosen ray's camera and pixel
    pixel: int = 64


@dataclass(frozen=True)
class RunInfo:
    """A run's state in plain values, for the room's bookkeeping and tests."""
    config: FieldConfig
    steps_done: int
    learning_rate: float
    batch_size: int | None
    device: str
    history_steps: list
    train_time: float = 0.0
    parameters: int = 0


class Training:
    """A target and the runs training on it; lives in the worker process."""

    def __init__(self):
        torch.set_num_threads(1)  # small ops are ~10x faster on one thread; the web server keeps the other core
        self.target = None
        self.runs: list = []          # FieldRun or RadianceRun (lab.fields.radiance_run.make_run)
        self.pace = "steps"
        self._staged = None
        self._chunks: list[int] = []
        self._next_snapshot = 0.0

    def set_target(self, target) -> None:
        """Train on ``target`` from the next ``reset`` on (the current runs are dropped)."""
        self.target, self.runs = target, []

    def reset(self, plans: list[RunPlan], device: str, view: View) -> list:
        """Fresh runs of ``plans`` on the target; returns their snapshots."""
        self.runs = [make_run(self.target, p.config, p.learning_rate, p.batch_size, device) for p in plans]
        self._chunks = [1] * len(self.runs)
        return self.snapshots(view)

    def configure(self, learning_rate: float | None = None, batch_size: int | None = None,
                  adaptive: bool | None = None, pace: str | None = None) -> None:
        """Settings that apply live: to the model's run (the rival keeps its own recipe)."""
        if pace is not None:
            self.pace = pace if pace in PACES else "steps"
        if not self.runs:
            return
        run = self.runs[0]
        if learning_rate is not None:
            run.set_learning_rate(learning_rate)
        if batch_size is not None:
            run.set_batch_size(batch_size)
        if adaptive is not None:
            run.set_adaptive(adaptive)

    # ---- stepping ------------------------------------------------------------------------
    def begin(self) -> None:
        """A new press of Train: the first chunks are one step and a snapshot follows them."""
        self._chunks, self._next_snapshot = [1] * len(self.runs), 0.0

    def _chunk(self, index: int, max_steps: int) -> int:
        """Steps of run ``index`` for about CHUNK_SECONDS (at most ``max_steps``), timed."""
        n = max(1, min(self._chunks[index], int(max_steps)))
        started = time.perf_counter()
        self.runs[index].step(n)
        per_step = (time.perf_counter() - started) / n
        self._chunks[index] = max(1, int(CHUNK_SECONDS / max(per_step, 1e-6)))
        return n

    def advance(self, max_steps: int, view: View) -> tuple[int, list | None]:
        """One chunk; returns the model's steps taken and the snapshots when one was due (else
        None). Step pace: every run takes the same steps. Time pace: the run behind in training
        time takes a chunk (the model's steps count towards ``max_steps``). A divergence raises
        ``DivergenceError`` after the engine restored the run's last good state."""
        if self.pace == "time" and len(self.runs) > 1:
            index = min(range(len(self.runs)), key=lambda i: self.runs[i].train_time)
            taken = self._chunk(index, max_steps if index == 0 else 1 << 30)
            n = taken if index == 0 else 0
        else:
            n = self._chunk(0, max_steps)
            for run in self.runs[1:]:
                run.step(n)
        shots = self.snapshots(view) if time.perf_counter() >= self._next_snapshot else None
        return n, shots

    def step(self, n: int, view: View) -> list:
        """``n`` steps of every run now, then the snapshots."""
        for run in self.runs:
            run.step(n)
        return self.snapshots(view)

    # ---- looking at the runs -------------------------------------------------------------
    def snapshots(self, view: View) -> list:
        """A snapshot of every run (the model first); finite runs also become the state a
        divergence returns to."""
        started = time.perf_counter()
        shots = [run.snapshot(view) for run in self.runs]
        for run in self.runs:
            if np.isfinite(run.last_loss):
                run.remember_good_state()
        cost = time.perf_counter() - started
        # refresh at most every SNAPSHOT_INTERVAL, and never spend more than SNAPSHOT_SHARE on it
        kind = self.kind
        share = SNAPSHOT_SHARE[kind]
        self._next_snapshot = time.perf_counter() + max(SNAPSHOT_INTERVAL[kind], cost * (1 - share) / share)
        return shots

    @property
    def kind(self) -> str:
        """The task of the runs: image, shape, radiance or flatland."""
        run = self.runs[0] if self.runs else None
        return getattr(run, "kind", None) or ("image" if run is None or run.is_image else "shape")

    def slice(self, z: float, resolution: int) -> list:
        return [run.slice(z, resolution) for run in self.runs]

    def refine(self, resolution: int, slice_z: float) -> list:
        """Every run's shape snapshot with its isosurface at ``resolution``."""
        return [run.shape_snapshot(resolution, slice_z, max_points=2_000_000) for run in self.runs]

    def _full_mesh(self, resolution: int):
        mesh = self.runs[0].full_mesh(resolution)
        if mesh is None:
            raise InvalidInputError("the field has no surface yet: train it a little first")
        return mesh

    def mesh_bytes(self, resolution: int, file_type: str) -> bytes:
        return self._full_mesh(resolution).export(file_type=file_type)

    def density_surface(self, resolution: int) -> tuple[np.ndarray, np.ndarray]:
        """The model's density isosurface (radiance): vertices (V, 3) and faces (F, 3)."""
        mesh = self._full_mesh(resolution)
        return np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.int64)

    def orbit_bytes(self, file_type: str, n_frames: int, size: int, elevation: float) -> bytes:
        """The model's scene seen from a camera going once around it, as a GIF or an MP4."""
        from engines.fields.radiance.export import animation_bytes
        return animation_bytes(self.runs[0].orbit(n_frames, size, elevation), file_type)

    def describe(self) -> list[RunInfo]:
        return [RunInfo(run.config, run.steps_done, run.learning_rate, run.batch_size, str(run.device),
                        list(run.trainer.history["step"]), run.train_time, run.field.param_count)
                for run in self.runs]

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
        self._chunks = [1]
        return self.snapshots(view)
