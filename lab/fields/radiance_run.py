"""The room's view of one radiance field learning a scene: an adapter over ``RadianceTrainer``.

``RadianceRun`` has ``FieldRun``'s interface (step, live settings, snapshots, checkpoints), so the
room's worker trains images, shapes, radiance scenes and flatland alike. Its snapshot is what the
radiance views draw, in plain numpy: a novel view from the camera the user set (rendered at every
snapshot, the live preview) and a held-out view beside its ground truth and error (rendered again
only every HELD_OUT_INTERVAL seconds: it costs as much as the preview). In flatland (a 2-D scene
seen by 1-D cameras) the snapshot is the engine's ``flatland_state``: the whole field, the chosen
ray, its samples, their weights and the transmittance.
"""
from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from engines.fields.radiance import RadianceDataset, RadianceField, RadianceTrainer, RenderSettings
from engines.fields.radiance.flatland import FlatlandScene, flatland_state
from lab.fields.config import FieldConfig
from lab.fields.run import TrainerRun

HELD_OUT_INTERVAL = 3.0      # seconds between renders of the held-out view while training
FLATLAND_SAMPLES = 64        # samples per ray in flatland (engines.fields.radiance.flatland_trainer's)
OUT_DIM = 4                  # density + RGB (view-independent colour: spherical harmonics of degree 0)
# The density isosurface is drawn where a tenth of the box's width would be half opaque. The
# engine's default (one lattice cell half opaque) suits opaque surfaces only: the blobs, a
# few units of optical depth each, never reach it (no surface at all).
SURFACE_SPAN = 0.1


def is_scene(target) -> bool:
    """Whether ``target`` is a radiance task's (posed views, or flatland)."""
    return isinstance(target, (RadianceDataset, FlatlandScene))


@dataclass
class RadianceSnapshot:
    step: int
    train_time: float
    loss: float
    psnr: float                  # the held-out view's PSNR (dB)
    novel: np.ndarray            # (S, S, 3) the view from the user's camera
    azimuth: float
    elevation: float
    held_out: np.ndarray         # (H, W, 3) rendered held-out view
    truth: np.ndarray            # (H, W, 3) its ground truth
    error: np.ndarray            # (H, W) mean absolute error over channels
    held_index: int
    held_step: int               # the step at which the held-out view was rendered


@dataclass
class FlatlandSnapshot:
    step: int
    train_time: float
    loss: float
    psnr: float                  # held-out cameras' PSNR (dB)
    density_error: float         # mean |learned - true density| as a share of the true density's range
    state: dict                  # engines.fields.radiance.flatland.flatland_state
    camera: int
    pixel: int


