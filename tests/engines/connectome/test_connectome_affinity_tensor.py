import numpy as np
import pytest

from engines.connectome.affinity import compute_affinity
from engines.connectome.tensor import build_tensor
from engines.errors import InvalidInputError


def _windows(rng, n_windows=3, length=200):
    base = rng.standard_normal((n_windows, length))
    noise = rng.standard_normal((n_windows, length, 2))
    # columns: x, x + small noise, -x, x**2 (non-linear), independent
    return np.stack([base, base + 0.1 * noise[..., 0], -base, base ** 2, noise[..., 1]], axis=-1)


def test_rectified_correlation_keeps_positive_and_zeroes_negative():
    aff = compute_affinity(_windows(np.random.default_rng(0)), "correlation")
    assert aff.shape == (3, 5, 5)
    assert np.all(aff[:, 0, 1] > 0.95)
    assert np.all(aff[:, 0, 2] == 0.0)          # anti-correlated: rectified away
    assert np.all(aff[:, 0, 4] < 0.25)


def test_mutual_information_sees_nonlinear_and_anticorrelated_dependence():
    aff = compute_affinity(_windows(np.random.default_rng(1)), "mutual_information")
    assert np.all(aff[:, 0, 2] > 0.8)           # -x carries all information on x
    assert np.all(aff[:, 0, 3] > 0.2)           # x**2 carries half of it
    assert np.all(aff[:, 0, 4] < 0.05)          # independent: bias-corrected to ~0


def test_kernel_affinity_ranks_the_partner_above_independent_neurons():
    aff = compute_affinity(_windows(np.random.default_rng(2)), "kernel", k_neighbours=2)
    assert np.all(aff >= 0) and np.all(aff <= 1 + 1e-6)
    assert np.all(aff[:, 0, 1] > aff[:, 0, 4])
    with pytest.raises(InvalidInputError):
        compute_affinity(_windows(np.random.default_rng(2)), "cosine")


def test_missing_neurons_are_masked_not_zero_filled(planted):
    traces, names, dt = planted(n_worms=3, missing_per_worm=0)
    traces[1][:, 5] = np.nan                       # worm 1 never recorded neuron 5
    traces[2][300:, :] = np.nan                    # worm 2's recording stops at 150 s
    tensor = build_tensor(traces, names, dt, window_s=20.0, step_s=10.0)
    n_windows = tensor.shape[0]
    assert tensor.shape == (n_windows, 3, 24 * 23 // 2)
    with_5 = np.any(tensor.pairs == 5, axis=1)
    assert not tensor.mask[:, 1, with_5].any()
    assert tensor.mask[:, 1, ~with_5].all() and tensor.mask[:, 0].all()
    late = tensor.window_start_s + 20.0 > 150.0
    assert not tensor.mask[late, 2].any() and tensor.mask[~late, 2].all()
    assert np.all(tensor.values[~tensor.mask] == 0)
    # module A pairs (0-5) are coupled in the first 200 s: high affinity where observed
    pair_01 = np.flatnonzero((tensor.pairs[:, 0] == 0) & (tensor.pairs[:, 1] == 1))[0]
    assert tensor.values[tensor.window_start_s < 180, 0, pair_01].mean() > 0.5


def test_progress_is_reported_per_worm(planted):
    traces, names, dt = planted(n_worms=3)
    seen = []
    build_tensor(traces, names, dt, 20.0, 10.0, progress=lambda f, msg: seen.append(f))
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
