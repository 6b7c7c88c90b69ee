"""Radial-basis-function fields: GNF (Gaussian RBFNet) and NeuRBF.

GaussianRBF  one layer of Gaussian neurons in *feature* space (Bouzidi et al., arXiv 2503.06762):
             phi_n(f) = exp(-1/2 sum_d beta_nd (f_d - c_nd)^2), distance computed as one GEMM.
GNF          dense grid features -> GaussianRBF -> linear read-out.
AdaptiveRBF  NeuRBF's kernels in *coordinate* space (Chen et al., ICCV 2023): each query uses its
             top-k nearest kernels (scipy cKDTree), inverse-quadratic or Gaussian with a full
             shape matrix, values normalised over the top-k, composed with multi-frequency sines.
NeuRBF       AdaptiveRBF features concatenated with dense grid features, then a small MLP whose
             first layer is sine-augmented.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from scipy.spatial import cKDTree

from ..errors import InvalidInputError
from .encoders import DenseGrid


class GaussianRBF(nn.Module):
    """A layer of ``n_units`` Gaussian neurons with per-dimension widths beta = exp(log_beta)."""

    def __init__(self, in_dim: int, n_units: int, centre_scale: float = 0.5):
        super().__init__()
        # centres spread around 0 (GNF uses ~1e-4): with near-zero grid features a spread gives
        # every unit a distinct, non-vanishing gradient from the first step
        self.centres = nn.Parameter(torch.randn(n_units, in_dim) * centre_scale)
        self.log_beta = nn.Parameter(torch.zeros(n_units, in_dim))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        beta = self.log_beta.exp()
        # ||f - c||^2_beta = f^2 beta^T - 2 f (beta c)^T + sum(beta c^2): a single GEMM
        lhs = torch.cat([f * f, f, torch.ones_like(f[:, :1])], dim=1)
        rhs = torch.cat([beta, -2 * beta * self.centres,
                         (beta * self.centres ** 2).sum(1, keepdim=True)], dim=1)
        return torch.exp(-0.5 * (lhs @ rhs.t().contiguous()).clamp_min(0))


class GNF(nn.Module):
    """Gaussian neural field: multi-level dense grids, one Gaussian RBF layer, a linear output."""

    def __init__(self, in_dim: int, out_dim: int, resolutions=(32, 64, 128, 256),
                 channels=(4, 4, 4, 4), n_units: int = 64):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.encoder = DenseGrid(in_dim, resolutions, channels, init_scale=0.1)
        self.rbf = GaussianRBF(self.encoder.out_dim, n_units)
        self.readout = nn.Linear(n_units, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.rbf(self.encoder(x)))

    @torch.no_grad()
    def on_lattice(self, res: int, chunk: int = 1 << 17) -> torch.Tensor:
        """Values on a res^3 lattice (x slowest), for fast marching-cubes previews."""
        feats = self.encoder.lattice(res)
        return torch.cat([self.readout(self.rbf(f)) for f in feats.split(chunk)])

    def kernel_params(self) -> dict:
        return {"kind": "gnf", "feature_centres": self.rbf.centres.detach().cpu().numpy(),
                "feature_widths": self.rbf.log_beta.detach().exp().cpu().numpy(),
                "weight_norms": self.readout.weight.detach().norm(dim=0).cpu().numpy()}


def weighted_kmeans(points: np.ndarray, weights: np.ndarray, n_clusters: int, n_iter: int = 10,
                    seed: int = 0, n_samples_per_cluster: int = 16):
    """Weighted Lloyd k-means returning (centres, covariances, counts).

    Points are resampled in proportion to their weights (at most ``n_samples_per_cluster`` per
    cluster), which is the weighted objective in expectation and keeps 10 iterations cheap.
    """
    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    if len(points) < n_clusters:
        raise InvalidInputError(f"{n_clusters} kernels need at least as many training points, got "
                                f"{len(points)}: choose fewer kernels (a smaller budget)")
    n = max(min(len(points) * 4, n_clusters * n_samples_per_cluster), n_clusters)
    sample = points[rng.choice(len(points), size=n, p=p)]
    centres = sample[rng.choice(n, size=n_clusters, replace=False)].copy()
    for _ in range(n_iter):
        labels = cKDTree(centres).query(sample)[1]
        counts = np.bincount(labels, minlength=n_clusters)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, sample)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    labels = cKDTree(centres).query(sample)[1]
    counts = np.bincount(labels, minlength=n_clusters)
    diff = sample - centres[labels]
    covs = np.zeros((n_clusters, points.shape[1], points.shape[1]))
    np.add.at(covs, labels, diff[:, :, None] * diff[:, None, :])
    covs /= np.maximum(counts, 1)[:, None, None]
    return centres, covs, counts


FIXED_QUERY_SETS = 8  # evaluation query tensors whose neighbour lists AdaptiveRBF keeps


class AdaptiveRBF(nn.Module):
    """NeuRBF kernels in coordinate space with top-k neighbour lists and sinusoid composition."""

    def __init__(self, in_dim: int, n_kernels: int = 4096, top_k: int = 4, channels: int = 32,
                 kernel: str = "inverse_quadratic", omega_range=(2.0 ** -3, 2.0 ** 12),
                 adaptive: bool = False, refresh_every: int = 20):
        super().__init__()
        if kernel not in ("inverse_quadratic", "gaussian"):
            raise ValueError(f"unknown kernel {kernel!r}: use 'inverse_quadratic' or 'gaussian'")
        self.in_dim, self.top_k, self.kernel, self.out_dim = in_dim, top_k, kernel, channels
        side = max(int(round(n_kernels ** (1 / in_dim))), 1)
        axes = [torch.linspace(-1, 1, side)] * in_dim
        lattice = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, in_dim)
        centres = torch.cat([lattice, torch.rand(max(n_kernels - len(lattice), 0), in_dim) * 2 - 1])
        self.centres = nn.Parameter(centres[:n_kernels].clone(), requires_grad=adaptive)
        # shape matrix S = A A^T, so S stays positive semi-definite under gradient steps
        scale = side / 2.0
        self.shape_factor = nn.Parameter(torch.eye(in_dim).repeat(n_kernels, 1, 1) * scale,
                                         requires_grad=adaptive)
        self.weights = nn.Parameter(torch.randn(n_kernels, channels) * 0.01)
        lo, hi = np.log2(omega_range[0]), np.log2(omega_range[1])
        self.register_buffer("omega", torch.logspace(lo, hi, channels, base=2.0))
        self.register_buffer("init_weights", torch.zeros(0), persistent=False)
        self.refresh_every = refresh_every
        self._cache_x, self._cache_idx, self._calls = None, None, 0
        self._fixed: dict = {}  # id(x) -> (x, idx): evaluation queries that recur (render grids)

    @property
    def adaptive(self) -> bool:
        return self.centres.requires_grad

    def set_adaptive(self, adaptive: bool) -> None:
        """Let centres and shapes keep learning (NeuRBF itself freezes them after init)."""
        self.centres.requires_grad_(adaptive)
        self.shape_factor.requires_grad_(adaptive)
        self.invalidate()  # centres that moved while adaptive leave stale neighbour lists

    def shape_matrices(self) -> torch.Tensor:
        a = self.shape_factor.detach()
        return a @ a.transpose(1, 2)

    @torch.no_grad()
    def initialise(self, points: np.ndarray, weights: np.ndarray, alpha: float = 0.5, seed: int = 0):
        """Weighted k-means centres; shape = alpha * inverse cluster covariance (wider kernels)."""
        k = self.centres.shape[0]
        centres, covs, _ = weighted_kmeans(points, weights, k, seed=seed)
        floor = (2.0 / np.sqrt(k)) ** 2 * 0.05  # keeps lone-point clusters from becoming spikes
        covs = covs + np.eye(self.in_dim) * floor
        shapes = alpha * np.linalg.inv(covs)
        self.centres.copy_(torch.as_tensor(centres, dtype=torch.float32))
        self.shape_factor.copy_(torch.linalg.cholesky(torch.as_tensor(shapes, dtype=torch.float32)))
        self.init_weights = torch.as_tensor(weights, dtype=torch.float32, device=self.centres.device)
        self.invalidate()

    def invalidate(self) -> None:
        self._cache_x, self._cache_idx = None, None
        self._fixed.clear()

    def neighbours(self, x: torch.Tensor) -> torch.Tensor:
        """Indices (N, k) of each query's nearest kernel centres; cached for a fixed query set."""
        self._calls += 1
        stale = self.adaptive and self._calls % self.refresh_every == 0
        if self._cache_x is x and not stale:
            return self._cache_idx
        frozen_eval = not self.training and not self.adaptive
        if frozen_eval and id(x) in self._fixed and self._fixed[id(x)][0] is x:
            return self._fixed[id(x)][1]
        tree = cKDTree(self.centres.detach().cpu().numpy())
        k = min(self.top_k, self.centres.shape[0])
        idx = tree.query(x.detach().cpu().numpy(), k=k)[1].reshape(len(x), k)
        idx = torch.as_tensor(idx, dtype=torch.long, device=x.device)
        if self.training:  # only training batches repeat; evaluation chunks would evict them
            self._cache_x, self._cache_idx = x, idx
        elif frozen_eval:  # frozen kernels: a fixed render grid keeps its lists (a few kept)
            if len(self._fixed) >= FIXED_QUERY_SETS:
                self._fixed.pop(next(iter(self._fixed)))
            self._fixed[id(x)] = (x, idx)
        return idx

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idx = self.neighbours(x)
        dx = x[:, None, :] - self.centres[idx]                              # (N, k, d)
        proj = (dx[..., None, :] @ self.shape_factor[idx]).squeeze(-2)      # dx^T A
        q = (proj * proj).sum(-1)                                           # dx^T S dx
        phi = 1.0 / (1.0 + q) if self.kernel == "inverse_quadratic" else torch.exp(-0.5 * q)
        phi = phi / (phi.sum(1, keepdim=True).detach() + 1e-8)
        waves = torch.sin(phi[..., None] * self.omega)                      # (N, k, C)
        return (self.weights[idx] * waves).sum(1)


