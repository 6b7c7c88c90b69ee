"""engines/worms/analysis.py on arrays whose answers are known."""
import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.worms.analysis import (auc, held_out_separation, partner_correlation, partner_mask, pca_scores,
                                    smoothed_derivative, velocity_correlations)


def test_pca_share_is_one_for_copies_of_one_signal_and_small_for_independent_noise():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(500)
    copies = signal[:, None] * rng.uniform(0.5, 2, 20) + 1e-6 * rng.standard_normal((500, 20))
    _, share = pca_scores(copies, 3)
    assert share[0] == pytest.approx(1.0, abs=1e-6)
    _, noise = pca_scores(rng.standard_normal((2000, 50)), 3)
    assert noise[-1] < 0.1 and np.all(np.diff(noise) > 0)


def test_the_smoothed_derivative_of_a_ramp_is_its_slope_away_from_the_edges():
    t = np.arange(100) * 0.5
    ramp = np.stack([2 * t, -t], axis=1)
    d = smoothed_derivative(ramp, 0.5, window_s=1.5)
    assert np.allclose(d[5:-5], [2.0, -1.0])
    assert np.all(np.abs(d) <= [2.0 + 1e-9, 1.0 + 1e-9])     # no plunge at the edges (no zero padding)


def test_held_out_separation_is_one_for_separated_states_and_near_chance_for_noise():
    rng = np.random.default_rng(1)
    labels = np.tile(np.repeat([False, True], 10), 20)
    apart = labels[:, None] * 5.0 + rng.standard_normal((len(labels), 3))
    assert held_out_separation(apart, labels) == 1.0
    assert abs(held_out_separation(rng.standard_normal((len(labels), 3)), labels) - 0.5) < 0.1
    assert np.isnan(held_out_separation(apart, np.r_[np.zeros(200, bool), np.ones(200, bool)]))


def test_velocity_correlations_and_auc():
    rng = np.random.default_rng(2)
    v = rng.standard_normal(400)
    traces = np.stack([v, -v, rng.standard_normal(400)], axis=1)
    r = velocity_correlations(traces, v)
    assert r[:2] == pytest.approx([1.0, -1.0]) and abs(r[2]) < 0.2
    assert auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auc([1, 1, 1, 1], [True, False, True, False]) == 0.5
    with pytest.raises(InvalidInputError):
        velocity_correlations(traces, v[:10])


def test_partner_mask_is_symmetric_over_either_direction_and_gap_junctions():
    axis = ["A", "B", "C", "D"]
    chemical, gap = np.zeros((4, 4)), np.zeros((4, 4))
    chemical[0, 1] = 3           # A -> B
    gap[2, 3] = gap[3, 2] = 1    # C - D
    mask = partner_mask(["B", "A", "C", "D"], chemical, gap, axis)
    assert mask[0, 1] and mask[1, 0] and mask[2, 3] and not mask[0, 2] and not mask.diagonal().any()
    with pytest.raises(InvalidInputError):
        partner_mask(["X"], chemical, gap, axis)


def test_partner_correlation_finds_partners_that_share_a_signal_and_not_random_labels():
    rng = np.random.default_rng(3)
    shared = rng.standard_normal(600)
    traces = rng.standard_normal((600, 12))
    traces[:, :4] += shared[:, None]                       # neurons 0-3 move together
    partners = np.zeros((12, 12), bool)
    partners[:4, :4] = True
    np.fill_diagonal(partners, False)
    linked = partner_correlation(traces, partners, 300, 0)
    assert linked["difference"] > linked["null_95"] and linked["auc"] == 1.0
    random = rng.random((12, 12)) < 0.3
    random = random | random.T
    np.fill_diagonal(random, False)
    unrelated = partner_correlation(rng.standard_normal((600, 12)), random, 300, 0)
    assert abs(unrelated["auc"] - 0.5) < 0.25
