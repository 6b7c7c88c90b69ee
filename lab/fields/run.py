"""One field learning one target: build it from a config, advance it N steps, snapshot it.

``FieldRun`` is what the room's background thread drives. A step samples a batch from the
target (pixels, or the shape's precomputed SDF sample pool), takes one Adam step and checks the
loss; a NaN or infinite loss restores the last good weights and raises ``DivergenceError``.
Snapshots (``image_snapshot`` / ``shape_snapshot``) are plain dataclasses of numpy arrays that
a view can draw without touching torch.
"""
from __future__ import annotations

import copy
import io
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import trimesh
from torch import nn

from engines.errors import DivergenceError, InvalidInputError
from engines.fields.baselines import SIREN, FourierMLP, GridMLP
from engines.fields.images import ImageTarget, grid_coords, render
from engines.fields.meshing import evaluate_grid, marching_cubes_from_values
from engines.fields.metrics import iou, psnr, surface_metrics
from engines.fields.rbf import GNF, NeuRBF
from engines.fields.sdf import SdfTarget

MODELS = {"gnf": "GNF (Gaussian RBF network)", "neurbf": "NeuRBF (adaptive kernels)",
          "grid_mlp": "Dense grids + MLP", "hash_mlp": "Hash grid + MLP (Instant-NGP)",
          "siren": "SIREN", "fourier_mlp": "Fourier-feature MLP"}
HALF_MAX = 2 * math.log(2)  # a Gaussian with covariance C is at half maximum where dx^T C^-1 dx = 2 ln 2


@dataclass(frozen=True)
class FieldConfig:
    """What decides a field's architecture (changing any of these needs a new field)."""
    model: str = "gnf"
    n_kernels: int = 32          # GNF: Gaussian units; NeuRBF: kernels in coordinate space
    top_k: int = 4               # NeuRBF: kernels each point reads
    grid_levels: int = 3
    grid_resolution: int = 128   # finest grid level; coarser levels halve it
    adaptive: bool = False       # NeuRBF: kernels keep moving after the k-means initialisation
    seed: int = 0


