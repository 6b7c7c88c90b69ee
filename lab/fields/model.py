"""FieldsRoom: the neural fields room's state and actions, with no UI code.

A user picks a task (image or shape), a target (bundled or uploaded), a model and its
parameters, then trains. The fields train in the room's worker process (``lab.worker``; its
object is ``lab.fields.training.Training``), not in the server: in a thread of the server the
training waited for the GIL whenever the session's event loop serialised plots or answered a
click, and the event loop waited for the training. The room's ``BackgroundTask`` drives the
worker one chunk (~50 ms) at a time and publishes the snapshots (reconstruction, metrics,
kernels, mesh) the worker takes a few times a second; pause, resume and stop act between
chunks as before.
Learning rate, batch size and kernel adaptivity apply live; architecture parameters apply at
the next Train or Reset. The worker ends with the room's browser session.

With ``compare_model`` set, a second model trains on the same target with the same batch size
and step budget, step for step, and publishes ``rival_snapshot``.
"""
from __future__ import annotations

import dataclasses
import io

import numpy as np
import param
import torch

from engines.errors import InvalidInputError
from engines.fields.devices import resolve_device
from engines.fields.images import ImageTarget
from lab import worker
from lab.fields import targets
from lab.fields.run import MODELS, FieldConfig
from lab.fields.training import Training, View
from lab.rooms import worker_preload
from lab.tasks import BackgroundTask

MODEL_CHOICES = {label: key for key, label in MODELS.items()}
TASK_DEFAULTS = {"image": {"grid_resolution": 128, "learning_rate": 1e-2},
                 "shape": {"grid_resolution": 64, "learning_rate": 5e-3}}
