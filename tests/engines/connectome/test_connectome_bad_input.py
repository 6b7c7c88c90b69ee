import numpy as np
import pytest

from engines.connectome.errors import (AllNaNTracesError, NoSharedNeuronsError, TooFewNeuronsError,
                                       TooFewWindowsError)
from engines.connectome.ntf import NTFRunner
from engines.connectome.sweep import run_sweep
from engines.connectome.tensor import build_tensor
from engines.errors import InvalidInputError

NAMES = [f"N{k}" for k in range(6)]


def _trace(rng, n=400, missing=()):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    x[:, list(missing)] = np.nan
    return x


def test_all_nan_recording_is_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(AllNaNTracesError, match="every trace is NaN"):
        build_tensor([_trace(rng), np.full((400, 6), np.nan)], NAMES, 0.5, 20.0, 10.0)


def test_recordings_without_shared_neurons_are_rejected():
    rng = np.random.default_rng(0)
    a, b = _trace(rng, missing=[3, 4, 5]), _trace(rng, missing=[0, 1, 2])
    with pytest.raises(NoSharedNeuronsError, match="share no neuron"):
        build_tensor([a, b], NAMES, 0.5, 20.0, 10.0)


def test_rank_above_windows_or_pairs_is_rejected_before_building():
    rng = np.random.default_rng(0)
    traces = [_trace(rng), _trace(rng)]            # 200 s: 19 windows of 20 s every 10 s
    with pytest.raises(TooFewWindowsError, match="fewer than the rank 25"):
        build_tensor(traces, NAMES, 0.5, 20.0, 10.0, rank=25)
    with pytest.raises(TooFewNeuronsError, match="15 pairs, fewer than the rank 16"):
        build_tensor(traces, NAMES, 0.5, 20.0, 1.0, rank=16)
    with pytest.raises(TooFewWindowsError, match="shorter than one window"):
        build_tensor(traces, NAMES, 0.5, 500.0, 10.0)


def test_factorisation_and_sweep_check_the_rank_and_values():
    values, mask = np.ones((4, 2, 10)), np.ones((4, 2, 10), dtype=bool)
    with pytest.raises(TooFewWindowsError):
        NTFRunner(values, mask, rank=5)
    with pytest.raises(TooFewWindowsError):
        run_sweep(values, mask, ranks=[2, 5], executor="serial")
    with pytest.raises(InvalidInputError, match="non-negative"):
        NTFRunner(-values, mask, rank=2)
    with pytest.raises(InvalidInputError, match="not masked"):
        NTFRunner(np.where(np.arange(10) == 3, np.nan, values), mask, rank=2)
    with pytest.raises(InvalidInputError, match="no observed entry"):
        NTFRunner(values, np.zeros_like(mask), rank=2)
