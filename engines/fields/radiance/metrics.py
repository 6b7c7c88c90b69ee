"""How good a radiance field is: PSNR / SSIM of held-out views (the fields engine's metrics),
depth error where the true depth is known, and the error of the learned density itself where
the scene's density is known exactly (the analytic blob scene, flatland)."""
from __future__ import annotations

import numpy as np
import torch

from ..devices import field_device
from ..metrics import psnr, ssim

__all__ = ["psnr", "ssim", "depth_error", "density_grid", "field_error"]


def depth_error(pred: np.ndarray, truth: np.ndarray) -> dict:
    """Mean absolute depth error over pixels where both see a surface, and the share of true
    surface pixels the prediction also sees (nan depth = nothing seen)."""
    truth_seen, pred_seen = np.isfinite(truth), np.isfinite(pred)
    both = truth_seen & pred_seen
    mae = float(np.abs(pred[both] - truth[both]).mean()) if both.any() else float("nan")
    coverage = float(both.sum() / truth_seen.sum()) if truth_seen.any() else 1.0
    return {"depth_mae": mae, "depth_coverage": coverage}


def lattice(res: int, dim: int) -> torch.Tensor:
    """(res^dim, dim) cell centres of a lattice over [-1, 1]^dim, first axis slowest."""
    axis = (torch.arange(res, dtype=torch.float32) + 0.5) * (2 / res) - 1
    return torch.stack(torch.meshgrid(*([axis] * dim), indexing="ij"), -1).reshape(-1, dim)


@torch.no_grad()
def density_grid(density_fn, res: int, dim: int, device=None, chunk: int = 1 << 16) -> np.ndarray:
    """A density function (box points -> (N,)) on a res^dim lattice of cell centres."""
    points = lattice(res, dim).to(device or "cpu")
    values = torch.cat([density_fn(c).reshape(-1) for c in points.split(chunk)])
    return values.reshape((res,) * dim).cpu().numpy()


@torch.no_grad()
def field_error(model, true_density, dim: int, res: int = 64) -> dict:
    """Mean absolute error of the learned density on a lattice, also as a share of the true
    density's range (the flatland target: < 5%), and the correlation of the two."""
    learned = density_grid(model.density, res, dim, field_device(model))
    truth = density_grid(true_density, res, dim)
    mae = float(np.abs(learned - truth).mean())
    span = float(truth.max() - truth.min()) or 1.0
    corr = float(np.corrcoef(learned.ravel(), truth.ravel())[0, 1]) if learned.std() > 0 else 0.0
    return {"density_mae": mae, "density_mae_share": mae / span, "density_correlation": corr}
