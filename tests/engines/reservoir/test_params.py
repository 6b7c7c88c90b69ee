import math

import pytest

from engines.errors import InvalidInputError
from engines.reservoir.params import AdaptationParams, InvalidParameterError, ReservoirParams


@pytest.mark.parametrize("changes", [
    dict(n=1), dict(n=0), dict(frac_excitatory=1.2), dict(frac_excitatory=-0.1), dict(frac_input=1.5),
    dict(in_degree=0), dict(in_degree=500), dict(gain=0.0), dict(balance=-1.0), dict(leak=0.0),
    dict(gain=math.nan), dict(activation="relu"),
])
def test_invalid_reservoir_parameters_raise_typed_errors(changes):
    with pytest.raises(InvalidParameterError) as info:
        ReservoirParams(**changes)
    assert isinstance(info.value, InvalidInputError) and isinstance(info.value, ValueError)
    assert str(info.value)  # a message for the user


@pytest.mark.parametrize("changes", [
    dict(target_rate=-0.1), dict(target_low=-0.2), dict(target_high=1.5), dict(target_low=0.6, target_high=0.4),
    dict(lr_fast=-1e-3), dict(targets="gaussian"), dict(target_rate=math.nan),
])
def test_invalid_adaptation_parameters_raise_typed_errors(changes):
    with pytest.raises(InvalidParameterError, match=r"\w"):
        AdaptationParams(**changes)


def test_balance_knob_and_schedule():
    assert ReservoirParams(balance=1.5).beta == pytest.approx(-0.5)
    schedule = AdaptationParams(lr_fast=1e-2, lr_slow=1e-3, switch_step=10)
    assert schedule.learning_rate(9) == 1e-2 and schedule.learning_rate(10) == 1e-3
