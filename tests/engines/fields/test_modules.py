"""Shapes, gradients and the defining maths of every module, and equal-budget construction."""
import numpy as np
import pytest
import torch

from engines.errors import InvalidInputError
from engines.fields import FIELD_NAMES, build_field
from engines.fields.encoders import DenseGrid, HashGrid, sawtooth
from engines.fields.rbf import AdaptiveRBF, GaussianRBF, weighted_kmeans


@pytest.mark.parametrize("make, in_dim", [
    (lambda: DenseGrid(2, (4, 8), (3, 2)), 2), (lambda: DenseGrid(3, (4, 8), (3, 2)), 3),
    (lambda: HashGrid(2, n_levels=4, table_size=64, max_res=32), 2),
    (lambda: HashGrid(3, n_levels=4, table_size=64, max_res=32), 3),
    (lambda: DenseGrid(2, (4, 8), (3, 2), periods=(2.0, 3.5)), 2)])
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
    assert enc.is_dense == [True] and enc.table is None
    x = torch.rand(20, 2) * 2 - 1
    with torch.no_grad():  # a grid linear in the lattice coordinates is reproduced exactly
        j, i = torch.meshgrid(torch.arange(5.0), torch.arange(5.0), indexing="ij")  # rows = y
        enc.dense[0].copy_(torch.stack([i, j])[None])
    assert torch.allclose(enc(x), (x + 1) * 0.5 * 4, atol=1e-5)


def test_hash_grid_hashes_levels_larger_than_its_table():
    import itertools
    torch.manual_seed(0)
    enc = HashGrid(3, n_levels=3, table_size=1000, base_res=4, max_res=32)
    assert enc.is_dense == [True, False, False] and enc.table.shape == (2000, 2)
    x = torch.rand(30, 3) * 2 - 1
    for level, part in ((1, 0), (2, 1)):  # each hashed level reads its own part of the table
        res = enc.resolutions[level]
        pos = (x + 1) * 0.5 * res
        base = pos.floor().clamp(max=res - 1)
        frac, cell = pos - base, base.long()
        expected = torch.zeros(30, 2)
        for corner in itertools.product((0, 1), repeat=3):
            c = cell + torch.tensor(corner)
            h = (c[:, 0] ^ (c[:, 1] * 2654435761) ^ (c[:, 2] * 805459861)) % 1000  # Instant-NGP's primes
            w = torch.where(torch.tensor(corner).bool(), frac, 1 - frac).prod(1)
            expected += w[:, None] * enc.table[part * 1000 + h]
        assert torch.allclose(enc(x)[:, 2 * level:2 * level + 2], expected, atol=1e-6)


def test_sawtooth_tiles_the_domain():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.49, 0.51, 1.0])
    assert torch.allclose(sawtooth(x, 2.0), torch.tensor([-1.0, 0.0, -1.0, -0.02, 0.02, -1.0]), atol=1e-5)


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
    gnf = build_field("gnf", 2, 3, knob=64, n_kernels=12, grid_levels=2)
    assert gnf.rbf.centres.shape[0] == 12 and [g.shape[-1] for g in gnf.encoder.grids] == [16, 64]
    neurbf = build_field("neurbf", 2, 3, knob=48, top_k=3, grid_levels=2, grid_resolution=32, adaptive=True)
    assert neurbf.rbf.centres.shape == (48, 2) and neurbf.rbf.top_k == 3 and neurbf.rbf.adaptive
    assert neurbf.grid.resolutions == [16, 32]
    fitted = build_field("neurbf", 2, 3, param_budget=80_000, grid_resolution=128)
    assert fitted.grid.resolutions[-1] == 128 and fitted.param_count <= 80_000
    with pytest.raises(InvalidInputError, match="no size top_k"):
        build_field("gnf", 2, 3, top_k=4)
    with pytest.raises(InvalidInputError, match="Kernels per point"):
        build_field("neurbf", 2, 3, top_k=0)


def test_frozen_neurbf_keeps_neighbour_lists_for_a_fixed_render_grid(monkeypatch):
    from engines.fields import neurbf as rbf
    from engines.fields.images import render
    field = build_field("neurbf", 2, 3, knob=32, grid_resolution=16).eval()
    queries = []
    real_tree = rbf.cKDTree
    monkeypatch.setattr(rbf, "cKDTree", lambda pts: queries.append(1) or real_tree(pts))
    first = render(field, 20, 24)
    assert np.array_equal(render(field, 20, 24), first) and len(queries) == 1
    field.rbf.set_adaptive(True)  # moving kernels: lists are recomputed
    render(field, 20, 24)
    assert len(queries) == 2


def test_gnf_unit_map_names_the_unit_that_leads_each_pixel():
    from engines.fields.rbf import gnf_unit_map
    field = build_field("gnf", 2, 3, knob=16, n_kernels=8, seed=0)
    coords = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 12), torch.linspace(-1, 1, 10), indexing="ij"),
                         -1).reshape(-1, 2)
    with torch.no_grad():
        field.readout.weight.zero_()
        field.readout.weight[:, 5] = 1.0  # only unit 5 reaches the output
    found = gnf_unit_map(field, coords, 12, 10, chunk=37)
    assert found["unit_map"].shape == (12, 10) and (found["unit_map"] == 5).all()
    assert found["share"][5] == 1.0 and found["total"] == 8
    with torch.no_grad():
        field.readout.weight.normal_()
    contributions = field.rbf(field.encoder(coords)) * field.readout.weight.norm(dim=0)
    assert (gnf_unit_map(field, coords, 12, 10)["unit_map"].ravel() == contributions.argmax(1).numpy()).all()
