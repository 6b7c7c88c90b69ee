"""Flatland: volume rendering in two dimensions, where everything can be drawn at once.

A 2-D scene of semi-transparent coloured blobs (``BlobScene(dim=2)``) is seen by 1-D cameras on
a circle around it: each camera's image is a row of pixels, each pixel one ray. A radiance field
on a 2-D field learns the scene from those rows with the same renderer, occupancy grid and
trainer as in 3-D. ``flatland_state`` returns what a teaching view draws, as plain numpy: the
true and learned density and colour over the plane, the cameras and their rays, and for one
chosen ray its samples, their densities, transmittance and weights.

The blobs' colours each leave one channel near zero and the background is white, so in that
channel a pixel shows only how much light the blobs absorb: the density can be recovered from
the views (as in tomography), not only the colour, and the learned density is scored against
the truth (metrics.field_error).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...errors import InvalidInputError
from .analytic import BlobScene
from .field import build_radiance_field
from .metrics import density_grid
from .render import RenderSettings, render_rays
from .sampling import SceneBox
from .trainer import RadianceTrainer

FLATLAND_BOX = SceneBox((0.0, 0.0), 1.0)


def fan_rays(angle: float, radius: float, n_pixels: int, fov_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D pinhole camera at ``angle`` on a circle of ``radius``, looking at the centre: its
    rays' origins and unit directions (n_pixels, 2), pixel centres across the field of view."""
    position = radius * np.array([math.cos(angle), math.sin(angle)])
    forward = -position / radius
    right = np.array([forward[1], -forward[0]])
    half = math.tan(math.radians(fov_deg) / 2)
    offsets = ((np.arange(n_pixels) + 0.5) / n_pixels * 2 - 1) * half
    dirs = forward[None] + offsets[:, None] * right[None]
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return np.broadcast_to(position, dirs.shape).astype(np.float32), dirs.astype(np.float32)


@dataclass
class FlatlandScene:
    """Blobs in the square [-1, 1]^2, training and held-out 1-D cameras, and their pixel rows."""
    scene: BlobScene
    angles: np.ndarray            # (C,) training camera angles
    test_angles: np.ndarray       # (C_test,) held-out camera angles, between the training ones
    n_pixels: int
    fov_deg: float
    radius: float
    pixels: np.ndarray            # (C, P, 3) training rows
    test_pixels: np.ndarray       # (C_test, P, 3)
    box: SceneBox = FLATLAND_BOX
    background: np.ndarray = None

    dim = 2

    @property
    def true_density(self):
        return self.scene.density

    def rays_of(self, angles) -> tuple[np.ndarray, np.ndarray]:
        pairs = [fan_rays(a, self.radius, self.n_pixels, self.fov_deg) for a in angles]
        return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])

    def train_rays(self):
        origins, dirs = self.rays_of(self.angles)
        return origins, dirs, self.pixels.reshape(-1, 3)

    def held_out(self):
        for angle, row in zip(self.test_angles, self.test_pixels):
            origins, dirs = fan_rays(angle, self.radius, self.n_pixels, self.fov_deg)
            yield origins, dirs, row, None


@torch.no_grad()
def _render_rows(model, angles, radius, n_pixels, fov_deg, background, n_samples=512) -> np.ndarray:
    settings = RenderSettings(n_samples=n_samples, cull=False)
    rows = []
    for angle in angles:
        o, d = (torch.as_tensor(a) for a in fan_rays(angle, radius, n_pixels, fov_deg))
        rows.append(render_rays(model, o, d, FLATLAND_BOX, settings, None, torch.as_tensor(background))[0].rgb.numpy())
    return np.stack(rows).astype(np.float32)


def flatland_scene(n_cameras: int = 24, n_pixels: int = 128, n_test: int = 8, n_blobs: int = 5, seed: int = 0,
                   optical_depth: float = 1.5, radius: float = 2.6, fov_deg: float = 50.0) -> FlatlandScene:
    """Blobs seen by ``n_cameras`` evenly spaced 1-D cameras (``n_test`` more, in between, held out)."""
    if not (2 <= n_cameras <= 512 and 8 <= n_pixels <= 2048 and 1 <= n_test <= 256):
        raise InvalidInputError("flatland takes 2..512 cameras of 8..2048 pixels and 1..256 held-out cameras")
    scene = BlobScene(2, n_blobs, seed, optical_depth=optical_depth, radius_range=(0.12, 0.3), spread=0.5)
    background = np.ones(3, np.float32)
    angles = np.arange(n_cameras) * (2 * math.pi / n_cameras)
    test_angles = (np.arange(n_test) + 0.5) * (2 * math.pi / n_test) + math.pi / n_cameras / 3
    pixels = _render_rows(scene, angles, radius, n_pixels, fov_deg, background)
    test_pixels = _render_rows(scene, test_angles, radius, n_pixels, fov_deg, background)
    return FlatlandScene(scene, angles, test_angles, n_pixels, fov_deg, radius, pixels, test_pixels,
                         background=background)


