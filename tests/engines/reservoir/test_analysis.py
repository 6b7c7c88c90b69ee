"""Spectra and a trained readout of a reservoir as it is now (engines/reservoir/analysis.py)."""
import numpy as np
import pytest

from engines.reservoir.analysis import linearisation, spectrum, spectrum_of, train_readout
from engines.reservoir.params import ReservoirParams
from engines.reservoir.simulator import Reservoir

SMALL = ReservoirParams(n=100, in_degree=20)


@pytest.mark.parametrize("g", [0.5, 2.0])
def test_spectrum_has_the_outlier_at_one_minus_g_and_the_step(g):
    res = Reservoir(SMALL.with_(balance=g))
    res.step(inputs=np.random.default_rng(0).uniform(-1, 1, (30, 1)))
    result = spectrum(res)
    assert result.weights.shape == result.jacobian.shape == (100,) and result.step == 30
    assert result.outlier.real == pytest.approx(1 - g, abs=0.15)
    assert result.weights_radius >= abs(result.outlier)
    again = spectrum_of(*linearisation(res))
    np.testing.assert_allclose(np.sort_complex(again.weights), np.sort_complex(result.weights))


def test_readouts_leave_the_reservoir_as_it_was():
    res = Reservoir(SMALL, adaptive=True)
    res.step(inputs=np.random.default_rng(1).uniform(-1, 1, (200, 1)))
    before = res.snapshot()
    memory = train_readout(res, "mc", seed=0)
    assert memory.task == "memory capacity" and memory.metric == "MC" and memory.value > 3.0
    assert memory.memory_curve.shape == (100,) and memory.adaptation == "local rule" and memory.balance == 1.0
    narma = train_readout(res, "narma10", seed=0)
    assert narma.metric == "NRMSE" and 0 < narma.value < 1 and narma.prediction.shape == narma.target.shape
    after = res.snapshot()
    assert after.step == before.step and np.array_equal(after.rates, before.rates)
    assert np.array_equal(after.inh_offset, before.inh_offset) and after.adapt_on.all()
