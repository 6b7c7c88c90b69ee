"""Rendering rays through a radiance field: sample, skip what cannot matter, read, composite.

Only samples that can change a pixel are read from the field: samples outside the box or in
cells the occupancy grid marks empty are skipped, and (``cull=True``) a cheap first pass without
gradients, front to back in ``segments`` pieces of each ray, finds the samples that lie behind an
opaque surface (transmittance below ``early_stop``) or are almost transparent, as nerfacc's
estimators do; the field is then read with gradients on the rest only. Without gradients
(previews, evaluation) that one front-to-back pass reads colour too and makes the picture.
Skipped samples count as empty space in the compositing.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..devices import field_device
from .compositing import Composite, composite
from .sampling import SceneBox, ray_box, stratified


@dataclass(frozen=True)
class RenderSettings:
    n_samples: int = 128          # stratified samples per ray across the box
    early_stop: float = 1e-3      # samples that receive less light than this are not read
    alpha_floor: float = 1e-4     # ... nor samples that stop less light than this
    cull: bool = True             # run the gradient-free culling pass
    segments: int = 16            # ... reading each ray front to back in this many pieces
    chunk: int = 8192             # rays per chunk when rendering whole images


@dataclass
class RaySamples:
    t: torch.Tensor          # (N, S) distances
    delta: torch.Tensor      # (N, S) segment lengths
    points: torch.Tensor     # (N, S, d) box coordinates
    read: torch.Tensor       # (N, S) bool: samples whose field value was read


def sample_rays(origins, dirs, box: SceneBox, settings: RenderSettings, occupancy=None,
                generator: torch.Generator | None = None) -> RaySamples:
    near, far = ray_box(origins, dirs, box)
    t, delta = stratified(near, far, settings.n_samples, generator)
    points = box.to_unit(origins[:, None, :] + t[..., None] * dirs[:, None, :])
    read = (far > near)[:, None].expand_as(t).clone()
    if occupancy is not None:
        read &= occupancy.occupied(points.reshape(-1, points.shape[-1])).reshape(t.shape)
    return RaySamples(t, delta, points, read)


def _scatter(values: torch.Tensor, mask: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Values of the masked samples placed in a dense (N, S[, C]) tensor (differentiable)."""
    out = values.new_full(mask.shape + values.shape[1:], fill)
    return out.index_put((mask,), values)


@torch.no_grad()
def _front_to_back(model, samples: RaySamples, dirs, settings: RenderSettings, colour: bool):
    """Read the field front to back in ``settings.segments`` pieces of each ray; a ray whose
    light is used up stops being read, so the inside of an opaque object costs nothing.
    Returns densities (N, S) and, with ``colour``, colours (N, S, 3); unread samples are 0."""
    n, s = samples.read.shape
    density = torch.zeros_like(samples.t)
    colours = samples.t.new_zeros((n, s, 3)) if colour else None
    crossed = torch.zeros(n, dtype=samples.t.dtype, device=samples.t.device)
    step = -(-s // settings.segments)
    for start in range(0, s, step):
        piece = slice(start, start + step)
        # "not below" rather than "above": a NaN density is read, and the loss shows it
        todo = samples.read[:, piece] & ~(torch.exp(-crossed) <= settings.early_stop)[:, None]
        if todo.any():
            points = samples.points[:, piece][todo]
            if colour:
                sigma, rgb = model(points, dirs[:, None, :].expand(n, todo.shape[1], dirs.shape[1])[todo])
                colours[:, piece] = _scatter(rgb, todo)
            else:
                sigma = model.density(points)
            density[:, piece] = _scatter(sigma, todo)
        crossed = crossed + (density[:, piece] * samples.delta[:, piece]).sum(1)
    return density, colours


def _cull(model, samples: RaySamples, dirs, settings: RenderSettings) -> torch.Tensor:
    """The read mask without samples hidden behind opaque matter or nearly transparent."""
    if not samples.read.any():
        return samples.read
    density, _ = _front_to_back(model, samples, dirs, settings, colour=False)
    optical = density * samples.delta
    transmittance = torch.exp(-(torch.cumsum(optical, 1) - optical))
    alpha = 1 - torch.exp(-optical)
    return samples.read & ~(transmittance <= settings.early_stop) & ~(alpha <= settings.alpha_floor)


def render_rays(model, origins: torch.Tensor, dirs: torch.Tensor, box: SceneBox, settings: RenderSettings,
                occupancy=None, background: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> tuple[Composite, RaySamples]:
    """Render rays (origins, unit dirs: (N, d)) through ``model`` (box points, dirs -> density,
    colour). With a generator samples are jittered (training)."""
    samples = sample_rays(origins, dirs, box, settings, occupancy, generator)
    if settings.cull and not torch.is_grad_enabled():
        # no gradients needed: the front-to-back pass reads colour too, and that is the picture
        density, colour = _front_to_back(model, samples, dirs, settings, colour=True)
        return composite(density, colour, samples.t, samples.delta, background), samples
    if settings.cull:
        samples.read = _cull(model, samples, dirs, settings)
    read = samples.read
    n, s = read.shape
    ray_dirs = dirs[:, None, :].expand(n, s, dirs.shape[1])[read]
    density, colour = model(samples.points[read], ray_dirs)
    sigma = _scatter(density, read)
    rgb = _scatter(colour, read)
    return composite(sigma, rgb, samples.t, samples.delta, background), samples


@torch.no_grad()
def render_image(model, camera, box: SceneBox, settings: RenderSettings, occupancy=None,
                 background=None, device=None) -> dict:
    """A whole camera image: rgb (H, W, 3), depth (H, W) (distance along rays; nan where the
    opacity is below 0.5) and opacity (H, W), as numpy arrays."""
    device = device or field_device(model)
    origins, dirs = (torch.as_tensor(a, device=device) for a in camera.rays())
    bg = None if background is None else torch.as_tensor(background, dtype=torch.float32, device=device)
    parts = [render_rays(model, o, d, box, settings, occupancy, bg)[0]
             for o, d in zip(origins.split(settings.chunk), dirs.split(settings.chunk))]
    h, w = camera.height, camera.width
    rgb = torch.cat([p.rgb for p in parts]).reshape(h, w, -1).cpu().numpy()
    opacity = torch.cat([p.opacity for p in parts]).reshape(h, w).cpu().numpy()
    depth = torch.cat([p.depth for p in parts]).reshape(h, w).cpu().numpy()
    depth[opacity < 0.5] = float("nan")
    return {"rgb": rgb, "depth": depth, "opacity": opacity}