def grid_resolutions(finest: int, levels: int) -> tuple:
    return tuple(max(finest // 2 ** (levels - 1 - i), 2) for i in range(levels))


def build_field(config: FieldConfig, in_dim: int, out_dim: int) -> nn.Module:
    if config.model not in MODELS:
        raise InvalidInputError(f"unknown model {config.model!r}; choose one of {', '.join(MODELS)}")
    torch.manual_seed(config.seed)
    levels = grid_resolutions(config.grid_resolution, config.grid_levels)
    if config.model == "gnf":
        return GNF(in_dim, out_dim, levels, (2,) * len(levels), n_units=config.n_kernels)
    if config.model == "neurbf":
        image = in_dim == 2
        return NeuRBF(in_dim, out_dim, n_kernels=config.n_kernels, top_k=config.top_k,
                      resolutions=levels, grid_channels=(2,) * len(levels),
                      rbf_channels=32 if image else 16,
                      omega_range=(2.0 ** -3, 2.0 ** 12) if image else (1.0, 8.0),
                      adaptive=config.adaptive)
    if config.model == "grid_mlp":
        return GridMLP(in_dim, out_dim, "dense", resolutions=levels, channels=(2,) * len(levels))
    if config.model == "hash_mlp":
        return GridMLP(in_dim, out_dim, "hash", n_levels=max(config.grid_levels, 2),
                       max_res=config.grid_resolution, table_size=2 ** 14)
    if config.model == "siren":
        return SIREN(in_dim, out_dim, width=128)
    return FourierMLP(in_dim, out_dim, width=128)


@dataclass
class ImageSnapshot:
    step: int
    train_time: float
    loss: float
    psnr: float
    target: np.ndarray          # (H, W) or (H, W, 3) in [0, 1]
    reconstruction: np.ndarray  # same shape as target
    error: np.ndarray           # (H, W) mean absolute error over channels
    kernels: dict | None        # centres (K, 2) in x, y; shapes (K, 2, 2); weight_norms (K,)
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


class FieldRun:
    """A field, its optimiser and its target; advanced step by step from one thread."""

    def __init__(self, target, config: FieldConfig, learning_rate: float = 1e-2,
                 batch_size: int = 4096):
        self.target, self.config = target, config
        self.is_image = isinstance(target, ImageTarget)
        self.field = build_field(config, target.in_dim, target.out_dim)
        if isinstance(self.field, NeuRBF):
            self.field.initialise(*target.init_points(), seed=config.seed)
        self.optimizer = torch.optim.Adam(self.field.parameters(), lr=learning_rate)
        self.batch_size = int(batch_size)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.steps_done, self.train_time, self.last_loss = 0, 0.0, float("nan")
        self._good_state = self._copy_state()
        self._gt_surface = None

    @property
    def learning_rate(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def set_learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:  # takes effect at the next step
            group["lr"] = float(value)

    def set_adaptive(self, adaptive: bool) -> None:
        if isinstance(self.field, NeuRBF):
            self.field.rbf.set_adaptive(adaptive)

    # ---- training ------------------------------------------------------------------------
    def _batch(self):
        if self.is_image:
            idx = torch.randint(len(self.target.coords), (self.batch_size,), generator=self.generator)
            return self.target.coords[idx], self.target.values[idx]
        return self.target.sample(self.batch_size, self.generator)

    def _loss(self, pred, truth):
        if self.is_image:
            return torch.mean((pred - truth) ** 2)
        return torch.mean((pred - truth).abs() / (truth.abs() + 1e-2))  # NeuRBF's SDF loss

    def step(self, n: int = 1) -> float:
        """Take ``n`` optimiser steps; returns the mean loss. Restores weights on divergence."""
        self.field.train()
        started, total = time.perf_counter(), 0.0
        for _ in range(n):
            x, y = self._batch()
            loss = self._loss(self.field(x), y)
            if not torch.isfinite(loss):
                self.restore_good_state()
                raise DivergenceError(
                    f"the loss became {loss.item()} at step {self.steps_done + 1}; the model was "
                    f"restored to its last good state. Lower the learning rate and train again.")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
            self.steps_done += 1
        self.train_time += time.perf_counter() - started
        self.last_loss = total / max(n, 1)
        return self.last_loss

    def _copy_state(self):
        return copy.deepcopy(self.field.state_dict()), copy.deepcopy(self.optimizer.state_dict())

    def remember_good_state(self) -> None:
        self._good_state = self._copy_state()

    def restore_good_state(self) -> None:
        weights, optimiser = self._good_state
        self.field.load_state_dict(weights)
        self.optimizer.load_state_dict(optimiser)
        if isinstance(self.field, NeuRBF):
            self.field.rbf.invalidate()

    # ---- snapshots -----------------------------------------------------------------------
    @torch.no_grad()
    def image_snapshot(self, with_kernels: bool = True, max_kernels: int = 1024) -> ImageSnapshot:
        self.field.eval()
        t = self.target
        raw = render(self.field, t.height, t.width)
        recon = t.display(raw)
        target = t.display(t.image)
        error = np.abs(np.clip(raw, 0, 1) - t.image).mean(-1)
        kernels = self.kernels_2d(max_kernels) if with_kernels else None
        init = t.weight_map() if isinstance(self.field, NeuRBF) else None
        return ImageSnapshot(self.steps_done, self.train_time, self.last_loss, psnr(raw, t.image),
                             target, recon, error, kernels, init)

    def kernels_2d(self, max_kernels: int) -> dict | None:
        """Kernel centres and half-maximum ellipses in image coordinates, strongest first."""
        if isinstance(self.field, NeuRBF):
            params = self.field.kernel_params()
            centres, shapes, norms = params["centres"], params["shapes"], params["weight_norms"]
        elif isinstance(self.field, GNF):
            centres, shapes, norms = self._gnf_footprints()
        else:
            return None
        order = np.argsort(-norms)[:max_kernels]
        return {"centres": centres[order], "shapes": shapes[order], "weight_norms": norms[order],
                "total": len(norms)}

    def _gnf_footprints(self):
        """GNF units live in feature space; draw where in the image each unit responds.

        Each unit's response over the pixels is summarised by its weighted mean (centre) and
        covariance, drawn as the half-maximum ellipse of the Gaussian with that covariance.
        """
        coords = self.target.coords
        phi = self.field.rbf(self.field.encoder(coords)).numpy().astype(np.float64)  # (P, U)
        mass = phi.sum(0) + 1e-12
        x = coords.numpy().astype(np.float64)
        centres = (phi.T @ x) / mass[:, None]
        products = np.stack([x[:, 0] * x[:, 0], x[:, 0] * x[:, 1], x[:, 1] * x[:, 1]], 1)
        xx, xy, yy = ((phi.T @ products) / mass[:, None]).T
        second = np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)
        covs = second - centres[:, :, None] * centres[:, None, :] + np.eye(2) * 1e-6
        shapes = np.linalg.inv(covs) / HALF_MAX
        norms = self.field.readout.weight.norm(dim=0).numpy()
        return centres.astype(np.float32), shapes.astype(np.float32), norms

    @torch.no_grad()
    def shape_snapshot(self, resolution: int = 48, slice_z: float = 0.0, slice_resolution: int = 96,
                       max_points: int = 50_000) -> ShapeSnapshot:
        self.field.eval()
        t = self.target
        pred = torch.cat([self.field(c)[:, 0] for c in torch.as_tensor(t.eval_x).split(1 << 16)])
        score = iou(pred.numpy(), t.eval_y)
        values = evaluate_grid(self.field, resolution)
        found = marching_cubes_from_values(values, resolution)
        while found is not None and len(found[0]) > max_points and resolution > 16:
            # a noisy early field can have a huge surface: coarsen the same samples, keep it live
            values = values[::2, ::2, ::2]
            resolution = values.shape[0]
            found = marching_cubes_from_values(values, resolution)
        if found is None:
            verts, faces = np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64)
            distance, chamfer = np.zeros(0, np.float32), float("inf")
        else:
            verts, faces = found[0].astype(np.float32), found[1]
            distance = np.abs(t.sdf(verts.astype(float))).astype(np.float32)
            chamfer = self._chamfer(verts, faces)
        kernels = None
        if isinstance(self.field, NeuRBF):
            params = self.field.kernel_params()
            kernels = {"centres": params["centres"], "weight_norms": params["weight_norms"]}
        return ShapeSnapshot(self.steps_done, self.train_time, self.last_loss, score, chamfer,
                             verts, faces, distance, resolution, kernels,
                             self.slice(slice_z, slice_resolution), slice_z)

    def _chamfer(self, verts, faces) -> float:
        if self._gt_surface is None:
            self._gt_surface = self.target.surface(20_000, seed=self.config.seed)
        mesh = trimesh.Trimesh(verts, faces, process=False)
        metrics = surface_metrics(verts, np.asarray(mesh.vertex_normals), *self._gt_surface)
        return metrics["chamfer_l1"]

    @torch.no_grad()
    def slice(self, z: float, resolution: int) -> np.ndarray:
        """The field on the plane z = ``z``: rows follow y, columns follow x."""
        xy = grid_coords(resolution, resolution)
        pts = torch.cat([xy, torch.full((len(xy), 1), float(z))], dim=1)
        return self.field(pts)[:, 0].reshape(resolution, resolution).numpy()

    @torch.no_grad()
    def full_mesh(self, resolution: int = 128) -> trimesh.Trimesh | None:
        self.field.eval()
        found = marching_cubes_from_values(evaluate_grid(self.field, resolution), resolution)
        return None if found is None else trimesh.Trimesh(*found, process=False)

    # ---- checkpoints ---------------------------------------------------------------------
    def checkpoint_bytes(self) -> bytes:
        """Weights, optimiser, config and target, loadable with ``torch.load(weights_only=True)``."""
        payload = {"format": "neural-lab-fields/1", "config": asdict(self.config),
                   "task": "image" if self.is_image else "shape",
                   "target": target_payload(self.target),
                   "steps_done": self.steps_done, "train_time": self.train_time,
                   "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                   "field": self.field.state_dict(), "optimizer": self.optimizer.state_dict()}
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    @classmethod
    def from_checkpoint(cls, data: bytes) -> "FieldRun":
        try:
            payload = torch.load(io.BytesIO(data), weights_only=True)
            if payload.get("format") != "neural-lab-fields/1":
                raise ValueError("not a Neural Lab fields checkpoint")
            config = FieldConfig(**payload["config"])
        except Exception as exc:  # torch.load raises many types for foreign files
            raise InvalidInputError(f"this file is not a fields room checkpoint ({exc})") from exc
        run = cls(target_from_payload(payload["target"]), config, payload["learning_rate"],
                  payload["batch_size"])
        run.field.load_state_dict(payload["field"])
        run.optimizer.load_state_dict(payload["optimizer"])
        run.steps_done, run.train_time = payload["steps_done"], payload["train_time"]
        if isinstance(run.field, NeuRBF):
            run.field.rbf.invalidate()
        run.remember_good_state()
        return run


def target_payload(target) -> dict:
    """Enough to rebuild the target: the pixels of an image, the name or mesh of a shape."""
    if isinstance(target, ImageTarget):
        return {"kind": "image", "image": torch.from_numpy(target.image.copy())}
    mesh = target.mesh
    return {"kind": "shape", "name": str(target.name),
            "vertices": torch.as_tensor(np.asarray(mesh.vertices), dtype=torch.float32),
            "faces": torch.as_tensor(np.asarray(mesh.faces), dtype=torch.long)}


def target_from_payload(payload: dict):
    if payload["kind"] == "image":
        image = payload["image"].numpy()
        return ImageTarget(image[..., 0] if image.shape[-1] == 1 else image, size=max(image.shape[:2]))
    from lab.fields.targets import SHAPE_POOL, shape_sources
    from engines.fields.shapes import ANALYTIC_SHAPES
    if payload["name"] in ANALYTIC_SHAPES:
        return SdfTarget(payload["name"], pool_size=SHAPE_POOL, n_eval=50_000)
    mesh = (payload["vertices"].numpy(), payload["faces"].numpy())
    target = SdfTarget(mesh, pool_size=SHAPE_POOL, n_eval=50_000)
    target.name = payload["name"] if payload["name"] in shape_sources() else "checkpoint mesh"
    return target