class RadianceRun(TrainerRun):
    """A config, its ``RadianceTrainer`` and the room's snapshots of it."""

    def __init__(self, target, config: FieldConfig, learning_rate: float | None = None,
                 batch_size: int | None = None, device: str = "cpu"):
        self.target, self.config = target, config
        self.is_image, self.is_flatland = False, isinstance(target, FlatlandScene)
        self.kind = "flatland" if self.is_flatland else "radiance"
        field = RadianceField(config.build(target.dim, OUT_DIM))
        settings = RenderSettings(n_samples=FLATLAND_SAMPLES) if self.is_flatland else None
        # open-ended presses of Train: a constant rate (final ratio 1), as for images and shapes
        self.trainer = RadianceTrainer(field, target, lr=learning_rate, batch_rays=batch_size, settings=settings,
                                       seed=config.seed, device=device, final_lr_ratio=1.0, threads=None)
        self._held: tuple | None = None      # (index, step, time, view) of the last held-out render

    def set_adaptive(self, adaptive: bool) -> None:
        rbf = getattr(self.field.field, "rbf", None)
        if hasattr(rbf, "set_adaptive"):
            rbf.set_adaptive(adaptive)

    # ---- snapshots -----------------------------------------------------------------------
    @torch.no_grad()
    def snapshot(self, view) -> RadianceSnapshot | FlatlandSnapshot:
        """What the room shows now, for ``view`` (a ``lab.fields.training.View``)."""
        if self.is_flatland:
            return self._flatland_snapshot(view)
        novel = self.trainer.render_view(view.azimuth, view.elevation, view.preview_size)["rgb"]
        index = min(max(int(view.held_out), 0), len(self.target.test) - 1)
        held = self._held
        if held is None or held[0] != index or (held[1] != self.steps_done
                                                and time.perf_counter() - held[2] >= HELD_OUT_INTERVAL):
            held = self._held = (index, self.steps_done, time.perf_counter(), self.trainer.held_out_view(index))
        out = held[3]
        return RadianceSnapshot(self.steps_done, self.train_time, self.last_loss, out["psnr"],
                                np.clip(novel, 0, 1).astype(np.float32), view.azimuth, view.elevation,
                                out["rgb"], out["truth"], out["error"], index, held[1])

    def _flatland_snapshot(self, view) -> FlatlandSnapshot:
        cameras, pixels = len(self.target.angles), self.target.n_pixels
        camera, pixel = min(max(view.camera, 0), cameras - 1), min(max(view.pixel, 0), pixels - 1)
        state = flatland_state(self.trainer, camera, pixel)
        scores = self.trainer.evaluate(field_res=32)
        return FlatlandSnapshot(self.steps_done, self.train_time, self.last_loss, scores["psnr"],
                                state["metrics"]["density_mae_share"], state, camera, pixel)

    def full_mesh(self, resolution: int = 96):
        """The density isosurface (a trimesh in world coordinates) at ``surface_level``, or None
        (3-D scenes only)."""
        return self.trainer.density_mesh(resolution, surface_level(self.target))

    def orbit(self, n_frames: int, size: int, elevation: float) -> np.ndarray:
        from engines.fields.radiance.export import orbit_frames
        return orbit_frames(self.trainer, n_frames, size, elevation)

    # ---- checkpoints ---------------------------------------------------------------------
    def checkpoint_bytes(self) -> bytes:
        from lab.fields.run import CHECKPOINT_FORMAT
        payload = {"format": CHECKPOINT_FORMAT, "config": self.config.as_dict(), "task": self.kind,
                   "target": scene_payload(self.target), "trainer": self.trainer.state_dict()}
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()


def surface_level(scene) -> float:
    """The density (per scene unit) of a radiance scene's isosurface: ``SURFACE_SPAN`` of the box's
    width at that density is half opaque (ln 2 of optical depth)."""
    return math.log(2) / (SURFACE_SPAN * 2 * scene.box.half_size)


def make_run(target, config: FieldConfig, learning_rate=None, batch_size=None, device: str = "cpu"):
    """The run for ``target``: a ``RadianceRun`` for a scene, else a ``FieldRun``."""
    from lab.fields.run import FieldRun
    kind = RadianceRun if is_scene(target) else FieldRun
    return kind(target, config, learning_rate, batch_size, device)


def scene_payload(target) -> dict:
    """Enough to rebuild a scene: flatland's seed; the blobs' settings (their density is analytic);
    the views and cameras of any other scene (an .npz of numbers, as bytes)."""
    if isinstance(target, FlatlandScene):
        return {"kind": "flatland", "seed": int(getattr(target, "seed", 0))}
    if target.true_density is not None:
        return {"kind": "blobs", "views": len(target.train), "size": int(target.train.size[0])}
    data = target.to_npz_bytes()
    return {"kind": "scene", "npz": torch.frombuffer(bytearray(data), dtype=torch.uint8)}


def scene_from_payload(payload: dict):
    from lab.fields import targets
    if payload["kind"] == "flatland":
        return targets.flatland_target(int(payload["seed"]))
    if payload["kind"] == "blobs":
        return targets.scene_target(targets.BLOBS, int(payload["size"]), int(payload["views"]))
    return RadianceDataset.from_npz_bytes(payload["npz"].numpy().tobytes())
