"""NeuRBF as in its official code, and the caches that make it fast on a CPU."""
import numpy as np
import pytest
import torch

from engines.fields import ImageTarget, SdfTarget, build_field, neurbf
from engines.fields.neurbf import AdaptiveRBF, log_frequencies
from engines.fields.trainer import Trainer


@pytest.fixture(scope="module")
def image():
    return ImageTarget("astronaut", size=40)


def test_first_layer_is_h_plus_sin_h_omega_with_no_relu_after_it():
    torch.manual_seed(0)
    field = build_field("neurbf", 2, 3, knob=64, grid_resolution=32)
    omega = field.first_omega
    assert torch.allclose(omega, torch.logspace(np.log10(10), np.log10(100), 64), rtol=1e-5)
    assert omega[0] == pytest.approx(10) and omega[-1] == pytest.approx(100)
    x = torch.rand(50, 2) * 2 - 1
    feats = torch.cat([field.grid(x), field.rbf(x)], 1) + field.bias
    h = field.first(feats)
    h = h + torch.sin(h * omega)
    assert (h < 0).any()  # nothing clips it: the official layer has no ReLU after the sine term
    expected = field.out(torch.relu(field.hidden(h)))
    assert torch.allclose(field(x), expected, atol=1e-6)
    shape = build_field("neurbf", 3, 1, knob=64)
    assert shape.first_omega[0] == pytest.approx(30) and shape.first_omega[-1] == pytest.approx(300)
    assert shape.rbf.omega[0] == pytest.approx(1) and shape.rbf.omega[-1] == pytest.approx(8)
    assert field.rbf.omega[0] == pytest.approx(2 ** -3) and field.rbf.omega[-1] == pytest.approx(2 ** 12)


def test_initialisation_is_uniform_1e4_as_the_official_code():
    torch.manual_seed(0)
    field = build_field("neurbf", 2, 3, knob=2000, grid_resolution=64)
    for tensor in (field.rbf.weights, field.bias, *field.grid.dense):
        values = tensor.detach().abs()  # U(-a, a): |values| average a / 2
        assert values.max() <= 1e-4 and values.mean() == pytest.approx(5e-5, rel=0.05 if values.numel() > 5000 else 0.3)


def test_hat_kernel_is_separable_and_compactly_supported():
    rbf = AdaptiveRBF(3, n_kernels=8, top_k=2, channels=4, kernel="hat")
    with torch.no_grad():
        rbf.centres.zero_()
        rbf.centres[1] = torch.tensor([0.5, 0.0, 0.0])
        rbf.shape_factor.fill_(2.0)  # support radius 0.5 along each axis
    x = torch.tensor([[0.1, 0.2, -0.1], [0.9, 0.9, 0.9]])
    idx = torch.tensor([[0, 1], [0, 1]])
    phi = rbf.kernel_values(x, idx)
    raw0 = (1 - 2 * torch.tensor([0.1, 0.2, 0.1])).prod()
    raw1 = (1 - 2 * torch.tensor([0.4, 0.2, 0.1])).prod()
    assert torch.allclose(phi[0], torch.stack([raw0, raw1]) / (raw0 + raw1), atol=1e-6)
    assert torch.equal(phi[1], torch.zeros(2))  # outside every support: no contribution


def test_cached_kernel_values_equal_recomputed_ones(image):
    trainer = Trainer(build_field("neurbf", 2, 3, param_budget=30_000, seed=0), image, batch_size=256)
    trainer.step(2)
    rbf = trainer.field.rbf
    assert rbf._points_waves is not None  # frozen kernels: sin(phi * omega) kept for every pixel
    x = image.coords
    with torch.no_grad():
        idx = rbf._query(x)
        fresh = rbf.waves(rbf.kernel_values(x, idx))
        assert torch.equal(rbf._points_idx, idx)
        assert torch.allclose(rbf._points_waves, fresh, atol=1e-6)
        index = torch.arange(0, len(x), 7)
        assert torch.allclose(trainer.field(x[index], index), trainer.field(x[index]), atol=1e-6)


def test_no_tree_is_rebuilt_while_nothing_moves(image, monkeypatch):
    trees = []
    real = neurbf.cKDTree
    monkeypatch.setattr(neurbf, "cKDTree", lambda pts, *a, **k: trees.append(1) or real(pts, *a, **k))
    trainer = Trainer(build_field("neurbf", 2, 3, param_budget=30_000, seed=0), image, batch_size=128)
    built = len(trees)  # the k-means of the initialisation
    trainer.step(20)
    trainer.evaluate()
    trainer.evaluate()
    trainer.snapshot(preview_res=16)
    assert len(trees) == built + 1  # one tree for the frozen kernels, for training and evaluation
    trainer.field.rbf.set_adaptive(True)  # moving kernels: lists are refreshed
    trainer.step(trainer.field.rbf.refresh_every)
    assert len(trees) > built + 1


def test_adaptive_kernels_train_through_the_cached_path(image):
    trainer = Trainer(build_field("neurbf", 2, 3, param_budget=30_000, seed=0, adaptive=True), image, batch_size=256)
    before = trainer.field.rbf.centres.detach().clone()
    trainer.step(3)
    assert trainer.field.rbf._points_waves is None  # moving kernels: nothing constant to keep
    assert not torch.equal(before, trainer.field.rbf.centres)


def test_official_parameter_groups_get_their_rates(image):
    trainer = Trainer(build_field("neurbf", 2, 3, param_budget=30_000, seed=0), image, lr=1e-2, total_steps=10 ** 6)
    trainer.step(1)
    rates = {g["name"]: g["lr"] for g in trainer.optimizer.param_groups}
    assert rates == pytest.approx({"decoder": 1e-2, "features": 5e-3})  # the code's image config


def test_sdf_neurbf_uses_the_hat_kernel_near_the_surface():
    target = SdfTarget("sphere", pool_size=8_000, n_eval=2_000)
    trainer = Trainer(build_field("neurbf", 3, 1, param_budget=40_000, seed=0), target, batch_size=512)
    rbf = trainer.field.rbf
    assert rbf.kernel == "hat" and rbf.top_k == 8 and rbf.shape_factor.shape[1] == 1
    radius = rbf.centres.detach().norm(dim=1)
    assert (radius - 0.6).abs().median() < 0.05  # k-means weights 1 / (|sdf| + eps) gather kernels there
    assert np.isfinite(trainer.step(5))


def test_log_frequencies():
    assert torch.allclose(log_frequencies(1.0, 8.0, 4), torch.tensor([1.0, 2.0, 4.0, 8.0]))
