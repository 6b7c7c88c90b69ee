"""Radial-basis-function fields, and where their kernels are in an image.

The fields live in their own modules: ``gnf`` (GaussianRBF, GNF: Gaussian neurons in feature
space) and ``neurbf`` (AdaptiveRBF, NeuRBF: kernels in coordinate space); their names are
re-exported here. ``image_kernels`` gives a 2-D RBF field's kernels as ellipses to draw;
``gnf_unit_map`` says which of GNF's feature-space units leads at each pixel (its units have no
place of their own in the image; ``gnf_footprints``, their response-weighted ellipses, all
collapse to the image centre, see ``gnf_unit_map``).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .gnf import GNF, GaussianRBF
from .neurbf import AdaptiveRBF, NeuRBF, weighted_kmeans

__all__ = ["GNF", "AdaptiveRBF", "GaussianRBF", "NeuRBF", "gnf_footprints", "gnf_unit_map", "image_kernels", "weighted_kmeans"]


HALF_MAX = 2 * math.log(2)  # a Gaussian with covariance C is at half maximum where dx^T C^-1 dx = 2 ln 2


@torch.no_grad()
def gnf_footprints(field: GNF, coords: torch.Tensor):
    """Where in a 2-D domain each GNF unit responds (GNF units live in feature space).

    Each unit's response over ``coords`` (N, 2) is summarised by its weighted mean (centre) and
    covariance, drawn as the half-maximum ellipse of the Gaussian with that covariance.
    Returns centres (U, 2), shape matrices (U, 2, 2) and readout weight norms (U,).
    """
    coords = coords.to(field.readout.weight.device)  # targets keep their coords on the CPU
    phi = field.rbf(field.encoder(coords)).cpu().numpy().astype(np.float64)  # (N, U)
    mass = phi.sum(0) + 1e-12
    x = coords.cpu().numpy().astype(np.float64)
    centres = (phi.T @ x) / mass[:, None]
    products = np.stack([x[:, 0] * x[:, 0], x[:, 0] * x[:, 1], x[:, 1] * x[:, 1]], 1)
    xx, xy, yy = ((phi.T @ products) / mass[:, None]).T
    second = np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)
    covs = second - centres[:, :, None] * centres[:, None, :] + np.eye(2) * 1e-6
    shapes = np.linalg.inv(covs) / HALF_MAX
    norms = field.readout.weight.norm(dim=0).cpu().numpy()
    return centres.astype(np.float32), shapes.astype(np.float32), norms


@torch.no_grad()
def gnf_unit_map(field: GNF, coords: torch.Tensor, height: int, width: int, chunk: int = 1 << 15) -> dict:
    """Which GNF unit the field leans on at each pixel: the unit with the largest contribution
    |readout weight| x response there. (``gnf_footprints`` summarises each unit by the mean and
    covariance of its response; a unit responds weakly all over the image, because the grid
    features it reads vary from pixel to pixel, so every footprint lands near the centre with
    the square's covariance: rings, not places. This map is what is true.)

    Returns unit_map (height, width) of unit indices, share (U,) of the pixels each unit leads,
    weight_norms (U,) and total (U)."""
    device = field.readout.weight.device
    norms = field.readout.weight.norm(dim=0)                                  # (U,)
    leaders = [torch.argmax(field.rbf(field.encoder(part.to(device))) * norms, dim=1).cpu()
               for part in coords.split(chunk)]
    unit_map = torch.cat(leaders).reshape(height, width).numpy().astype(np.int16)
    share = np.bincount(unit_map.ravel(), minlength=len(norms)) / unit_map.size
    return {"unit_map": unit_map, "share": share.astype(np.float32), "weight_norms": norms.cpu().numpy(),
            "total": len(norms)}


def image_kernels(field, coords: torch.Tensor, max_kernels: int = 1024) -> dict | None:
    """Kernel centres and ellipse shapes of a 2-D RBF field, strongest first (None for others)."""
    if isinstance(field, NeuRBF):
        params = field.kernel_params()
        centres, shapes, norms = params["centres"], params["shapes"], params["weight_norms"]
    elif isinstance(field, GNF):
        centres, shapes, norms = gnf_footprints(field, coords)
    else:
        return None
    order = np.argsort(-norms)[:max_kernels]
    return {"centres": centres[order], "shapes": shapes[order], "weight_norms": norms[order],
            "total": len(norms)}
