"""A step-wise trainer for any field on an image or SDF target.

The room drives it from its own background thread: ``step(n)`` advances n optimiser steps,
``snapshot(preview_res)`` returns a cheap copy of the state for drawing, pausing is simply not
calling ``step``. No threads here. A NaN or exploding loss restores the last good state and raises
``DivergenceError``.
"""
from __future__ import annotations

import copy
import dataclasses
import io
import math
import time
from dataclasses import dataclass, field as dc_field

import numpy as np
import torch

from ..errors import DivergenceError, InvalidInputError
from ..files import atomic_write_bytes
from . import images, meshing, metrics
from .devices import keep_freed_memory, resolve_device
from .images import ImageTarget
from .family import Recipe, task_of
from .registry import FAMILIES, build_field

GENERIC_RECIPE = Recipe(lr=1e-3, batch_size=1 << 14)  # a field no family declares
PSNR_PIXELS = 1 << 14  # pixels of the fixed subset the cheap live PSNR is measured on


@dataclass
class Snapshot:
    step: int
    wall_time: float                 # seconds spent inside step()
    cpu_time: float                  # CPU seconds of this process inside step() (shared machines)
    loss: float
    lr: float
    metrics: dict                    # cheap ones: image PSNR / SDF IoU on a subset
    history: dict                    # lists: step, loss, wall_time, cpu_time
    preview: np.ndarray | None       # image (h, w[, 3]) or SDF values on a preview_res^3 grid
    kernels: dict | None = dc_field(default=None)  # centres, shapes, weight norms, init weights


