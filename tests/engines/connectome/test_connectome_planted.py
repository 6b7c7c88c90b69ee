"""The planted ground truth (engines/connectome/planted.py), the lag-tolerant kernel affinity and the
temporal profiles' AUCs that the connectome room's experiments are built on."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from tensorly.cp_tensor import CPTensor

from engines.connectome.affinity import compute_affinity
from engines.connectome.components import best_profile_auc, profile_aucs
from engines.connectome.planted import (EPOCHS, MODULES, STAGGERED_EPOCHS, planted_cp, planted_worms,
                                        recovery_score, smooth_noise)
from engines.connectome.tensor import build_tensor
from engines.errors import InvalidInputError


def test_planted_worms_have_the_asked_shape_and_unrecorded_neurons():
    traces, names, dt = planted_worms(n_worms=3, seed=1, missing_per_worm=2)
    assert len(traces) == 3 and names[0] == "N00" and dt == 0.5
    for trace in traces:
        assert trace.shape == (800, 24) and trace.dtype == np.float32
        assert np.isnan(trace).all(axis=0).sum() == 2 and not np.isnan(trace).any(axis=0).sum() > 2


def test_module_members_share_their_drive_only_in_their_epochs():
    traces, _, _ = planted_worms(n_worms=1, seed=2, missing_per_worm=0, coupling=1.5)
    x = traces[0]
    first, second = slice(0, 400), slice(400, 800)       # A and B are on in the first half only
    r_first = np.corrcoef(x[first, 0], x[first, 1])[0, 1]
    r_second = np.corrcoef(x[second, 0], x[second, 1])[0, 1]
    assert r_first > 0.5 and abs(r_second) < 0.3
    assert abs(np.corrcoef(x[first, 0], x[first, 6])[0, 1]) < 0.3     # A and B have their own drives


def test_with_a_lag_the_last_member_hears_the_drive_max_lag_later():
    traces, _, dt = planted_worms(n_worms=1, seed=3, missing_per_worm=0, coupling=3.0, max_lag_s=5.0)
    first, last = traces[0][:400, 0], traces[0][:400, 5]          # module A, in its epoch
    lags = np.arange(-20, 21)
    r = [np.corrcoef(first[20:380], last[20 + lag:380 + lag])[0, 1] for lag in lags]
    assert lags[int(np.argmax(r))] * dt == pytest.approx(5.0, abs=dt)


def test_smooth_noise_has_unit_variance():
    noise = smooth_noise(np.random.default_rng(0), 500, 3)
    assert noise.shape == (500, 3) and np.allclose(noise.std(axis=0), 1.0)


def test_the_planted_truth_scores_one_against_itself_and_loses_a_missing_component():
    traces, names, dt = planted_worms(n_worms=2, seed=0, epochs=STAGGERED_EPOCHS, missing_per_worm=0)
    tensor = build_tensor(traces, names, dt, window_s=20.0, step_s=10.0)
    truth = planted_cp(tensor, MODULES, STAGGERED_EPOCHS)
    assert len(truth.weights) == len(MODULES) + 1
    temporal, worms, pairs = truth.factors
    assert temporal.shape == (tensor.shape[0], 4) and worms.shape == (2, 4) and pairs.shape == (tensor.shape[2], 4)
    assert pairs[:, 1].sum() == 15                      # the 6 members of A make 15 pairs
    assert recovery_score(truth, truth) == pytest.approx(1.0)
    three = CPTensor((truth.weights[:3], [f[:, :3] for f in truth.factors]))
    assert recovery_score(truth, three) == pytest.approx(0.75)     # one planted component has no partner


def test_staggered_epochs_leave_the_floor_independent_of_the_modules():
    traces, names, dt = planted_worms(n_worms=1, seed=0)
    tensor = build_tensor(traces, names, dt, window_s=20.0, step_s=10.0)
    tiled = planted_cp(tensor, MODULES, EPOCHS).factors[0]
    staggered = planted_cp(tensor, MODULES, STAGGERED_EPOCHS).factors[0]
    assert np.linalg.matrix_rank(tiled, tol=1e-6) < 4 <= np.linalg.matrix_rank(staggered, tol=1e-6)


def _lagged_pair(shift, length=120, seed=0):
    rng = np.random.default_rng(seed)
    drive = smooth_noise(rng, length + shift, 1)[:, 0]
    others = smooth_noise(rng, length, 8)
    pair = np.stack([drive[shift:], drive[:length]], 1)            # the second follows ``shift`` later
    return np.concatenate([pair, others], 1)[None]


def test_the_lag_tolerant_kernel_pairs_neurons_that_a_zero_lag_kernel_and_correlation_miss():
    windows = _lagged_pair(shift=8)
    lagged = compute_affinity(windows, "kernel", max_lag=10)[0]
    plain = compute_affinity(windows, "kernel")[0]
    correlation = compute_affinity(windows, "correlation")[0]
    assert lagged[0, 1] > 0.9 and lagged[0, 1] > np.sort(lagged[0, 2:])[-1]
    assert plain[0, 1] < 0.5 and correlation[0, 1] < 0.5


def test_a_zero_lag_tolerance_is_the_plain_kernel_and_a_too_long_lag_is_refused():
    windows = _lagged_pair(shift=3)
    np.testing.assert_allclose(compute_affinity(windows, "kernel", max_lag=0), compute_affinity(windows, "kernel"))
    with pytest.raises(InvalidInputError, match="lag tolerance"):
        compute_affinity(windows, "kernel", max_lag=70)


def test_profile_aucs_match_sklearn_for_one_and_many_labellings():
    rng = np.random.default_rng(0)
    profiles = rng.random((30, 4))
    profiles[:, 2] = np.round(profiles[:, 2], 1)                   # ties count half
    labels = rng.random((5, 30)) < 0.4
    got = profile_aucs(profiles, labels)
    want = [[roc_auc_score(row, profiles[:, k]) for k in range(4)] for row in labels]
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(profile_aucs(profiles, labels[0]), want[0])
    with pytest.raises(InvalidInputError):
        profile_aucs(profiles, np.zeros(30, dtype=bool))


def test_the_best_profile_beats_the_shuffled_null_only_when_it_follows_the_labels():
    rng = np.random.default_rng(1)
    labels = np.arange(40) % 8 < 3
    noise = rng.random((40, 5))
    follows = noise.copy()
    follows[:, 3] = labels + 0.3 * rng.random(40)
    best, null = best_profile_auc(follows, labels, n_shuffles=200, seed=0)
    assert best == pytest.approx(1.0) and 0.5 < null < 0.95
    best_noise, null_noise = best_profile_auc(noise, labels, n_shuffles=200, seed=0)
    assert best_noise < null_noise + 0.1


def test_build_tensor_turns_the_lag_tolerance_into_each_worms_samples():
    traces, names, _ = planted_worms(n_worms=2, seed=4, max_lag_s=6.0)
    coarse = [t[::2] for t in traces]                     # the same worms sampled every 1 s
    common = dict(window_s=30.0, step_s=15.0, affinity="kernel")
    for worms, dt, samples in ((traces, 0.5, 12), (coarse, 1.0, 6)):
        in_seconds = build_tensor(worms, names, dt, kernel_lag_s=6.0, **common)
        in_samples = build_tensor(worms, names, dt, max_lag=samples, **common)
        np.testing.assert_array_equal(in_seconds.values, in_samples.values)
        assert in_seconds.options["kernel_lag_s"] == 6.0
    fine = build_tensor(traces, names, 0.5, kernel_lag_s=6.0, **common)
    mixed = build_tensor([traces[0], coarse[1]], names, [0.5, 1.0], kernel_lag_s=6.0, **common)
    np.testing.assert_allclose(fine.values[:, 0], mixed.values[:, 0])       # worm 0 keeps its 12 samples


@pytest.mark.parametrize("options, message", [
    (dict(affinity="correlation", kernel_lag_s=3.0), "kernel affinity only"),
    (dict(affinity="kernel", kernel_lag_s=10.0), "too short"),
    (dict(affinity="kernel", kernel_lag_s=-1.0), "0 s or more"),
])
def test_a_lag_tolerance_the_tensor_cannot_use_is_refused_before_any_work(options, message):
    traces, names, dt = planted_worms(n_worms=1, seed=0)
    with pytest.raises(InvalidInputError, match=message):
        build_tensor(traces, names, dt, window_s=20.0, step_s=10.0, progress=pytest.fail, **options)