# the worker's forkserver imports these once per server, so a room's worker starts in ~0.1 s
PROGRESS_INTERVAL = 0.5       # seconds between progress-line updates (each one is redrawn by the browser)
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
        self.background = BackgroundTask(name="fields-training", publish_interval=PROGRESS_INTERVAL)
        self._worker = worker.Worker(Training, preload=worker_preload(), name="fields-training")
        self._built: tuple = ()      # (configs, device, target) the worker's runs were built from
        self._sent_target = None     # the target the worker holds
        self._settings: dict = {}    # live settings not yet sent to the worker (replaced, never mutated)
        self._remaining = 0
        self._quiet = False  # set while parameters follow an upload or checkpoint
        self._target = self._bundled_target()
        self._publish(target_name=self._source_name())
        self.reset()

    def close(self) -> None:
        """Stop training and end the worker process (the browser session's end does this too)."""
        self.background.stop()
        self._worker.close()

    def _call(self, name: str, *args, **kwargs):
        """A method of the worker's ``Training``; live settings changed since the last call go first."""
        settings, self._settings = self._settings, {}
        if settings:
            self._worker.call("configure", **settings)
        return self._worker.call(name, *args, **kwargs)

    def _view(self) -> View:
        return View(self.preview_resolution, self.slice_z)

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
        return [config.model for config in self._built[0]] if self._built else []

    def runs(self) -> list:
        """Each run's state in plain values (``lab.fields.training.RunInfo``), model first."""
        return self._call("describe")

    def field(self, index: int = 0) -> torch.nn.Module:
        """A copy of a run's field, taken from the worker."""
        return self._call("field", index)

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
        if not self._worker.alive:  # it died (e.g. out of memory): start over in a new one
            self._worker.restart()
            self._sent_target = None
        if self._sent_target is not self._target:
            self._call("set_target", self._target)
            self._sent_target = self._target
        configs = self._planned_configs()
        shots = self._call("reset", configs, self.learning_rate, self.batch_size, self.device, self._view())
        self._built = (configs, resolve_device(self.device), self._target)
        self._settings = {}  # the new runs were built with the current settings
        self._publish_snapshots(shots, generation=self.generation + 1)

    def _runs_match_parameters(self) -> bool:
        if not self._built or not self._worker.alive:
            return False
        configs, device, target = self._built
        have = [dataclasses.replace(c, adaptive=False) for c in configs]
        want = [dataclasses.replace(c, adaptive=False) for c in self._planned_configs()]
        return have == want and target is self._target and device == resolve_device(self.device)

    def train(self) -> None:
        """Train for ``steps`` more steps (resumes when paused; rebuilds if the model changed)."""
        if self.background.state == "paused":
            self.background.resume()
            return
        if self.background.is_alive:
            return
        if not self._runs_match_parameters():
            self.reset()
        self._call("begin")
        self._remaining = self.steps
        self.background.start(self._advance, total_steps=self.steps, on_finish=self._finished)

    def pause(self) -> None:
        self.background.pause()

    def step(self, n: int = 10) -> None:
        """Advance ``n`` steps now (when not training in the background) and show the result."""
        if self.background.state == "running":
            return
        if not self._runs_match_parameters():
            self.reset()
        self._publish_snapshots(self._call("step", n, self._view()))

    def _advance(self) -> int | None:
        """The background step function: one chunk in the worker, and its snapshots if it took any."""
        if self._remaining <= 0:
            return None
        n, shots = self._call("advance", self._remaining, self._view())
        self._remaining -= n
        if shots is not None:
            self._publish_snapshots(shots)
        return n

    def _finished(self, outcome: str) -> None:
        try:  # after a divergence this shows the restored state
            self._publish_snapshots(self._call("snapshots", self._view()))
        except worker.WorkerError:
            pass  # the worker died (the task says so) or closed with its session: nothing to show

    def _publish_snapshots(self, shots: list, **also) -> None:
        """Publish the runs' snapshots (with ``also``) in one update."""
        self._publish(snapshot=shots[0], rival_snapshot=shots[1] if len(shots) > 1 else None, **also)

    def refine(self) -> None:
        """Recompute the isosurface at ``full_resolution`` now (shapes only)."""
        if self.is_image:
            return
        self._publish(snapshot=self._call("refine", self.full_resolution, self.slice_z))

    @param.depends("learning_rate", watch=True)
    def _apply_learning_rate(self) -> None:
        self._settings = {**self._settings, "learning_rate": self.learning_rate}  # sent before the next call

    @param.depends("batch_size", watch=True)
    def _apply_batch_size(self) -> None:
        self._settings = {**self._settings, "batch_size": self.batch_size}

    @param.depends("adaptive", watch=True)
    def _apply_adaptive(self) -> None:
        self._settings = {**self._settings, "adaptive": self.adaptive}

    @param.depends("slice_z", watch=True)
    def _apply_slice(self) -> None:
        shot = self.snapshot
        if self.is_image or shot is None or self.background.state == "running":
            return  # while training, the next snapshot carries the new slice
        values = self._call("slice", self.slice_z, len(shot.slice_values))
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
        return self._call("mesh_bytes", self.full_resolution, file_type)

    def checkpoint_bytes(self) -> bytes:
        return self._call("checkpoint_bytes")

    def load_checkpoint(self, data: bytes) -> None:
        """Continue from a checkpoint: its target, model and step count replace the current ones."""
        # raises InvalidInputError for a bad file; nothing has changed then
        config, learning_rate, batch_size, target = self._call("stage_checkpoint", data, self.device)
        self.background.stop()
        self._set_quietly(task="image" if isinstance(target, ImageTarget) else "shape", model=config.model,
                          n_kernels=config.n_kernels, top_k=config.top_k,
                          grid_levels=config.grid_levels, grid_resolution=config.grid_resolution,
                          adaptive=config.adaptive, seed=config.seed, compare_model="none",
                          learning_rate=learning_rate, batch_size=batch_size)
        self._settings = {}  # the parameters now follow the checkpoint's run
        shots = self._call("adopt_checkpoint", self._view())
        self._target = self._sent_target = target
        self._built = ([config], resolve_device(self.device), target)
        self._publish(target_name=f"checkpoint ({getattr(target, 'name', 'image')})")
        self._publish_snapshots(shots, generation=self.generation + 1)

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
