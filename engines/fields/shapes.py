"""Analytic signed distance functions (numpy, exact or exact-bound) and their CSG combinations.

Negative inside. CSG by min / max is exact outside for unions and a bound elsewhere, which is
the usual convention (Inigo Quilez) and enough for occupancy-based metrics.
"""
from __future__ import annotations

import numpy as np


def sphere(p, radius=0.6):
    return np.linalg.norm(p, axis=1) - radius


def box(p, half=(0.5, 0.4, 0.3)):
    q = np.abs(p) - np.asarray(half)
    return np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(1), 0)


def torus(p, major=0.55, minor=0.2):
    ring = np.linalg.norm(p[:, [0, 1]], axis=1) - major
    return np.hypot(ring, p[:, 2]) - minor


def cylinder(p, axis=2, radius=0.25):
    others = [i for i in range(3) if i != axis]
    return np.linalg.norm(p[:, others], axis=1) - radius


def union(*d):
    return np.minimum.reduce(d)


def intersection(*d):
    return np.maximum.reduce(d)


def difference(a, b):
    return np.maximum(a, -b)


def csg(p):
    """The classic CSG example: (box ∩ sphere) minus three axis cylinders."""
    body = intersection(box(p, (0.6, 0.6, 0.6)), sphere(p, 0.78))
    holes = union(*(cylinder(p, a, 0.3) for a in range(3)))
    return difference(body, holes)


ANALYTIC_SHAPES = {"sphere": sphere, "torus": torus, "box": box, "csg": csg}
