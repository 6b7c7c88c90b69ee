"""The statistics helper on hand-made series whose autocorrelation, rank and runs are known."""
import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.worms import Recording
from engines.worms.statistics import (TARGETS, autocorrelation_at_lag, fraction_correlated,
                                      lag_nearest, mean_abs_correlation, pca_variance_explained,
                                      reversal_runs, reversal_statistics, shifted_control,
                                      worm_statistics)


def ar1(phi, n_time, n_neurons, seed=0):
    """Independent AR(1) columns: autocorrelation at lag k is phi ** k."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n_time, n_neurons))
    kicks = rng.standard_normal((n_time, n_neurons))
    for t in range(1, n_time):
        x[t] = phi * x[t - 1] + kicks[t]
    return x


def test_autocorrelation_of_ar1_is_phi_to_the_lag():
    x = ar1(0.9, 20_000, 4)
    for lag in (1, 5, 17):
        assert autocorrelation_at_lag(x, lag) == pytest.approx(0.9 ** lag, abs=0.03)


def test_autocorrelation_of_a_sine_follows_the_cosine_of_the_lag():
    t = np.arange(2000)
    x = np.sin(2 * np.pi * t / 40)[:, None] * np.array([1.0, -3.0])  # sign and scale do not matter
    assert autocorrelation_at_lag(x, 20) == pytest.approx(-1.0, abs=1e-3)
    assert autocorrelation_at_lag(x, 40) == pytest.approx(1.0, abs=1e-3)
    assert autocorrelation_at_lag(x, 10) == pytest.approx(0.0, abs=0.02)


def test_lag_nearest_ten_seconds_at_the_standard_step():
    assert lag_nearest(10.0, 0.6) == 17
    assert lag_nearest(10.0, 0.333) == 30


def test_pca_recovers_the_rank_of_a_low_rank_population():
    rng = np.random.default_rng(1)
    latents = rng.standard_normal((3000, 3))
    x = latents @ rng.standard_normal((3, 40))
    explained = pca_variance_explained(x, 4)
    assert explained[2] == pytest.approx(1.0, abs=1e-9)          # three PCs hold everything
    assert explained[1] < 0.99 and np.all(np.diff(explained) >= 0)
    noisy = x + 1e3 * rng.standard_normal(x.shape)               # noise swamps the latents
    assert pca_variance_explained(noisy, 3)[-1] < 3 / 40 + 0.03


def test_pca_of_one_shared_mode_plus_equal_noise():
    rng = np.random.default_rng(2)
    shared = rng.standard_normal((20_000, 1))
    x = shared + rng.standard_normal((20_000, 10))               # each column: half shared
    # correlation matrix 0.5 off the diagonal: PC1 = (1 + 9 * 0.5) / 10
    assert pca_variance_explained(x, 1)[0] == pytest.approx(0.55, abs=0.02)
    assert mean_abs_correlation(x) == pytest.approx(0.5, abs=0.02)
    assert fraction_correlated(x, 0.4) == 1.0 and fraction_correlated(x, 0.6) == 0.0


def test_pairwise_correlations_count_anticorrelation_and_ignore_scale():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(500)
    assert mean_abs_correlation(np.column_stack([a, -2 * a, 5 + a])) == pytest.approx(1.0)
    independent = rng.standard_normal((5000, 30))
    assert mean_abs_correlation(independent) < 0.02
    assert fraction_correlated(independent, 0.5) == 0.0


def test_reversal_runs_rate_and_duration():
    reversal = np.array([0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(reversal_runs(reversal), [[1, 3], [5, 9]])
    rate, duration = reversal_statistics(reversal, dt=0.5)
    assert rate == pytest.approx(2 / (12 * 0.5 / 60))             # 2 runs in 6 s
    assert duration == pytest.approx((2 + 4) / 2 * 0.5)           # runs of k samples last k dt
    # a linearly resampled 0/1 series keeps its runs; runs cut by the edges still count
    assert len(reversal_runs([0.6, 0.4, 0.0, 0.5, 1.0, np.nan])) == 2
    assert np.isnan(reversal_statistics(np.zeros(10), 0.6)[1])


@pytest.mark.parametrize("call", [
    lambda: autocorrelation_at_lag(np.ones(10), 1),                              # 1-D
    lambda: autocorrelation_at_lag(np.random.default_rng(0).random((10, 2)), 9),  # lag too long
    lambda: mean_abs_correlation(np.array([[1.0, np.nan], [2.0, 1.0], [0.0, 3.0]])),
    lambda: mean_abs_correlation(np.random.default_rng(0).random((10, 1))),      # one neuron
    lambda: reversal_statistics(np.zeros((3, 2)), 0.6),
    lambda: reversal_statistics(np.zeros(3), 0.0),
])
def test_bad_input_raises_a_typed_error(call):
    with pytest.raises(InvalidInputError):
        call()


def _recording(traces, dt, reversal=None):
    time = np.arange(traces.shape[0]) * dt
    behaviour = {} if reversal is None else {"reversal_vec": reversal}
    return Recording(name="hand-made", time=time, traces=traces,
                     labels=[None] * traces.shape[1], behaviour=behaviour)


def test_worm_statistics_preprocess_like_the_lab():
    rng = np.random.default_rng(4)
    x = ar1(0.95, 1200, 6, seed=4)
    scaled = x * rng.uniform(1, 100, 6) + rng.uniform(-50, 50, 6)  # raw units do not matter
    with_gap = np.column_stack([scaled, np.r_[np.full(10, np.nan), np.ones(1190)]])
    reversal = np.zeros(1200)
    reversal[100:105] = 1
    stats = worm_statistics(_recording(with_gap, 0.6, reversal))
    assert stats.n_neurons == 6                                   # the column with NaN is dropped
    assert stats.duration_s == pytest.approx(480.0)               # cut to the first 480 s
    assert stats.autocorrelation_10s == pytest.approx(0.95 ** 17, abs=0.12)
    assert stats.reversals_per_min == pytest.approx(1 / 8) and stats.reversal_duration_s == 3.0
    reference = worm_statistics(_recording(x, 0.6, reversal))
    assert stats.autocorrelation_10s == pytest.approx(reference.autocorrelation_10s, abs=1e-5)
    # recorded at 0.3 s, it is resampled to 0.6 s first: 10 s is still 17 samples
    fine = _recording(np.repeat(x, 2, axis=0)[:1199], 0.3)
    assert worm_statistics(fine).autocorrelation_10s == pytest.approx(
        reference.autocorrelation_10s, abs=0.03)
    # a piece cut out of a longer recording is measured from its own first sample
    later = reference.as_dict() | {"name": "later"}
    piece = _recording(x, 0.6, reversal)
    piece = piece.replace(time=piece.time + 1000.0, name="later")
    assert worm_statistics(piece).as_dict() == pytest.approx(later)
    assert set(stats.within_targets()) == set(TARGETS)
    assert not stats.within_targets()["reversals_per_min"]


def test_shifted_control_keeps_chance_and_removes_shared_activity():
    rng = np.random.default_rng(5)
    slow_independent = ar1(0.99, 800, 20, seed=5)
    shared = rng.standard_normal((800, 1)) + 0.3 * rng.standard_normal((800, 20))
    chance = shifted_control(slow_independent, mean_abs_correlation)
    # slow, unrelated traces correlate by chance over 800 samples, and shifting keeps that
    assert chance == pytest.approx(mean_abs_correlation(slow_independent), abs=0.08)
    assert chance > 0.15
    # a white shared signal is destroyed by the shift
    assert mean_abs_correlation(shared) > 0.8 and shifted_control(shared, mean_abs_correlation) < 0.1
