"""FieldsRoom: the neural fields room's state and actions, with no UI code.

A user picks a task (image or shape), a target (bundled or uploaded), a model and its
parameters, then trains. Training runs in the room's one ``BackgroundTask``; the task's step
function advances the run(s) by a chunk of ~50 ms and publishes a snapshot (reconstruction,
metrics, kernels, mesh) at most a few times a second and never using more than ~1/10 of the
time, so that watching costs little training throughput. Learning rate, batch size and
kernel adaptivity apply live; architecture parameters apply at the next Train or Reset.

With ``compare_model`` set, a second model trains on the same target with the same batch size
and step budget, step for step in the same thread, and publishes ``rival_snapshot``.
"""
from __future__ import annotations

import dataclasses
import io
import threading
import time

import numpy as np
import param
import torch

from engines.errors import InvalidInputError
from engines.fields.devices import resolve_device
from engines.fields.images import ImageTarget
from lab.fields import targets
from lab.fields.run import MODELS, FieldConfig, FieldRun
from lab.tasks import BackgroundTask

MODEL_CHOICES = {label: key for key, label in MODELS.items()}
CHUNK_SECONDS = 0.05          # a pause or a learning-rate change takes effect within this
SNAPSHOT_SHARE = 1 / 10       # at most this share of the time goes to snapshots
TASK_DEFAULTS = {"image": {"grid_resolution": 128, "learning_rate": 1e-2},
                 "shape": {"grid_resolution": 64, "learning_rate": 5e-3}}
SNAPSHOT_INTERVAL = {"image": 0.3, "shape": 1.0}  # fastest refresh per task, in seconds
# "cuda" is offered only where torch sees a GPU; "auto" takes it there and is the CPU elsewhere
DEVICES = ["cpu", "auto"] + (["cuda"] if torch.cuda.is_available() else [])


