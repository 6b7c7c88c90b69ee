"""Shapes, gradients and the defining maths of every module, and equal-budget construction."""
import numpy as np
import pytest
import torch

from engines.errors import InvalidInputError
from engines.fields import FIELD_NAMES, build_field
from engines.fields.encoders import DenseGrid, HashGrid, PlaneGrid
from engines.fields.rbf import AdaptiveRBF, GaussianRBF, weighted_kmeans


@pytest.mark.parametrize("make, in_dim", [
    (lambda: DenseGrid(2, (4, 8), (3, 2)), 2), (lambda: DenseGrid(3, (4, 8), (3, 2)), 3),
    (lambda: HashGrid(2, n_levels=4, table_size=64, max_res=32), 2),
    (lambda: HashGrid(3, n_levels=4, table_size=64, max_res=32), 3), (lambda: PlaneGrid((4, 8), (3, 2)), 3)])
def test_encoders_shape_and_gradient(make, in_dim):
    torch.manual_seed(0)
    enc = make()
    x = torch.rand(50, in_dim) * 2 - 1
    out = enc(x)
    assert out.shape == (50, enc.out_dim)
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())


def test_dense_grid_interpolates_its_corner_values():
    enc = DenseGrid(2, (2,), (1,))
    with torch.no_grad():
        enc.grids[0].copy_(torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]]))  # rows = y, columns = x
    x = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [0.0, 0.0]])
    assert torch.allclose(enc(x)[:, 0], torch.tensor([0.0, 1.0, 2.0, 1.5]))


def test_hash_grid_is_exact_on_a_collision_free_level():
    enc = HashGrid(2, n_levels=1, table_size=1 << 10, base_res=4, max_res=4)
    x = torch.rand(20, 2) * 2 - 1
    with torch.no_grad():  # a table linear in the lattice coordinates is reproduced exactly
        i = torch.arange(enc.tables[0].shape[0])
        enc.tables[0].copy_(torch.stack([(i % 5).float(), (i // 5).float()], 1))
    assert torch.allclose(enc(x), (x + 1) * 0.5 * 4, atol=1e-5)


def test_gaussian_rbf_gemm_matches_direct_distance():
    torch.manual_seed(0)
    layer = GaussianRBF(6, 10)
    with torch.no_grad():
        layer.log_beta.normal_()
    f = torch.randn(30, 6)
    direct = torch.exp(-0.5 * (layer.log_beta.exp() * (f[:, None] - layer.centres) ** 2).sum(-1))
    assert torch.allclose(layer(f), direct, atol=1e-5)


def test_adaptive_rbf_uses_true_nearest_kernels_and_normalises():
    torch.manual_seed(0)
    rbf = AdaptiveRBF(2, n_kernels=64, top_k=4, channels=8)
    x = torch.rand(100, 2) * 2 - 1
    idx = rbf.neighbours(x)
    brute = torch.cdist(x, rbf.centres.detach()).topk(4, largest=False).indices
    assert torch.equal(idx.sort(1).values, brute.sort(1).values)
    out = rbf(x)
    assert out.shape == (100, 8)
    out.sum().backward()
    assert rbf.weights.grad.abs().sum() > 0 and rbf.centres.grad is None  # frozen by default


def test_adaptive_switch_moves_kernels():
    torch.manual_seed(0)
    rbf = AdaptiveRBF(2, n_kernels=16, top_k=4, channels=4)
    rbf.set_adaptive(True)
    rbf(torch.rand(40, 2) * 2 - 1).square().sum().backward()
    assert rbf.centres.grad.abs().sum() > 0 and rbf.shape_factor.grad.abs().sum() > 0


def test_weighted_kmeans_puts_centres_where_weight_is():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, (4000, 2))
    weights = np.where(pts[:, 0] > 0.5, 100.0, 0.01)
    centres, covs, counts = weighted_kmeans(pts, weights, 20, seed=0)
    assert (centres[:, 0] > 0.4).mean() > 0.9
    assert covs.shape == (20, 2, 2) and counts.sum() > 0


@pytest.mark.parametrize("name", FIELD_NAMES)
@pytest.mark.parametrize("in_dim, out_dim", [(2, 3), (3, 1)])
def test_every_field_maps_coords_to_values_with_gradients(name, in_dim, out_dim):
    field = build_field(name, in_dim, out_dim, param_budget=60_000, seed=0)
    assert field.param_count <= 60_000
    x = torch.rand(64, in_dim) * 2 - 1
    y = field(x)
    assert y.shape == (64, out_dim) and torch.isfinite(y).all()
    y.square().mean().backward()
    grads = [p.grad for p in field.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_budget_uses_most_of_it(name):
    field = build_field(name, 2, 3, param_budget=150_000)
    bigger = build_field(name, 2, 3, knob=field.knob + 1)
    assert field.param_count <= 150_000 < bigger.param_count


def test_bad_field_requests_raise_typed_errors():
    with pytest.raises(InvalidInputError, match="unknown field"):
        build_field("mlp9000", 2, 3)
    with pytest.raises(InvalidInputError):
        build_field("gnf", 4, 1)
    with pytest.raises(InvalidInputError, match="parameters"):
        build_field("gnf", 2, 3, param_budget=10)


def test_explicit_architecture_sizes_and_budget_around_them():
    gnf = build_field("gnf", 2, 3, knob=64, n_units=12, levels=2)
    assert gnf.rbf.centres.shape[0] == 12 and [g.shape[-1] for g in gnf.encoder.grids] == [32, 64]
    neurbf = build_field("neurbf", 2, 3, knob=32, n_kernels=48, top_k=3, levels=2, adaptive=True)
    assert neurbf.rbf.centres.shape == (48, 2) and neurbf.rbf.top_k == 3 and neurbf.rbf.adaptive
    assert [g.shape[-1] for g in neurbf.grid.grids] == [16, 32]
    fitted = build_field("neurbf", 2, 3, param_budget=80_000, n_kernels=64)
    assert fitted.rbf.centres.shape[0] == 64 and fitted.param_count <= 80_000
    with pytest.raises(InvalidInputError, match="no size top_k"):
        build_field("gnf", 2, 3, top_k=4)


def test_frozen_neurbf_keeps_neighbour_lists_for_a_fixed_render_grid(monkeypatch):
    from engines.fields import rbf
    from engines.fields.images import render
    field = build_field("neurbf", 2, 3, knob=16, n_kernels=32).eval()
    queries = []
    real_tree = rbf.cKDTree
    monkeypatch.setattr(rbf, "cKDTree", lambda pts: queries.append(1) or real_tree(pts))
    first = render(field, 20, 24)
    assert np.array_equal(render(field, 20, 24), first) and len(queries) == 1
    field.rbf.set_adaptive(True)  # moving kernels: lists are recomputed
    render(field, 20, 24)
    assert len(queries) == 2
