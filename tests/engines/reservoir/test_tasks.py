import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.reservoir.params import ReservoirParams
from engines.reservoir.readout import fit_ridge, nrmse
from engines.reservoir.simulator import Reservoir
from engines.reservoir.tasks import (MackeyGlass, MemoryCapacity, Narma10, Split, evaluate,
                                     mackey_glass_series, narma10_series)
from engines.reservoir.topology import from_signed


def test_narma10_matches_a_hand_recursion():
    u = np.random.default_rng(0).uniform(0, 0.5, 60)
    y = narma10_series(u)
    hand = [0.0] * 10
    for t in range(9, 60):
        s = sum(hand[t - i] for i in range(10))
        hand.append(0.3 * hand[t] + 0.05 * hand[t] * s + 1.5 * u[t - 9] * u[t] + 0.1)
    np.testing.assert_allclose(y, hand, rtol=1e-12)
    assert y[10] == pytest.approx(1.5 * u[0] * u[9] + 0.1)


def test_nrmse_is_rmse_over_std():
    target = np.array([1.0, 2.0, 3.0, 4.0])
    assert nrmse(target, target + 0.5) == pytest.approx(0.5 / np.std(target))
    assert nrmse(target, np.full(4, target.mean())) == pytest.approx(1.0)


def test_ridge_chooses_stronger_regularisation_for_noisy_targets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 40))
    w = rng.normal(size=40)
    clean = fit_ridge(x[:200], x[:200] @ w, x[200:], x[200:] @ w)
    noisy_y = x @ w + rng.normal(scale=20, size=300)
    noisy = fit_ridge(x[:200], noisy_y[:200], x[200:], noisy_y[200:])
    assert noisy.alphas[0] > clean.alphas[0]
    np.testing.assert_allclose(clean.predict(x[200:])[:, 0], x[200:] @ w, atol=1e-3)


def test_memory_capacity_of_a_linear_orthogonal_reservoir_approaches_n():
    rng = np.random.default_rng(0)
    n = 20
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    topo = from_signed(0.95 * q, rng.uniform(-1, 1, (n, 1)))
    res = Reservoir(ReservoirParams(n=n, in_degree=1, activation="linear", gain=1.0), topology=topo)
    score = evaluate(res, MemoryCapacity(k_max=60, split=Split(100, 3000, 500, 1000)))
    assert 17.0 < score.value <= 20.5
    assert score.curve[0] > 0.8 and score.curve[-1] < 0.2      # MC_k decays with the lag


def test_memory_capacity_of_unrelated_states_is_near_zero():
    task = MemoryCapacity(k_max=20, split=Split(50, 1000, 300, 1000))
    states = np.random.default_rng(5).normal(size=(task.split.total, 30))
    assert task.score(states).value < 0.5


def test_reservoir_learns_narma10_and_mackey_glass_past_a_bar():
    res = Reservoir(ReservoirParams(n=200, in_degree=20))
    split = Split(200, 1500, 300, 500)
    assert evaluate(res, Narma10(split=split)).value < 0.6
    assert evaluate(res, MackeyGlass(split=split)).value < 0.02
    free = MackeyGlass(split=Split(100, 1000, 300, 600), horizon=20, resync=100).free_run(res)
    assert free.value < 0.5


def test_mackey_glass_series_is_the_chaotic_attractor():
    x = mackey_glass_series(2000)
    assert abs(x.mean()) < 1e-9 and x.std() == pytest.approx(1.0)
    assert np.corrcoef(x[:-17, 0], x[17:, 0])[0, 1] < 0.5     # decorrelates over one delay


def test_split_and_task_validation():
    with pytest.raises(InvalidInputError):
        Split(train=1)
    with pytest.raises(InvalidInputError, match="warm-up"):
        MemoryCapacity(k_max=100, split=Split(warmup=50)).inputs()