def flatland_trainer(field: str = "gnf", scene: FlatlandScene | None = None, param_budget: int | None = 50_000,
                     seed: int = 0, **trainer_kwargs) -> RadianceTrainer:
    """A RadianceTrainer of a 2-D field on a flatland scene (the default scene if None)."""
    scene = scene or flatland_scene(seed=seed)
    model = build_radiance_field(field, dim=2, param_budget=param_budget, seed=seed)
    # a 2-D scene is small: fewer rays and samples per step than in 3-D, many more steps
    trainer_kwargs.setdefault("settings", RenderSettings(n_samples=64))
    trainer_kwargs.setdefault("batch_rays", 512)
    return RadianceTrainer(model, scene, seed=seed, **trainer_kwargs)


@torch.no_grad()
def flatland_state(trainer: RadianceTrainer, camera: int = 0, pixel: int | None = None, res: int = 128) -> dict:
    """What the flatland view draws, as numpy arrays (plane rows follow y, columns follow x, as
    an image of the square [-1, 1]^2 with y up when drawn with origin='lower'):

    true_density, density (res, res); colour (res, res, 3) the learned colour; cameras (C, 2);
    rows / rendered_rows (C, P, 3) the training pixel rows and the field's rendering of them;
    ray: origin (2,), direction (2,), near / far distances of the chosen ray (training camera
    ``camera``, pixel ``pixel``, the middle one by default); samples: points (S, 2), t, density,
    alpha, transmittance, weights (S,); pixel_true / pixel_rendered (3,); metrics (dict).
    """
    scene = trainer.target
    if not isinstance(scene, FlatlandScene):
        raise InvalidInputError("flatland_state needs a trainer on a flatland scene")
    if not 0 <= camera < len(scene.angles):
        raise InvalidInputError(f"there are {len(scene.angles)} cameras; {camera} is not one")
    pixel = scene.n_pixels // 2 if pixel is None else pixel
    if not 0 <= pixel < scene.n_pixels:
        raise InvalidInputError(f"a camera has {scene.n_pixels} pixels; {pixel} is not one")
    model, device = trainer.field.eval(), trainer.device
    # grid rows follow y: transpose the (x, y) lattice of metrics.density_grid
    density = density_grid(model.density, res, 2, device).T
    truth = density_grid(scene.true_density, res, 2).T
    axis = (torch.arange(res, dtype=torch.float32) + 0.5) * (2 / res) - 1
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    plane = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1).to(device)
    colour = torch.cat([model(c)[1] for c in plane.split(1 << 15)]).reshape(res, res, 3).cpu().numpy()
    origins, dirs = fan_rays(scene.angles[camera], scene.radius, scene.n_pixels, scene.fov_deg)
    o = torch.as_tensor(origins[pixel:pixel + 1], device=device)
    d = torch.as_tensor(dirs[pixel:pixel + 1], device=device)
    # the chosen ray with every sample read (no skipping), so the whole profile can be drawn
    settings = RenderSettings(n_samples=trainer.settings.n_samples, cull=False)
    out, samples = render_rays(model, o, d, scene.box, settings, None, trainer.background)
    t = samples.t[0]
    points = o[0] + t[:, None] * d[0]
    sigma = model.density(samples.points[0])
    alpha = 1 - torch.exp(-sigma * samples.delta[0])
    all_o, all_d = (torch.as_tensor(a, device=device) for a in scene.rays_of(scene.angles))
    rendered = render_rays(model, all_o, all_d, scene.box, trainer.settings, trainer.occupancy,
                           trainer.background)[0].rgb.clamp(0, 1).reshape(scene.pixels.shape)
    cams = np.stack([scene.radius * np.array([math.cos(a), math.sin(a)]) for a in scene.angles])
    span = float(truth.max() - truth.min()) or 1.0
    return {"true_density": truth, "density": density, "colour": np.clip(colour, 0, 1), "cameras": cams,
            "rows": scene.pixels, "rendered_rows": rendered.cpu().numpy(),
            "ray": {"origin": origins[pixel], "direction": dirs[pixel],
                    "near": float(t[0] - samples.delta[0, 0] / 2), "far": float(t[-1] + samples.delta[0, -1] / 2)},
            "samples": {"points": points.cpu().numpy(), "t": t.cpu().numpy(), "density": sigma.cpu().numpy(),
                        "alpha": alpha.cpu().numpy(), "transmittance": out.transmittance[0].cpu().numpy(),
                        "weights": out.weights[0].cpu().numpy()},
            "pixel_true": scene.pixels[camera, pixel], "pixel_rendered": out.rgb[0].clamp(0, 1).cpu().numpy(),
            "metrics": {"density_mae_share": float(np.abs(density - truth).mean() / span)}}