class FieldsRoom(param.Parameterized):
    """Train an RBF neural field (or a baseline) on an image or a 3-D shape."""

    task = param.Selector(default="image", objects=["image", "shape"],
                          doc="Fit an image (2-D field of colours) or a shape (3-D signed distance).")
    image_source = param.Selector(default="camera", objects=targets.image_sources(),
                                  doc="A bundled image from scikit-image.")
    image_size = param.Integer(default=128, bounds=(16, 512),
                               doc="Long side, in pixels, the image is resized to before training.")
    shape_source = param.Selector(default="torus", objects=targets.shape_sources(),
                                  doc="An analytic shape (exact SDF), a trimesh shape or a pyvista mesh.")
    model = param.Selector(default="gnf", objects=MODEL_CHOICES,
                           doc="GNF and NeuRBF are RBF fields; the others are baselines.")
    n_kernels = param.Integer(default=32, bounds=(1, 16384),
                              doc="GNF: Gaussian units in feature space. NeuRBF: kernels in the image or volume.")
    top_k = param.Integer(default=4, bounds=(1, 32), doc="NeuRBF: nearest kernels each point reads.")
    grid_levels = param.Integer(default=3, bounds=(1, 6), doc="Feature grid levels (coarser levels halve the resolution).")
    grid_resolution = param.Integer(default=128, bounds=(4, 512), doc="Resolution of the finest feature grid.")
    learning_rate = param.Number(default=1e-2, bounds=(1e-5, 1.0), step=1e-3,
                                 doc="Adam's learning rate; can be changed while training.")
    batch_size = param.Integer(default=4096, bounds=(64, 65536),
                               doc="Pixels or SDF samples per step; can be changed while training.")
    steps = param.Integer(default=500, bounds=(1, 100_000), doc="Steps each press of Train runs.")
    adaptive = param.Boolean(default=False,
                             doc="NeuRBF: kernel centres and shapes keep learning (NeuRBF itself freezes them).")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), doc="Seeds initialisation and batch sampling.")
    device = param.Selector(default="cpu", objects=DEVICES,
                            doc="Where the fields train: the CPU (fastest for small fields, reproducible), "
                                "'auto' (the GPU when there is one, else the CPU) or 'cuda' (a GPU; offered "
                                "only when one is available). Applies at the next Train or Reset.")
    compare_model = param.Selector(default="none", objects={"(no comparison)": "none", **MODEL_CHOICES},
                                   doc="Train a second model on the same target and budget, side by side.")
    preview_resolution = param.Integer(default=48, bounds=(16, 96),
                                       doc="Grid for the live isosurface; full resolution is computed on demand.")
    full_resolution = param.Integer(default=128, bounds=(32, 256), doc="Grid for the on-demand isosurface and exports.")
    slice_z = param.Number(default=0.0, bounds=(-1.0, 1.0), step=0.05, doc="Height of the SDF slice plane.")

    # results (read-only)
    target_name = param.String(default="", constant=True, doc="What is being learnt.")
    snapshot = param.Parameter(default=None, constant=True, doc="Latest ImageSnapshot or ShapeSnapshot.")
    rival_snapshot = param.Parameter(default=None, constant=True, doc="The compared model's snapshot.")
    generation = param.Integer(default=0, constant=True, doc="Increases at every reset: curves restart.")
    notice = param.String(default="", constant=True, doc="Latest information for the user (e.g. a downscale).")

    ARCHITECTURE = ("model", "n_kernels", "top_k", "grid_levels", "grid_resolution", "seed", "compare_model",
                    "device")

    def __init__(self, **params):
        super().__init__(**params)
        self.background = BackgroundTask(name="fields-training")
        self._lock = threading.RLock()
        self._runs: list[FieldRun] = []
        self._remaining, self._chunk, self._next_snapshot = 0, 1, 0.0
        self._quiet = False  # set while parameters follow an upload or checkpoint
        self._target = self._bundled_target()
        self._publish(target_name=self._source_name())
        self.reset()

    # ---- targets -------------------------------------------------------------------------
    def _source_name(self) -> str:
        return self.image_source if self.task == "image" else self.shape_source

    def _bundled_target(self):
        if self.task == "image":
            return targets.image_target(self.image_source, self.image_size)
        return targets.shape_target(self.shape_source, self.seed)

    @param.depends("task", watch=True, on_init=False)
    def _apply_task_defaults(self) -> None:
        if not self._quiet:  # 3-D grids grow as res^3: a coarser finest level and a gentler lr
            self._set_quietly(**TASK_DEFAULTS[self.task])

    @param.depends("task", "image_source", "image_size", "shape_source", watch=True)
    def _load_bundled_target(self) -> None:
        if self._quiet:
            return
        self.set_target(self._bundled_target(), self._source_name())

    def set_target(self, target, name: str) -> None:
        """Train on ``target`` from now on; training stops and the runs start afresh."""
        self.background.stop()
        with self._lock:
            self._target = target
            self._publish(target_name=name, notice=getattr(target, "notice", None) or "")
            self.reset()

    def upload(self, data: bytes, filename: str) -> None:
        """An uploaded image (PNG/JPEG/TIFF) or mesh (PLY/STL/OBJ/OFF), chosen by extension.

        Raises InvalidInputError for a bad file; the current target and runs are then kept.
        """
        ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext in targets.IMAGE_EXTENSIONS:
            target = targets.image_from_upload(data, filename, self.image_size)
            task = "image"
        elif ext in targets.MESH_EXTENSIONS:
            target = targets.shape_from_upload(data, filename, self.seed)
            task = "shape"
        else:
            kinds = targets.IMAGE_EXTENSIONS + targets.MESH_EXTENSIONS
            raise InvalidInputError(f"{filename} is not supported: upload one of "
                                    f"{', '.join(k.lstrip('.').upper() for k in kinds)}")
        self._set_quietly(task=task)
        self.set_target(target, filename)

    @property
    def target(self):
        return self._target

    @property
    def run_models(self) -> list[str]:
        """Model keys of the runs being trained (the compared one second)."""
        return [run.config.model for run in self._runs]

    @property
    def is_image(self) -> bool:
        return isinstance(self._target, ImageTarget)

    # ---- actions -------------------------------------------------------------------------
    def config(self, model: str | None = None) -> FieldConfig:
        return FieldConfig(model=model or self.model, n_kernels=self.n_kernels, top_k=self.top_k,
                           grid_levels=self.grid_levels, grid_resolution=self.grid_resolution,
                           adaptive=self.adaptive, seed=self.seed)

    def _planned_configs(self) -> list[FieldConfig]:
        configs = [self.config()]
        if self.compare_model != "none":
            configs.append(self.config(self.compare_model))
        return configs

    def reset(self) -> None:
        """Stop training and build fresh runs from the current parameters."""
        self.background.stop()
        with self._lock:
            self._runs = [FieldRun(self._target, config, self.learning_rate, self.batch_size, self.device)
                          for config in self._planned_configs()]
            self._publish_snapshots(generation=self.generation + 1)

    def _runs_match_parameters(self) -> bool:
        have = [dataclasses.replace(run.config, adaptive=False) for run in self._runs]
        want = [dataclasses.replace(c, adaptive=False) for c in self._planned_configs()]
        device = resolve_device(self.device)
        return have == want and all(run.target is self._target and run.device == device for run in self._runs)

    def train(self) -> None:
        """Train for ``steps`` more steps (resumes when paused; rebuilds if the model changed)."""
        if self.background.state == "paused":
            self.background.resume()
            return
        if self.background.is_alive:
            return
        if not self._runs_match_parameters():
            self.reset()
        torch.set_num_threads(1)  # small ops are ~10x faster on one thread; the web server keeps the other core
        self._remaining, self._chunk, self._next_snapshot = self.steps, 1, 0.0
        self.background.start(self._advance, total_steps=self.steps, on_finish=self._finished)

    def pause(self) -> None:
        self.background.pause()

    def step(self, n: int = 10) -> None:
        """Advance ``n`` steps now (when not training in the background) and show the result."""
        if self.background.state == "running":
            return
        if not self._runs_match_parameters():
            self.reset()
        with self._lock:
            for run in self._runs:
                run.step(n)
            self._publish_snapshots()

    def _advance(self) -> int | None:
        """The background step function: one chunk of ~CHUNK_SECONDS, then maybe a snapshot."""
        if self._remaining <= 0:
            return None
        with self._lock:
            n = min(self._chunk, self._remaining)
            started = time.perf_counter()
            for run in self._runs:
                run.step(n)
            per_step = (time.perf_counter() - started) / n
            self._chunk = max(1, int(CHUNK_SECONDS / max(per_step, 1e-6)))
            self._remaining -= n
            if time.perf_counter() >= self._next_snapshot:
                self._publish_snapshots()
        return n

    def _finished(self, outcome: str) -> None:
        with self._lock:
            self._publish_snapshots()

    # ---- snapshots -----------------------------------------------------------------------
    def _snapshot_of(self, run: FieldRun):
        if run.is_image:
            return run.image_snapshot()
        return run.shape_snapshot(self.preview_resolution, self.slice_z)

    def _publish_snapshots(self, **also) -> None:
        """Snapshot every run and publish them (with ``also``) in one update."""
        started = time.perf_counter()
        shots = [self._snapshot_of(run) for run in self._runs]
        for run in self._runs:
            if np.isfinite(run.last_loss):
                run.remember_good_state()
        cost = time.perf_counter() - started
        # refresh at most every SNAPSHOT_INTERVAL, and never spend more than SNAPSHOT_SHARE on it
        gap = max(SNAPSHOT_INTERVAL[self.task], cost * (1 - SNAPSHOT_SHARE) / SNAPSHOT_SHARE)
        self._next_snapshot = time.perf_counter() + gap
        self._publish(snapshot=shots[0], rival_snapshot=shots[1] if len(shots) > 1 else None, **also)

    def refine(self) -> None:
        """Recompute the isosurface at ``full_resolution`` now (shapes only)."""
        if self.is_image:
            return
        with self._lock:
            shot = self._runs[0].shape_snapshot(self.full_resolution, self.slice_z, max_points=2_000_000)
            self._publish(snapshot=shot)

    @param.depends("learning_rate", watch=True)
    def _apply_learning_rate(self) -> None:
        for run in self._runs:
            run.set_learning_rate(self.learning_rate)

    @param.depends("batch_size", watch=True)
    def _apply_batch_size(self) -> None:
        for run in self._runs:
            run.set_batch_size(self.batch_size)

    @param.depends("adaptive", watch=True)
    def _apply_adaptive(self) -> None:
        for run in self._runs:
            run.set_adaptive(self.adaptive)

    @param.depends("slice_z", watch=True)
    def _apply_slice(self) -> None:
        shot = self.snapshot
        if self.is_image or shot is None or self.background.state == "running":
            return  # while training, the next snapshot carries the new slice
        with self._lock:
            values = self._runs[0].slice(self.slice_z, len(shot.slice_values))
        self._publish(snapshot=dataclasses.replace(shot, slice_values=values, slice_z=self.slice_z))

    # ---- export and checkpoints ----------------------------------------------------------
    def reconstruction_png(self) -> bytes:
        if not self.is_image:
            raise InvalidInputError("PNG export is for image tasks; export a mesh for shapes")
        from PIL import Image
        pixels = (np.clip(self.snapshot.reconstruction, 0, 1) * 255).round().astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        return buffer.getvalue()

    def mesh_bytes(self, file_type: str = "ply") -> bytes:
        if self.is_image:
            raise InvalidInputError("mesh export is for shape tasks; export a PNG for images")
        if file_type not in ("ply", "stl"):
            raise InvalidInputError(f"meshes export as PLY or STL, not {file_type!r}")
        with self._lock:
            mesh = self._runs[0].full_mesh(self.full_resolution)
        if mesh is None:
            raise InvalidInputError("the field has no surface yet: train it a little first")
        return mesh.export(file_type=file_type)

    def checkpoint_bytes(self) -> bytes:
        with self._lock:
            return self._runs[0].checkpoint_bytes()

    def load_checkpoint(self, data: bytes) -> None:
        """Continue from a checkpoint: its target, model and step count replace the current ones."""
        run = FieldRun.from_checkpoint(data, self.device)  # raises InvalidInputError; nothing changed yet
        self.background.stop()
        config = run.config
        with self._lock:
            self._set_quietly(task="image" if run.is_image else "shape", model=config.model,
                              n_kernels=config.n_kernels, top_k=config.top_k,
                              grid_levels=config.grid_levels, grid_resolution=config.grid_resolution,
                              adaptive=config.adaptive, seed=config.seed, compare_model="none",
                              learning_rate=run.learning_rate, batch_size=run.batch_size)
        with self._lock:
            self._target, self._runs = run.target, [run]
            self._publish(target_name=f"checkpoint ({getattr(run.target, 'name', 'image')})")
            self._publish_snapshots(generation=self.generation + 1)

    def _set_quietly(self, **values) -> None:
        """Update parameters (and their widgets) without reloading a bundled target."""
        self._quiet = True
        try:
            self.param.update(**values)
        finally:
            self._quiet = False

    def _publish(self, **values) -> None:
        with param.edit_constant(self):
            self.param.update(**values)
