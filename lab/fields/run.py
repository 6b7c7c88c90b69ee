"""The room's view of one field learning one target: an adapter over the engine's ``Trainer``.

``FieldRun`` turns a ``FieldConfig`` (lab.fields.config: a family and the knob values the room
chose for it; the family's declaration supplies the rest) into an engine field and ``Trainer``, whose recipe (learning rate, batch
size, schedule) is the family's own unless the room sets one. The training loop, divergence
recovery and checkpoint state are the engine's. What stays here is the room's vocabulary:
``image_snapshot`` / ``shape_snapshot`` are plain dataclasses of numpy arrays that a view can
draw without touching torch, and a checkpoint also carries the config and the target.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
import trimesh

from engines.errors import InvalidInputError
from engines.fields.devices import resolve_device
from engines.fields.images import ImageTarget
from engines.fields.meshing import extract_mesh, preview_surface, slice_plane
from engines.fields.metrics import psnr
from engines.fields.rbf import NeuRBF
from engines.fields.sdf import SdfTarget
from engines.fields.trainer import Trainer
from lab.fields.config import MODELS, FieldConfig  # noqa: F401  (the room imports them from here)
from lab.fields.units import kernel_view

CHECKPOINT_FORMAT = "neural-lab-fields/3"


@dataclass
class ImageSnapshot:
    step: int
    train_time: float
    loss: float
    psnr: float
    target: np.ndarray          # (H, W) or (H, W, 3) in [0, 1]
    reconstruction: np.ndarray  # same shape as target
    error: np.ndarray           # (H, W) mean absolute error over channels
    kernels: dict | None        # lab.fields.units.kernel_view: NeuRBF ellipses or GNF's unit map
    init_weights: np.ndarray | None = None  # (H, W) k-means weights (NeuRBF)


@dataclass
class ShapeSnapshot:
    step: int
    train_time: float
    loss: float
    iou: float
    chamfer: float
    vertices: np.ndarray        # (V, 3) preview isosurface, empty when there is none yet
    faces: np.ndarray           # (F, 3)
    distance: np.ndarray        # (V,) |true SDF| at each vertex: distance to the ground truth
    resolution: int
    kernels: dict | None = None  # centres (K, 3), weight_norms (K,)
    slice_values: np.ndarray | None = None  # (R, R) field on the plane z = slice_z
    slice_z: float = 0.0


class TrainerRun:
    """The room's names for an engine trainer's state and live settings (``self.trainer``): what
    ``FieldRun`` and the radiance run (lab.fields.radiance_run) share."""

    field = property(lambda self: self.trainer.field)
    steps_done = property(lambda self: self.trainer.step_count)
    train_time = property(lambda self: self.trainer.wall_time)
    learning_rate = property(lambda self: self.trainer.lr)
    batch_size = property(lambda self: self.trainer.batch_size)
    device = property(lambda self: self.trainer.device)

    @property
    def last_loss(self) -> float:
        losses = self.trainer.history["loss"]
        return losses[-1] if losses else float("nan")

    def step(self, n: int = 1) -> float:
        """Take ``n`` optimiser steps; a divergence restores the last good state and raises."""
        return self.trainer.step(n)

    def set_learning_rate(self, value: float) -> None:
        self.trainer.set_lr(value)

    def set_batch_size(self, value: int) -> None:
        self.trainer.set_batch_size(value)

    def remember_good_state(self) -> None:
        self.trainer.remember_good_state()


class FieldRun(TrainerRun):
    """A config, its engine ``Trainer`` and the room's snapshots of it."""

    def __init__(self, target, config: FieldConfig, learning_rate: float | None = None,
                 batch_size: int | None = None, device: str = "cpu"):
        self.target, self.config = target, config
        self.is_image = isinstance(target, ImageTarget)
        # the room trains open-ended presses of Train, so its rate is constant (final ratio 1);
        # set_lr still composes with any schedule the engine is given. ``learning_rate`` and
        # ``batch_size`` default to the family's tuned recipe. ``device`` ("cpu", "auto",
        # "cuda") is where it trains, not part of the config: a checkpoint loads on any device
        self.trainer = Trainer(config.build(target.in_dim, target.out_dim), target, lr=learning_rate,
                               final_lr_ratio=1.0, batch_size=batch_size, seed=config.seed, threads=None,
                               device=device)

    def set_adaptive(self, adaptive: bool) -> None:
        if isinstance(self.field, NeuRBF):
            self.field.rbf.set_adaptive(adaptive)

    # ---- snapshots -----------------------------------------------------------------------
    def snapshot(self, view) -> "ImageSnapshot | ShapeSnapshot":
        """What the room shows now (``view``: a lab.fields.training.View)."""
        return self.image_snapshot() if self.is_image else self.shape_snapshot(view.preview_resolution, view.slice_z)

    @torch.no_grad()
    def image_snapshot(self, with_kernels: bool = True, max_kernels: int = 1024) -> ImageSnapshot:
        t = self.target
        recon, error = self.trainer.reconstruction()
        target = t.display(t.image)
        kernels = kernel_view(self.field, t, max_kernels) if with_kernels else None
        init = t.weight_map() if isinstance(self.field, NeuRBF) else None
        return ImageSnapshot(self.steps_done, self.train_time, self.last_loss, psnr(recon, target),
                             target, recon, error, kernels, init)

    @torch.no_grad()
    def shape_snapshot(self, resolution: int = 48, slice_z: float = 0.0, slice_resolution: int = 96,
                       max_points: int = 50_000) -> ShapeSnapshot:
        score = self.trainer.sdf_iou()
        found = preview_surface(self.field, resolution, max_points)
        if found is None:
            verts, faces = np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64)
            distance, chamfer = np.zeros(0, np.float32), float("inf")
        else:
            verts, faces, resolution = found[0].astype(np.float32), found[1], found[2]
            distance = np.abs(self.target.sdf(verts.astype(float))).astype(np.float32)
            chamfer = self.trainer.vertex_chamfer(verts, faces)
        kernels = None
        if isinstance(self.field, NeuRBF):
            params = self.field.kernel_params()
            kernels = {"centres": params["centres"], "weight_norms": params["weight_norms"]}
        return ShapeSnapshot(self.steps_done, self.train_time, self.last_loss, score, chamfer,
                             verts, faces, distance, resolution, kernels,
                             self.slice(slice_z, slice_resolution), slice_z)

    def slice(self, z: float, resolution: int) -> np.ndarray:
        """The field on the plane z = ``z``: rows follow y, columns follow x."""
        self.field.eval()
        return slice_plane(self.field, z, resolution)

    def full_mesh(self, resolution: int = 128) -> trimesh.Trimesh | None:
        self.field.eval()
        return extract_mesh(self.field, resolution)

    # ---- checkpoints ---------------------------------------------------------------------
    def checkpoint_bytes(self) -> bytes:
        """The trainer's state, config and target, loadable with ``torch.load(weights_only=True)``."""
        payload = {"format": CHECKPOINT_FORMAT, "config": self.config.as_dict(),
                   "task": "image" if self.is_image else "shape",
                   "target": target_payload(self.target), "trainer": self.trainer.state_dict()}
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    @classmethod
    def from_checkpoint(cls, data: bytes, device: str = "cpu") -> "FieldRun":
        """A run continuing from ``checkpoint_bytes`` (saved on any device) on ``device``."""
        resolve_device(device)  # a device that is not there is the caller's error, not the file's
        try:  # weights_only: an uploaded file can hold only tensors and plain values, never code
            payload = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
            if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a Neural Lab fields checkpoint")
            config = FieldConfig(**payload["config"])
            state = payload["trainer"]
            from lab.fields.radiance_run import make_run  # radiance runs read the same checkpoints
            run = make_run(target_from_payload(payload["target"]), config, state["base_lr"],
                           state["batch_size"], device)
        except InvalidInputError:
            raise
        except Exception as exc:  # torch.load raises many types for foreign files
            raise InvalidInputError(f"this file is not a fields room checkpoint ({exc})") from exc
        run.trainer.load_state_dict(state)
        return run


