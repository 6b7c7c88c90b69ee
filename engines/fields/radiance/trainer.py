"""Training a radiance field step by step, under the fields engine's Trainer contract.

``RadianceTrainer`` is a ``fields.trainer.Trainer``: the same ``step(n)``, learning-rate
schedule, ``snapshot``, divergence recovery (a NaN or exploding loss restores the last good
state and raises DivergenceError), ``remember_good_state`` and atomic checkpoints (the occupancy
grid travels with the field). A step draws a batch of random training rays, renders them through
the field (occupancy grid + culling skip empty and hidden space) and takes one Adam step on the
colour error. What the room shows comes as numpy: ``render_view`` (a novel view from an
azimuth/elevation camera), ``held_out_view``, ``train_frustums``, ``density_mesh``.
Works on 3-D datasets (RadianceDataset) and on flatland (2-D) scenes alike.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time

import numpy as np
import torch

from ...errors import InvalidInputError
from ..devices import resolve_device
from ..trainer import Trainer
from . import metrics
from .cameras import orbit_camera
from .occupancy import OccupancyGrid
from .render import RenderSettings, render_image, render_rays
from .sampling import ray_box
from .settings import radiance_recipe


class TrainingRays:
    """The training rays seen as the base Trainer's target: a pool of (origin, direction) rows
    (N, 2d) and their colours (N, 3), drawn in random batches. Rays that miss the scene box only
    ever see the background and are left out."""

    def __init__(self, data):
        o, d, c = (torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32) for a in data.train_rays())
        near, far = ray_box(o, d, data.box)
        hit = far > near
        if not hit.any():
            raise InvalidInputError("no training ray crosses the scene box: the cameras do not look at the scene")
        self.in_dim, self.out_dim = data.dim, 3
        self.pool_x, self.pool_y = torch.cat([o[hit], d[hit]], dim=1), c[hit]


class RadianceTrainer(Trainer):
    def __init__(self, model, data, lr: float | None = None, batch_rays: int | None = None,
                 total_steps: int = 3000, settings: RenderSettings | None = None,
                 occupancy: bool | OccupancyGrid = True, sample_warmup: int = 50, seed: int = 0, device=None,
                 **schedule):
        """``schedule``: the base Trainer's final_lr_ratio, hold, schedule, threads,
        good_state_every, explode_ratio. Unset lr / batch_rays / samples per ray come from the
        family's radiance recipe (``registry.recipe(name, "radiance")``). The first ``sample_warmup``
        steps read a quarter of the samples per ray, the next as many half of them: a fresh field
        is a fog that hides nothing, so every sample would be read, and a coarse one learns as
        much per step while it is blurred anyway."""
        if model.in_dim != data.dim:
            raise InvalidInputError(f"the field reads {model.in_dim}-D points but the scene is {data.dim}-D")
        declared = radiance_recipe(model.name)
        self.settings = settings or RenderSettings(n_samples=declared.samples_per_ray)
        self.sample_warmup = int(sample_warmup)
        self.box = data.box
        if occupancy is True:
            # "empty" means a step of 1/128 of the box side stops < 1% of the light, whatever the
            # samples per ray (a threshold tied to them would keep a faint haze with fewer samples)
            occupancy = OccupancyGrid(data.dim, res=64 if data.dim == 3 else 128,
                                      sample_step=2 * data.box.half_size / 128)
        self.occupancy = occupancy.to(resolve_device(device)) if occupancy else None
        if hasattr(model.field, "initialise"):  # NeuRBF: k-means kernels, evenly over the box
            kernels = model.field.kernel_params()["centres"].shape[0]
            count = max(20_000, 2 * kernels)
            points = np.random.default_rng(seed).uniform(-1, 1, (count, data.dim)).astype(np.float32)
            model.field.initialise(points, np.ones(len(points), np.float32), seed=seed)
        super().__init__(model, TrainingRays(data), total_steps=total_steps, seed=seed, device=device,
                         recipe=dataclasses.replace(declared, lr=float(lr or declared.lr),
                                                    batch_size=int(batch_rays or declared.batch_size)),
                         **schedule)
        self.target = data
        self.background = torch.as_tensor(data.background, dtype=torch.float32, device=self.device)

    # --- training ------------------------------------------------------------------------
    def _optimise(self) -> float:
        """One Adam step on the colour error of a batch of rays, then the occupancy refresh."""
        rate = self.lr_at(self.step_count)
        for group in self.optimizer.param_groups:
            group["lr"] = rate * group.get("lr_factor", 1.0)
        rays, rgb, _ = self._batch()
        dim = self.box.dim
        out, _ = render_rays(self.field, rays[:, :dim], rays[:, dim:], self.box, self.step_settings(), self.occupancy,
                             self.background, self.generator)
        loss = ((out.rgb - rgb) ** 2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.occupancy is not None and self.occupancy.due(self.step_count + 1):
            self.occupancy.update(self.field.density, self.generator)
        return loss.item()

    def step_settings(self) -> RenderSettings:
        """The render settings of the next training step (fewer samples while warming up)."""
        if self.step_count >= 2 * self.sample_warmup:
            return self.settings
        share = 4 if self.step_count < self.sample_warmup else 2
        return dataclasses.replace(self.settings, n_samples=max(self.settings.n_samples // share, 16))

    def step(self, n: int = 1) -> float:
        """Advance n steps (occupancy refreshes count as training time); returns the last loss."""
        self.field.train()
        losses = [math.nan]
        while len(losses) <= int(n):
            wall, cpu = time.perf_counter(), time.process_time()
            losses.append(self._optimise())
            self.wall_time, self.cpu_time = (self.wall_time + time.perf_counter() - wall,
                                             self.cpu_time + time.process_time() - cpu)
            self._check(losses[-1])
            self.step_count += 1
            self._record(losses[-1])
        return losses[-1]

    # --- state: the occupancy grid travels with the field -----------------------------------
    def _capture(self) -> dict:
        state = super()._capture()
        if self.occupancy is not None:
            state["occupancy"] = copy.deepcopy(self.occupancy.state_dict())
        return state

    def _restore(self, state: dict) -> None:
        super()._restore(state)
        if self.occupancy is not None and "occupancy" in state:
            self.occupancy.load_state_dict(state["occupancy"])
        rbf = getattr(self.field.field, "rbf", None)
        if hasattr(rbf, "invalidate"):
            rbf.invalidate()

    # --- looking at it -------------------------------------------------------------------
    def quick_metrics(self) -> dict:
        """Training PSNR from the mean loss of the last 20 steps (noisy per batch)."""
        recent = self.history["loss"][-20:]
        if not recent:
            return {}
        out = {"train_psnr": -10 * math.log10(max(float(np.mean(recent)), 1e-12))}
        if self.occupancy is not None:
            out["occupied"] = self.occupancy.occupied_share
        return out

    def _render(self, camera) -> dict:
        self.field.eval()
        return render_image(self.field, camera, self.box, self.settings, self.occupancy,
                            self.background.cpu().numpy(), self.device)

    def orbit_camera(self, azimuth: float, elevation: float, size: int = 64, distance: float | None = None):
        """A camera on the training cameras' sphere (or ``distance``), with their field of view."""
        if self.box.dim != 3:
            raise InvalidInputError("novel views are for 3-D scenes; flatland draws the whole field")
        fov = self.target.train.cameras[0].vertical_fov_deg
        return orbit_camera(azimuth, elevation, distance or self.target.camera_distance(), size, fov, self.box.centre)

    def render_view(self, azimuth: float = 30.0, elevation: float = 20.0, size: int = 64,
                    distance: float | None = None) -> dict:
        """A novel view: rgb (size, size, 3), depth, opacity as numpy."""
        return self._render(self.orbit_camera(azimuth, elevation, size, distance))

    def preview(self, res: int = 64) -> np.ndarray:
        if self.box.dim != 3:
            return metrics.density_grid(self.field.density, res, self.box.dim, self.device)
        return np.clip(self.render_view(size=res)["rgb"], 0, 1)

    def held_out_view(self, index: int = 0) -> dict:
        """Held-out view ``index``: rendered rgb, truth, per-pixel error (mean |difference|), the
        rendered and true depth (nan where nothing is seen / unknown) and its PSNR."""
        if self.box.dim != 3:
            raise InvalidInputError("held-out views are for 3-D scenes")
        views = self.target.test
        if not 0 <= index < len(views):
            raise InvalidInputError(f"there are {len(views)} held-out views; {index} is not one")
        out = self._render(views.cameras[index])
        truth = views.images[index]
        pred = np.clip(out["rgb"], 0, 1)
        return {"rgb": pred, "truth": truth, "error": np.abs(pred - truth).mean(-1), "depth": out["depth"],
                "true_depth": None if views.depths is None else views.depths[index],
                "psnr": metrics.psnr(pred, truth)}

    @torch.no_grad()
    def evaluate(self, max_views: int | None = None, field_res: int = 64) -> dict:
        """Held-out PSNR and SSIM (means over views), depth error where the truth is known, and
        the density's error where the scene is known exactly."""
        self.field.eval()
        scores = {"psnr": [], "ssim": [], "depth_mae": [], "depth_coverage": []}
        for i, (origins, dirs, truth, true_depth) in enumerate(self.target.held_out()):
            if max_views is not None and i >= max_views:
                break
            pred, depth = self._render_rays_numpy(origins, dirs, truth.shape)
            scores["psnr"].append(metrics.psnr(pred, truth))
            if truth.ndim == 3 and min(truth.shape[:2]) >= 7:
                scores["ssim"].append(metrics.ssim(pred, truth))
            if true_depth is not None:
                for k, v in metrics.depth_error(depth, true_depth).items():
                    scores[k].append(v)
        out = {k: float(np.mean(v)) for k, v in scores.items() if v}
        if getattr(self.target, "true_density", None) is not None:
            out.update(metrics.field_error(self.field, self.target.true_density, self.box.dim, field_res))
        return out

    def _render_rays_numpy(self, origins, dirs, shape) -> tuple[np.ndarray, np.ndarray]:
        o = torch.as_tensor(origins, device=self.device)
        d = torch.as_tensor(dirs, device=self.device)
        parts = [render_rays(self.field, oc, dc, self.box, self.settings, self.occupancy, self.background)[0]
                 for oc, dc in zip(o.split(self.settings.chunk), d.split(self.settings.chunk))]
        rgb = torch.cat([p.rgb for p in parts]).clamp(0, 1).cpu().numpy().reshape(shape)
        depth = torch.cat([p.depth for p in parts]).cpu().numpy()
        opacity = torch.cat([p.opacity for p in parts]).cpu().numpy()
        depth[opacity < 0.5] = np.nan
        return rgb, depth.reshape(shape[:-1])

    def train_frustums(self, depth: float | None = None) -> np.ndarray:
        """(N, 5, 3) training camera pyramids (centre + image corners) in world coordinates."""
        depth = depth or 0.15 * self.target.camera_distance()
        return self.target.train.frustums(depth)

    def density_volume(self, res: int = 96) -> np.ndarray:
        """The learned density on a res^d lattice of the box (cell centres, first axis slowest)."""
        self.field.eval()
        return metrics.density_grid(self.field.density, res, self.box.dim, self.device)

    def density_mesh(self, res: int = 96, level: float | None = None):
        """Marching-cubes isosurface of the density in world coordinates (a trimesh with normals
        pointing out of the dense region), or None where no density crosses ``level``. The
        default level is where one lattice cell would be half opaque: ln 2 / cell size (an opaque
        surface; a semi-transparent scene such as the blobs needs a lower one)."""
        import trimesh
        from skimage.measure import marching_cubes
        if self.box.dim != 3:
            raise InvalidInputError("an isosurface needs a 3-D scene")
        cell = 2 * self.box.half_size / res
        level = level if level is not None else math.log(2) / cell
        volume = self.density_volume(res)
        if not (volume.min() < level < volume.max()):
            return None
        # "ascent": faces wound so that normals point towards falling density (out of an object)
        verts, faces, _, _ = marching_cubes(volume, level=level, spacing=(cell,) * 3, gradient_direction="ascent")
        # lattice values sit at cell centres: index 0 is half a cell inside the box's corner
        verts = verts + (np.asarray(self.box.centre) - self.box.half_size + cell / 2)
        return trimesh.Trimesh(verts, faces, process=False)

    def reconstruction(self) -> tuple[np.ndarray, np.ndarray]:
        """Held-out view 0 and its per-pixel error (the image task's reconstruction)."""
        view = self.held_out_view(0)
        return view["rgb"], view["error"]

    def mesh(self, res: int = 96):
        """The density isosurface (the shape task's mesh), with no per-vertex error (unknown)."""
        return self.density_mesh(res), None

    # --- checkpoints: refuse a checkpoint of another task ------------------------------------
    def load_state_dict(self, state: dict) -> None:
        if isinstance(state, dict) and self.occupancy is not None and "occupancy" not in state:
            raise InvalidInputError("this checkpoint is not a radiance field's (it has no occupancy grid)")
        super().load_state_dict(state)
