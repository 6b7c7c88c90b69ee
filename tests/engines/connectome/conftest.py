"""Fixtures of the connectome engine tests: the planted generator of connectome_planted.py."""
import pytest

from connectome_planted import planted_worms


@pytest.fixture
def planted():
    return planted_worms


@pytest.fixture(scope="session")
def planted_tensor():
    from engines.connectome.tensor import build_tensor
    traces, names, dt = planted_worms()
    return build_tensor(traces, names, dt, window_s=20.0, step_s=10.0)