def target_payload(target) -> dict:
    """Enough to rebuild the target: the pixels of an image, the name or mesh of a shape."""
    if isinstance(target, ImageTarget):
        return {"kind": "image", "image": torch.from_numpy(target.image.copy())}
    if not isinstance(target, SdfTarget):
        from lab.fields.radiance_run import scene_payload
        return scene_payload(target)
    mesh = target.mesh
    return {"kind": "shape", "name": str(target.name),
            "vertices": torch.as_tensor(np.asarray(mesh.vertices), dtype=torch.float32),
            "faces": torch.as_tensor(np.asarray(mesh.faces), dtype=torch.long)}


def target_from_payload(payload: dict):
    if payload["kind"] == "image":
        image = payload["image"].numpy()
        return ImageTarget(image[..., 0] if image.shape[-1] == 1 else image, size=max(image.shape[:2]))
    if payload["kind"] != "shape":
        from lab.fields.radiance_run import scene_from_payload
        return scene_from_payload(payload)
    from lab.fields.targets import SHAPE_POOL, shape_sources
    from engines.fields.shapes import ANALYTIC_SHAPES
    if payload["name"] in ANALYTIC_SHAPES:
        return SdfTarget(payload["name"], pool_size=SHAPE_POOL, n_eval=50_000)
    mesh = (payload["vertices"].numpy(), payload["faces"].numpy())
    target = SdfTarget(mesh, pool_size=SHAPE_POOL, n_eval=50_000)
    target.name = payload["name"] if payload["name"] in shape_sources() else "checkpoint mesh"
    return target