class Trainer:
    """Trains ``field`` on ``target`` with its family's tuned recipe for the task.

    ``lr``, ``batch_size``, ``final_lr_ratio``, ``hold``, ``schedule`` and ``loss`` override the
    recipe (``registry.recipe(field.name, task)``), as does a whole ``recipe``. Batches are random
    pixels (images; a batch at least as large as the image is the whole image) or random samples
    of the SDF target's pool, drawn with a CPU generator, the same way for every field.
    """

    def __init__(self, field, target, lr: float | None = None, total_steps: int = 2000,
                 final_lr_ratio: float | None = None, hold: float | None = None, batch_size: int | None = None,
                 seed: int = 0, threads: int | None = 1, good_state_every: int = 25, explode_ratio: float = 1e4,
                 device=None, recipe: Recipe | None = None, schedule: str | None = None, loss: str | None = None):
        if field.in_dim != target.in_dim or field.out_dim != target.out_dim:
            raise InvalidInputError(f"the field maps {field.in_dim}-D -> {field.out_dim} values but the "
                                    f"target needs {target.in_dim}-D -> {target.out_dim}")
        self.device = resolve_device(device)
        if self.device.type == "cpu":
            keep_freed_memory()  # batch-sized tensors would otherwise page-fault in at every step
            if threads:
                torch.set_num_threads(threads)  # one thread is ~10x faster than two on small ops here
        self.field, self.target, self.seed = field.to(self.device), target, seed
        self.is_image = isinstance(target, ImageTarget)
        self.recipe = _recipe(field, target, recipe, lr=lr, batch_size=batch_size, final_lr_ratio=final_lr_ratio,
                              hold=hold, schedule=schedule, loss=loss)
        self.batch_size = self.recipe.batch_size
        # batches are drawn on the CPU generator whatever the device, so a seed picks the same
        # samples everywhere; the target's tensors stay on the CPU and the trainer holds copies
        # on its device (on the CPU these are the target's own tensors: nothing is copied)
        self.generator = torch.Generator().manual_seed(seed)
        if self.is_image:
            self._x, self._y = target.coords.to(self.device), target.values.to(self.device)
        else:
            self._x, self._y = target.pool_x.to(self.device), target.pool_y.to(self.device)
        self._all = torch.arange(len(self._x), device=self.device)
        self._eval_x = self._psnr_idx = None
        if hasattr(field, "initialise"):
            field.initialise(*target.init_points(), seed=seed)
        if hasattr(field, "attach"):  # it may cache what depends only on the fixed training points
            field.attach(self._x)
        self.base_lr = self.recipe.lr
        self.total_steps = max(int(total_steps), 1)
        # every parameter is handed to Adam: frozen ones get no gradient and are skipped, and
        # switching NeuRBF's kernels to adaptive later needs no new optimiser
        # fused Adam: one kernel over all tensors, ~2.5x faster than the default on one CPU thread
        self.optimizer = torch.optim.Adam(self._param_groups(), lr=self.base_lr, betas=self.recipe.betas,
                                          eps=self.recipe.eps, fused=True)
        self.step_count, self.wall_time, self.cpu_time = 0, 0.0, 0.0
        self.history = {"step": [], "loss": [], "wall_time": [], "cpu_time": []}
        self.good_state_every, self.explode_ratio = good_state_every, explode_ratio
        self._best_loss = math.inf
        self._good = self._capture()

    def _param_groups(self) -> list[dict]:
        """One Adam group per parameter group the field declares, each with its rate factor."""
        groups = self.field.param_groups() if hasattr(self.field, "param_groups") else \
            {"all": list(self.field.parameters())}
        scale = dict(self.recipe.lr_scale)
        return [{"params": params, "name": name, "lr_factor": scale.get(name, 1.0)}
                for name, params in groups.items() if params]

    @property
    def final_lr_ratio(self) -> float:
        return self.recipe.final_lr_ratio

    # --- learning rate -------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        """The base rate at ``step`` of the recipe's schedule over total_steps ("exp": held for
        the first ``hold`` share, then exponential decay to base_lr * final_lr_ratio; "cosine":
        cosine decay to it). Parameter groups scale it by their factors."""
        return self.base_lr * self.recipe.lr_at(step / self.total_steps)

    def set_lr(self, lr: float) -> None:
        """Change the base learning rate while training (the schedule keeps its shape)."""
        if not lr > 0:
            raise InvalidInputError("the learning rate must be positive")
        self.base_lr = float(lr)

    @property
    def lr(self) -> float:
        """The rate the next step will use: the schedule scaled by the current base rate."""
        return self.lr_at(self.step_count)

    def set_batch_size(self, batch_size: int | None) -> None:
        """Samples per step from the next step on; None goes back to the recipe's. On an image a
        batch at least as large as the image is every pixel."""
        if batch_size is not None and int(batch_size) < 1:
            raise InvalidInputError("the batch size must be at least 1")
        self.batch_size = self.recipe.batch_size if batch_size is None else int(batch_size)

    # --- training ------------------------------------------------------------------------
    def _batch(self):
        """(x, y, index into the training points): random pixels of the image, or random
        samples of the SDF target's pool (as SdfTarget.sample)."""
        x, y = self._x, self._y
        if self.batch_size >= len(x) and self.is_image:
            return x, y, self._all  # every pixel, the same tensor every step
        idx = torch.randint(len(x), (self.batch_size,), generator=self.generator).to(self.device)
        return x.index_select(0, idx), y.index_select(0, idx), idx

    def _eval_points(self) -> torch.Tensor:
        """The SDF target's evaluation points on the trainer's device (copied once)."""
        if self._eval_x is None:
            self._eval_x = torch.as_tensor(self.target.eval_x).to(self.device)
        return self._eval_x

    def _loss(self, pred, y):
        if not self.is_image:
            return ((pred - y).abs() / (y.abs() + 1e-2)).mean()  # NeuRBF's relative L1 for SDFs
        if self.recipe.loss == "l1":
            return (pred - y).abs().mean()  # GNF's image loss
        return ((pred - y) ** 2).mean()

    def _forward(self, x, index):
        """Fields that ``attach``ed the training points also take the batch's indices."""
        return self.field(x, index) if hasattr(self.field, "attach") else self.field(x)

    def step(self, n: int = 1) -> float:
        """Advance n optimiser steps; returns the last loss."""
        self.field.train()
        loss_value = math.nan
        for _ in range(int(n)):
            start, cpu_start = time.perf_counter(), time.process_time()
            rate = self.lr_at(self.step_count)
            for group in self.optimizer.param_groups:
                group["lr"] = rate * group.get("lr_factor", 1.0)
            x, y, index = self._batch()
            loss = self._loss(self._forward(x, index), y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss_value = loss.item()
            self.wall_time += time.perf_counter() - start
            self.cpu_time += time.process_time() - cpu_start
            self._check(loss_value)
            self.step_count += 1
            self._record(loss_value)
        return loss_value

    def _record(self, loss: float) -> None:
        self.history["step"].append(self.step_count)
        self.history["loss"].append(loss)
        self.history["wall_time"].append(self.wall_time)
        self.history["cpu_time"].append(self.cpu_time)
        self._best_loss = min(self._best_loss, loss)
        if self.step_count % self.good_state_every == 0:
            self._good = self._capture()

    def _check(self, loss: float) -> None:
        if math.isfinite(loss) and loss <= self.explode_ratio * self._best_loss:
            return
        bad_step = self.step_count + 1
        self._restore(self._good)
        raise DivergenceError(f"the loss became {loss:.3g} at step {bad_step}; restored the state of "
                              f"step {self.step_count}. Try a lower learning rate.")

    def remember_good_state(self) -> None:
        """Make the current state the one a divergence returns to (besides every good_state_every
        steps); the room calls it when it publishes a finite snapshot."""
        self._good = self._capture()

    def _capture(self) -> dict:
        return {"field": copy.deepcopy(self.field.state_dict()),
                "optimizer": copy.deepcopy(self.optimizer.state_dict()),
                "step": self.step_count, "wall_time": self.wall_time, "cpu_time": self.cpu_time,
                "history_len": len(self.history["step"])}

    def _restore(self, state: dict) -> None:
        self.field.load_state_dict(state["field"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_count, self.wall_time, self.cpu_time = state["step"], state["wall_time"], state["cpu_time"]
        for values in self.history.values():
            del values[state["history_len"]:]
        if hasattr(self.field, "invalidate"):  # caches computed from kernels that were replaced
            self.field.invalidate()

    # --- looking at it -------------------------------------------------------------------
    def quick_metrics(self) -> dict:
        """Cheap live metrics: an image's PSNR on a fixed subset of pixels, an SDF's IoU on
        20,000 of its evaluation points."""
        if not self.history["loss"]:
            return {}
        with torch.no_grad():
            self.field.eval()
            if self.is_image:
                if self._psnr_idx is None:
                    n = min(PSNR_PIXELS, len(self._x))
                    self._psnr_idx = torch.randperm(len(self._x), generator=torch.Generator().manual_seed(0))[:n]
                x = self._x[self._psnr_idx.to(self.device)]
                pred = self.field(x).clamp(0, 1).cpu()
                mse = float(((pred - self.target.values[self._psnr_idx]) ** 2).mean())
                return {"psnr": -10 * math.log10(max(mse, 1e-12))}
            pred = self.field(self._eval_points()[:20_000])[:, 0].cpu().numpy()
        return {"iou": metrics.iou(pred, self.target.eval_y[:20_000])}

    def preview(self, res: int = 64) -> np.ndarray:
        self.field.eval()
        if self.is_image:
            t = self.target
            scale = res / max(t.height, t.width)
            h, w = max(int(round(t.height * scale)), 2), max(int(round(t.width * scale)), 2)
            return t.display(images.render(self.field, h, w))
        return meshing.evaluate_grid(self.field, res)

    def snapshot(self, preview_res: int | None = 64, kernels: bool = True) -> Snapshot:
        return Snapshot(step=self.step_count, wall_time=self.wall_time, cpu_time=self.cpu_time,
                        loss=self.history["loss"][-1] if self.history["loss"] else math.nan,
                        lr=self.lr_at(self.step_count), metrics=self.quick_metrics(),
                        history={k: list(v) for k, v in self.history.items()},
                        preview=self.preview(preview_res) if preview_res else None,
                        kernels=self.field.kernel_params() if kernels and hasattr(self.field, "kernel_params") else None)

    def reconstruction(self) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution image and its per-pixel absolute error (mean over channels)."""
        t = self.target
        self.field.eval()
        pred = np.clip(images.render(self.field, t.height, t.width), 0, 1)
        return t.display(pred), np.abs(pred - t.image).mean(-1)

    def mesh(self, res: int = 128):
        """Marching-cubes mesh of the zero level set and each vertex's |true SDF| (or None)."""
        self.field.eval()
        mesh = meshing.extract_mesh(self.field, res)
        if mesh is None:
            return None, None
        return mesh, np.abs(self.target.sdf(np.asarray(mesh.vertices)))

    @torch.no_grad()
    def sdf_iou(self) -> float:
        """Occupancy IoU on all of the target's evaluation points (SDFs)."""
        self.field.eval()
        pred = torch.cat([self.field(c)[:, 0] for c in self._eval_points().split(1 << 16)])
        return metrics.iou(pred.cpu().numpy(), self.target.eval_y)

    def vertex_chamfer(self, vertices: np.ndarray, faces: np.ndarray, n_surface: int = 20_000) -> float:
        """Chamfer-L1 between a (preview) mesh's vertices and the true surface, whose samples are
        drawn once and kept: cheap enough for live snapshots."""
        if getattr(self, "_true_surface", None) is None:
            self._true_surface = self.target.surface(n_surface, seed=self.seed)
        import trimesh
        normals = np.asarray(trimesh.Trimesh(vertices, faces, process=False).vertex_normals)
        return metrics.surface_metrics(vertices, normals, *self._true_surface)["chamfer_l1"]

    def evaluate(self, mesh_res: int = 128, n_surface: int = 30_000) -> dict:
        """Full metrics: PSNR and SSIM for images; IoU, Chamfer-L1, normal consistency, F-score for SDFs."""
        if self.is_image:
            pred, _ = self.reconstruction()
            truth = self.target.display(self.target.image)
            return {"psnr": metrics.psnr(pred, truth), "ssim": metrics.ssim(pred, truth)}
        with torch.no_grad():
            self.field.eval()
            pred = torch.cat([self.field(c) for c in self._eval_points().split(1 << 16)])
        out = {"iou": metrics.iou(pred[:, 0].cpu().numpy(), self.target.eval_y)}
        mesh = meshing.extract_mesh(self.field, mesh_res)
        true_pts, true_n = self.target.surface(n_surface, seed=self.seed)
        if mesh is None:
            return {**out, **metrics.surface_metrics(np.zeros((0, 3)), None, true_pts, true_n)}
        import trimesh
        pts, faces = trimesh.sample.sample_surface(mesh, n_surface, seed=self.seed)
        return {**out, **metrics.surface_metrics(pts, mesh.face_normals[faces], true_pts, true_n)}

    # --- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Field, optimiser, step, history, learning rate, batch size and sampler state: only
        tensors (all on the CPU, whatever the trainer's device) and plain Python values, so
        ``torch.load(weights_only=True)`` reads it back on any machine."""
        state = self._capture()
        state.update(history=self.history, base_lr=self.base_lr, generator=self.generator.get_state(),
                     field_name=getattr(self.field, "name", None), best_loss=self._best_loss,
                     batch_size=self.batch_size)
        return _to_cpu(state)

    def save(self, path: str) -> None:
        """Atomic checkpoint of ``state_dict()``."""
        buf = io.BytesIO()
        torch.save(self.state_dict(), buf)
        atomic_write_bytes(path, buf.getvalue())

    def load(self, path) -> None:
        """Continue from a checkpoint file (a path or a file object); never runs code from it."""
        try:
            # read onto the CPU: loading copies the field's tensors to its device and Adam moves
            # its moments there too, but keeps its step counters on the CPU as it expects them
            state = torch.load(path, weights_only=True, map_location="cpu")
        except Exception as exc:
            raise InvalidInputError(f"{path} is not a readable checkpoint ({exc})") from exc
        self.load_state_dict(state)

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or "history" not in state:
            raise InvalidInputError("this is not a fields trainer checkpoint")
        if state.get("field_name") != getattr(self.field, "name", None):
            raise InvalidInputError(f"the checkpoint holds a {state.get('field_name')} field, not "
                                    f"{getattr(self.field, 'name', None)}")
        self.history = {k: list(v) for k, v in state["history"].items()}
        try:
            self._restore(state)
        except RuntimeError as exc:
            raise InvalidInputError(f"the checkpoint does not fit this field's sizes ({exc})") from exc
        self.base_lr, self._best_loss = state["base_lr"], state["best_loss"]
        self.generator.set_state(state["generator"].cpu())  # the sampler is a CPU generator
        self.batch_size = state.get("batch_size", self.batch_size)
        self._good = self._capture()


def _to_cpu(value):
    """``value`` with every tensor inside (dicts, lists, tuples) on the CPU; CPU tensors are
    returned as they are (no copy)."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value


def _recipe(field, target, recipe: Recipe | None, **overrides) -> Recipe:
    """The recipe of the field's family for the target's task, with ``overrides`` that are set."""
    family = FAMILIES.get(getattr(field, "name", None))
    base = recipe or (family.recipe(task_of(target.in_dim)) if family else GENERIC_RECIPE)
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def make_trainer(field_name: str, target, param_budget: int | None = None, seed: int = 0,
                 architecture: dict | None = None, **kwargs) -> Trainer:
    """Build a field for ``target`` (seeded, knobs from ``architecture`` or the family's
    defaults) and its trainer (the family's recipe unless overridden) in one call."""
    field = build_field(field_name, target.in_dim, target.out_dim, param_budget=param_budget, seed=seed,
                        **(architecture or {}))
    return Trainer(field, target, seed=seed, **kwargs)
