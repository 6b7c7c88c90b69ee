import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.reservoir.observables import Regime, classify_regime, spectral_radius
from engines.reservoir.params import ReservoirParams
from engines.reservoir.simulator import BatchedReservoir


def _settled(params, balances, steps=300):
    res = BatchedReservoir(params, balances=balances)
    res.step(steps)
    return res.step(200, inputs=np.random.default_rng(0).uniform(-1, 1, (200, 1))).rates


def test_regimes_of_constructed_reservoirs():
    params = ReservoirParams(n=200, in_degree=20)
    rates = _settled(params, [0.25, 1.0, 4.0])
    assert classify_regime(rates[:, :, 0]) is Regime.SATURATED        # excitation-dominated
    assert classify_regime(rates[:, :, 1]) is Regime.ASYNCHRONOUS      # balanced
    assert classify_regime(rates[:, :, 2]) is Regime.PERIOD_2          # strong inhibition, threshold 0
    silent = _settled(params.with_(threshold=0.5), [3.0])
    assert classify_regime(silent[:, :, 0]) is Regime.SILENT           # strong inhibition, threshold > 0


def test_classifier_on_synthetic_series():
    t = np.arange(100)
    alternating = np.where(t % 2 == 0, 0.9, 0.1)[:, None] * np.ones((1, 50))
    assert classify_regime(alternating) is Regime.PERIOD_2
    assert classify_regime(np.full((100, 50), 0.01)) is Regime.SILENT
    assert classify_regime(np.full((100, 50), -0.99), activation="tanh") is Regime.SILENT
    noise = np.random.default_rng(0).uniform(0.2, 0.8, (100, 50))
    assert classify_regime(noise) is Regime.ASYNCHRONOUS
    with pytest.raises(InvalidInputError):
        classify_regime(np.zeros(10))


def test_spectral_radius_of_a_known_matrix():
    assert spectral_radius(np.diag([0.5, -2.0, 1.0])) == pytest.approx(2.0)