class NeuRBF(nn.Module):
    """Hybrid field: adaptive RBF features + dense grid features -> sine-augmented MLP."""

    def __init__(self, in_dim: int, out_dim: int, n_kernels: int = 4096, top_k: int = 4,
                 rbf_channels: int = 32, kernel: str = "inverse_quadratic",
                 resolutions=(32, 64, 128), grid_channels=(2, 2, 2), hidden: int = 64,
                 omega_range=(2.0 ** -3, 2.0 ** 12), adaptive: bool = False):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.rbf = AdaptiveRBF(in_dim, n_kernels, top_k, rbf_channels, kernel, omega_range, adaptive)
        self.grid = DenseGrid(in_dim, resolutions, grid_channels, init_scale=0.1) if resolutions else None
        width = rbf_channels + (self.grid.out_dim if self.grid else 0)
        self.first = nn.Linear(width, hidden)
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.rbf(x)
        if self.grid is not None:
            feats = torch.cat([feats, self.grid(x)], dim=1)
        h = self.first(feats)
        return self.rest(h + torch.sin(h))  # the sine term adds frequencies the ReLUs lack

    def initialise(self, points: np.ndarray, weights: np.ndarray, seed: int = 0) -> None:
        self.rbf.initialise(points, weights, seed=seed)

    def kernel_params(self) -> dict:
        return {"kind": "neurbf", "centres": self.rbf.centres.detach().cpu().numpy(),
                "shapes": self.rbf.shape_matrices().cpu().numpy(),
                "weight_norms": self.rbf.weights.detach().norm(dim=1).cpu().numpy(),
                "init_weights": self.rbf.init_weights.cpu().numpy(),
                "adaptive": self.rbf.adaptive}


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
