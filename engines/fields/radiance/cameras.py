"""Pinhole cameras and their rays, in the NeRF / OpenGL convention.

A camera-to-world matrix ``c2w`` (4x4) has the camera's right, up and backward axes as its first
three columns and its position as the fourth: the camera looks along -z, with y up (the
convention of the NeRF "synthetic" scenes, tiny_nerf_data.npz and nerfstudio). Pixel (row v,
column u) is seen through its centre: direction (u + 0.5 - cx) / fx, -(v + 0.5 - cy) / fy, -1 in
camera coordinates. Rays leave with unit directions, so a ray parameter t is a distance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    c2w: np.ndarray        # (4, 4) camera-to-world, OpenGL axes
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @property
    def position(self) -> np.ndarray:
        return np.asarray(self.c2w[:3, 3], dtype=np.float64)

    def directions_camera(self) -> np.ndarray:
        """(H*W, 3) unnormalised directions in camera coordinates (z = -1), row-major pixels."""
        v, u = np.meshgrid(np.arange(self.height), np.arange(self.width), indexing="ij")
        return np.stack([(u.ravel() + 0.5 - self.cx) / self.fx, -(v.ravel() + 0.5 - self.cy) / self.fy,
                         -np.ones(u.size)], axis=1)

    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        """Origins and unit directions (H*W, 3) in world coordinates, float32, row-major pixels."""
        dirs = self.directions_camera() @ np.asarray(self.c2w[:3, :3], dtype=np.float64).T
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        origins = np.broadcast_to(self.position, dirs.shape)
        return origins.astype(np.float32), dirs.astype(np.float32)

    def z_to_distance(self, z_depth: np.ndarray) -> np.ndarray:
        """Depth along the optical axis (H, W) -> distance along each pixel's ray."""
        scale = np.linalg.norm(self.directions_camera(), axis=1).reshape(self.height, self.width)
        return z_depth * scale

    def resized(self, width: int, height: int | None = None) -> "Camera":
        """The same camera with an image of another size (intrinsics scaled with it)."""
        height = height or int(round(width * self.height / self.width))
        sx, sy = width / self.width, height / self.height
        return Camera(self.c2w, int(width), int(height), self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy)

    def frustum(self, depth: float) -> np.ndarray:
        """(5, 3) world points: the centre, then the image corners (top-left, top-right,
        bottom-right, bottom-left) at ``depth`` along the optical axis: a pyramid to draw."""
        corners = np.array([[0, 0], [self.width, 0], [self.width, self.height], [0, self.height]], float)
        cam = np.stack([(corners[:, 0] - self.cx) / self.fx, -(corners[:, 1] - self.cy) / self.fy,
                        -np.ones(4)], axis=1) * depth
        world = cam @ np.asarray(self.c2w[:3, :3], float).T + self.position
        return np.vstack([self.position, world])

    @property
    def vertical_fov_deg(self) -> float:
        return math.degrees(2 * math.atan(self.height / (2 * self.fy)))


def look_at(eye, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """The c2w matrix of a camera at ``eye`` looking at ``target`` with ``up`` roughly up.
    Looking straight along ``up`` picks another up vector rather than failing."""
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    back = eye - target
    back /= np.linalg.norm(back)
    if abs(np.dot(back, up / np.linalg.norm(up))) > 0.999:
        up = np.array([0.0, 1.0, 0.0]) if abs(back[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, np.cross(back, right), back, eye
    return c2w


def orbit_camera(azimuth_deg: float, elevation_deg: float, radius: float, size: int = 100,
                 fov_deg: float = 40.0, centre=(0.0, 0.0, 0.0)) -> Camera:
    """A square camera on a sphere around ``centre`` (z up), looking at it: the room's novel view."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    offset = radius * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    focal = size / (2 * math.tan(math.radians(fov_deg) / 2))
    centre = np.asarray(centre, dtype=np.float64)
    return Camera(look_at(centre + offset, centre), size, size, focal, focal, size / 2, size / 2)


def sphere_directions(n: int, offset: float = 0.5) -> np.ndarray:
    """``n`` nearly even unit vectors on the sphere (a Fibonacci lattice); ``offset`` shifts the
    lattice, so two offsets give two disjoint sets of viewpoints (training and held-out)."""
    i = np.arange(n) + offset
    z = 1 - 2 * i / n
    phi = i * math.pi * (3 - math.sqrt(5))
    r = np.sqrt(np.clip(1 - z * z, 0, 1))
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def sphere_cameras(n: int, radius: float, size: int = 100, fov_deg: float = 40.0, offset: float = 0.5,
                   centre=(0.0, 0.0, 0.0)) -> list[Camera]:
    """``n`` square cameras spread over a sphere of ``radius``, all looking at ``centre``."""
    focal = size / (2 * math.tan(math.radians(fov_deg) / 2))
    centre = np.asarray(centre, dtype=np.float64)
    return [Camera(look_at(centre + radius * d, centre), size, size, focal, focal, size / 2, size / 2)
            for d in sphere_directions(n, offset)]


def stack_rays(cameras: list[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """Origins and directions of every pixel of every camera, camera after camera."""
    pairs = [cam.rays() for cam in cameras]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
