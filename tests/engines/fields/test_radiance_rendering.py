"""Rays, sampling, compositing and the occupancy grid against cases computed by hand."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from engines.fields.radiance import (Camera, OccupancyGrid, RenderSettings, SceneBox, composite, look_at,
                                     orbit_camera, ray_box, render_rays, stratified)
from engines.fields.radiance.render import sample_rays

BOX = SceneBox((0.0, 0.0, 0.0), 1.0)


class Slab(nn.Module):
    """Density ``sigma`` for x0 <= x < x1 (box coordinates), else 0; a constant colour. Counts
    the points it is asked about."""

    def __init__(self, sigma=2.0, x0=-0.5, x1=0.3, colour=(0.2, 0.6, 0.9)):
        super().__init__()
        self.sigma, self.x0, self.x1 = sigma, x0, x1
        self.register_buffer("colour", torch.tensor(colour))
        self.in_dim, self.points_read = 3, 0

    def density(self, points):
        self.points_read += len(points)
        inside = (points[:, 0] >= self.x0) & (points[:, 0] < self.x1)
        return inside.float() * self.sigma

    def forward(self, points, dirs=None):
        return self.density(points), self.colour.expand(len(points), 3)


def ray_along_x(y=0.0):
    return torch.tensor([[-3.0, y, 0.0]]), torch.tensor([[1.0, 0.0, 0.0]])


def test_a_slab_lets_through_exp_minus_density_times_thickness():
    slab = Slab(sigma=2.0, x0=-0.5, x1=0.3)
    origins, dirs = ray_along_x()
    background = torch.tensor([1.0, 1.0, 1.0])
    # 100 bins over the box's 2 units: the slab's faces fall on bin edges, so the quadrature is exact
    settings = RenderSettings(n_samples=100, cull=False)
    out, samples = render_rays(slab, origins, dirs, BOX, settings, None, background)
    through = math.exp(-2.0 * 0.8)
    assert out.opacity.item() == pytest.approx(1 - through, rel=1e-5)
    expected = torch.tensor([0.2, 0.6, 0.9]) * (1 - through) + background * through
    assert torch.allclose(out.rgb[0], expected, atol=1e-5)
    x = (origins[0, 0] + samples.t[0]).numpy()
    before, after = x < -0.5, x >= 0.3
    assert np.allclose(out.transmittance[0].numpy()[before], 1.0)
    assert np.allclose(out.transmittance[0].numpy()[after], through, rtol=1e-5)
    assert out.weights[0].numpy()[before | after].max() == 0
    # the expected depth of an exponential fall-off inside the slab, from its entry at t = 2.5:
    # E[t] = 2.5 + (1/s - L e^{-sL} / (1 - e^{-sL})), up to the quadrature's half-bin offset
    mean_inside = 1 / 2.0 - 0.8 * through / (1 - through)
    assert out.depth.item() == pytest.approx(2.5 + mean_inside, abs=0.01)


def test_one_sample_composites_to_its_own_alpha():
    sigma, delta = torch.tensor([[3.0]]), torch.tensor([[0.1]])
    out = composite(sigma, torch.ones(1, 1, 3) * 0.5, torch.tensor([[1.0]]), delta, torch.zeros(3))
    alpha = 1 - math.exp(-0.3)
    assert out.opacity.item() == pytest.approx(alpha)
    assert out.rgb[0, 0].item() == pytest.approx(0.5 * alpha)
    assert out.transmittance.item() == 1.0


def test_ray_box_entry_exit_miss_and_inside():
    origins = torch.tensor([[-3.0, 0.0, 0.0], [-3.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    dirs = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    near, far = ray_box(origins, dirs, BOX)
    assert near[0].item() == pytest.approx(2.0) and far[0].item() == pytest.approx(4.0)
    assert far[1] <= near[1]                      # passes above the box
    assert near[2].item() == 0.0 and far[2].item() == pytest.approx(1.0)   # starts inside
    t, delta = stratified(near[:1], far[:1], 4)
    assert torch.allclose(t, torch.tensor([[2.25, 2.75, 3.25, 3.75]])) and torch.allclose(delta, torch.full((1, 4), 0.5))
    jittered, _ = stratified(near[:1], far[:1], 4, torch.Generator().manual_seed(0))
    assert ((jittered >= torch.tensor([2.0, 2.5, 3.0, 3.5])) & (jittered < torch.tensor([2.5, 3.0, 3.5, 4.0]))).all()


def test_camera_rays_follow_the_opengl_convention():
    cam = Camera(look_at((0.0, -4.0, 0.0), (0.0, 0.0, 0.0)), 5, 5, 5.0, 5.0, 2.5, 2.5)
    origins, dirs = cam.rays()
    assert np.allclose(origins, [0, -4, 0])
    assert np.allclose(dirs[12], [0, 1, 0], atol=1e-6)           # the centre pixel looks at the target
    assert dirs[0, 2] > 0 and dirs[0, 0] < 0                    # top-left pixel: up and to the left
    assert np.allclose(np.linalg.norm(dirs, axis=1), 1, atol=1e-6)
    frustum = cam.frustum(2.0)
    assert frustum.shape == (5, 3) and np.allclose(frustum[0], [0, -4, 0])
    assert np.allclose(frustum[1:, 1], -2.0)                     # corners 2 units along the view axis
    view = orbit_camera(90.0, 0.0, 3.0, size=9)
    assert np.allclose(view.position, [0, 3, 0], atol=1e-9) and view.width == 9


def test_depth_along_rays_matches_z_depth_conversion():
    cam = Camera(look_at((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0)), 4, 4, 2.0, 2.0, 2.0, 2.0)
    z = np.full((4, 4), 5.0)
    distances = cam.z_to_distance(z)
    _, dirs = cam.rays()
    # a plane at z = 0 seen along each ray: distance = 5 / cos(angle to the axis)
    assert np.allclose(distances.ravel(), 5.0 / -dirs[:, 2])


class Cube(nn.Module):
    """Dense only inside a small cube (box coordinates) in an otherwise empty box."""

    def __init__(self, half=0.2):
        super().__init__()
        self.half, self.in_dim, self.points_read = half, 3, 0

    def density(self, points):
        self.points_read += len(points)
        return ((points.abs() < self.half).all(1)).float() * 50.0

    def forward(self, points, dirs=None):
        return self.density(points), torch.full((len(points), 3), 0.7)


def test_occupancy_grid_skips_empty_space_without_changing_the_picture():
    cube = Cube()
    grid = OccupancyGrid(3, res=32, sample_step=2 / 64, warmup=0)
    grid.update(cube.density, torch.Generator().manual_seed(0))
    assert 0 < grid.occupied_share < 0.03  # the cube is 0.8% of the box; the mask adds a cell around it
    assert grid.occupied(torch.zeros(1, 3)).item() and not grid.occupied(torch.full((1, 3), 0.8)).item()
    cam = orbit_camera(30.0, 20.0, 3.5, size=16)
    origins, dirs = (torch.as_tensor(a) for a in cam.rays())
    settings = RenderSettings(n_samples=64, cull=False)
    cube.points_read = 0
    full, _ = render_rays(cube, origins, dirs, BOX, settings, None, torch.ones(3))
    read_everywhere = cube.points_read
    cube.points_read = 0
    skipped, samples = render_rays(cube, origins, dirs, BOX, settings, grid, torch.ones(3))
    assert cube.points_read < read_everywhere / 50
    assert samples.read.sum().item() == cube.points_read
    assert torch.allclose(full.rgb, skipped.rgb, atol=1e-6)


def test_culling_reads_nothing_behind_an_opaque_wall():
    wall = Slab(sigma=500.0, x0=-0.2, x1=0.0)
    origins, dirs = ray_along_x()
    settings = RenderSettings(n_samples=128, segments=16)
    out, samples = render_rays(wall, origins, dirs, BOX, settings, None, torch.zeros(3))
    x = origins[0, 0] + samples.t[0]
    assert not samples.read[0][x > 0.05].any()  # behind the wall: no light, nothing read with gradients
    # early stopping leaves at most ``early_stop`` of the light unaccounted for
    assert out.opacity.item() == pytest.approx(1.0, abs=settings.early_stop)
    wall.points_read = 0
    sample_rays(origins, dirs, BOX, settings)
    render_rays(wall, origins, dirs, BOX, settings, None, torch.zeros(3))
    assert wall.points_read < 128  # the culling pass stopped reading the ray past the wall too
