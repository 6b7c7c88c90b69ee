"""A running reservoir's live settings: balance, gain and adaptation mode through engine methods."""
import numpy as np
import pytest

from engines.reservoir.adaptation import ADAPTATION_MODES
from engines.reservoir.params import InvalidParameterError, ReservoirParams
from engines.reservoir.simulator import BatchedReservoir, Reservoir

SMALL = ReservoirParams(n=100, in_degree=20)


def _inputs(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1))


def test_set_balance_keeps_activity_and_acts_on_the_next_steps():
    res = Reservoir(SMALL)
    res.step(inputs=_inputs(50))
    rates, steps = res.rates.copy(), res.step_count
    res.set_balance(2.0)
    assert res.step_count == steps and np.array_equal(res.rates, rates)
    assert res.params.balance == 2.0 and np.allclose(res.inh_scale, 2.0) and list(res.balances) == [2.0]
    # the next steps are those of a reservoir built at g = 2 from the same state
    other = Reservoir(SMALL.with_(balance=2.0))
    other.restore(res.snapshot())
    np.testing.assert_array_equal(res.run(_inputs(20, 1)), other.run(_inputs(20, 1)))
    with pytest.raises(InvalidParameterError):
        res.set_balance(-1.0)


def test_set_gain_changes_the_slope():
    res = Reservoir(SMALL)
    res.set_gain(3.0)
    assert res.params.gain == 3.0
    other = Reservoir(SMALL.with_(gain=3.0))
    np.testing.assert_array_equal(res.run(_inputs(30)), other.run(_inputs(30)))
    with pytest.raises(InvalidParameterError):
        res.set_gain(0.0)


def test_adaptation_modes():
    res = Reservoir(SMALL.with_(balance=0.4))
    assert res.adaptation_mode == "off"
    res.set_adaptation_mode("local rule")
    assert res.adaptation_mode == "local rule" and res.adapt_on.all()
    res.step(inputs=_inputs(300))
    learned = res.inh_offset.copy()
    assert np.abs(learned).sum() > 0
    res.set_balance(0.6)                           # the rule learns on from the new g
    assert np.array_equal(res.inh_offset, learned) and np.allclose(res.inh_scale, 0.6)
    res.set_adaptation_mode("one-step")
    assert res.adaptation_mode == "one-step" and not res.adapt_on.any()
    designed = res.inh_scale.copy()
    assert designed.std() > 0.01 and np.all(res.inh_offset == 0)
    res.set_balance(1.5)                           # the design stands (g only fills rows without inhibition)
    assert np.allclose(res.inh_scale[res.topology.inh.getnnz(axis=1) > 0], designed[res.topology.inh.getnnz(axis=1) > 0])
    res.set_gain(5.0)                              # the design follows the gain
    assert not np.allclose(res.inh_scale, designed)
    restored = Reservoir(SMALL)
    restored.restore(res.snapshot())
    assert restored.adaptation_mode == "one-step"
    res.set_adaptation_mode("off")
    assert res.adaptation_mode == "off" and np.allclose(res.inh_scale, 1.5) and np.all(res.inh_offset == 0)
    with pytest.raises(InvalidParameterError, match="adaptation mode"):
        res.set_adaptation_mode("sometimes")
    assert set(ADAPTATION_MODES) == {"off", "local rule", "one-step"}


def test_a_batch_takes_the_settings_for_every_reservoir():
    batch = BatchedReservoir(SMALL, balances=[0.5, 1.0, 2.0])
    batch.set_balance(1.2)
    assert np.allclose(batch.inh_scale, 1.2) and list(batch.balances) == [1.2] * 3
    batch.set_adaptation_mode("local rule")
    assert batch.adapt_on.all()
