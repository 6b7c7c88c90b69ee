"""Preprocessing steps against values worked out by hand."""
import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.worms import (BilateralMerge, CausalMovingAverage, DeltaFOverF, Derivative,
                           GaussianSmooth, Pipeline, Recording, Resample, ZScore)
from engines.worms.neurons import CLASS_INDEX


def rec(traces, time=None, labels=None, **kw):
    traces = np.asarray(traces, dtype=float)
    if traces.ndim == 1:
        traces = traces[:, None]
    time = np.arange(traces.shape[0], dtype=float) if time is None else time
    return Recording(name="r", time=time, traces=traces,
                     labels=labels or [None] * traces.shape[1], **kw)


def test_resample_linear():
    r = rec([0.0, 10.0, 20.0], time=np.array([0.0, 1.0, 2.0]),
            behaviour={"velocity": np.array([0.0, 1.0, 0.0])})
    out = Resample(dt=0.5)(r)
    np.testing.assert_allclose(out.time, [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(out.traces[:, 0], [0, 5, 10, 15, 20])
    np.testing.assert_allclose(out.behaviour["velocity"], [0, 0.5, 1, 0.5, 0])
    assert r.traces.shape == (3, 1)  # the input is untouched


def test_resample_keeps_gaps_visible():
    out = Resample(dt=0.5)(rec([0.0, np.nan, 2.0, 3.0]))
    # samples next to the NaN at t=1 are NaN, the rest are interpolated
    np.testing.assert_allclose(out.traces[:, 0], [0, np.nan, np.nan, np.nan, 2, 2.5, 3])


def test_causal_moving_average():
    out = CausalMovingAverage(window=3)(rec([3.0, 6.0, 9.0, 0.0, 3.0]))
    # [3], [3,6], [3,6,9], [6,9,0], [9,0,3]
    np.testing.assert_allclose(out.traces[:, 0], [3, 4.5, 6, 5, 4])


def test_causal_moving_average_uses_no_future_and_skips_nan():
    out = CausalMovingAverage(window=2)(rec([2.0, np.nan, 4.0, 100.0]))
    np.testing.assert_allclose(out.traces[:, 0], [2, np.nan, 4, 52])


def test_gaussian_smooth_preserves_constant_and_mean_of_impulse():
    x = np.zeros(41)
    x[20] = 1.0
    out = GaussianSmooth(sigma_s=2.0)(rec(np.c_[x, np.full(41, 3.0)]))
    assert out.traces[:, 0].sum() == pytest.approx(1.0, abs=1e-5)
    assert out.traces[20, 0] == pytest.approx(1 / np.sqrt(2 * np.pi * 4), rel=1e-3)
    np.testing.assert_allclose(out.traces[:, 1], 3.0, rtol=1e-6)


def test_derivative_of_a_ramp():
    out = Derivative()(rec([0.0, 2.0, 4.0, 6.0], time=np.array([0.0, 0.5, 1.0, 1.5])))
    np.testing.assert_allclose(out.traces[:, 0], 4.0)


def test_zscore():
    out = ZScore()(rec(np.c_[[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(out.traces[:, 0], [-np.sqrt(1.5), 0, np.sqrt(1.5)], rtol=1e-6)
    np.testing.assert_allclose(out.traces[:, 1], 0.0)


def test_dff():
    out = DeltaFOverF(percentile=0)(rec([2.0, 3.0, 4.0]))
    np.testing.assert_allclose(out.traces[:, 0], [0, 0.5, 1.0])
    with pytest.raises(InvalidInputError, match="baseline"):
        DeltaFOverF()(rec([-1.0, 0.0, 1.0]))


def test_bilateral_merge():
    r = rec(np.c_[[1.0, 3.0], [3.0, np.nan], [7.0, 7.0], [9.0, 9.0]],
            labels=["AVAL", "AVAR", None, "AVL"])
    out = BilateralMerge()(r)
    assert out.labels == ["AVA", "AVL", None]
    np.testing.assert_allclose(out.traces[:, 0], [2.0, 3.0])
    aligned, mask = out.aligned()
    assert aligned.shape[1] == len(CLASS_INDEX) and mask.sum() == 2
    np.testing.assert_allclose(aligned[:, CLASS_INDEX["AVA"]], [2.0, 3.0])


def test_pipeline_records_its_steps_and_composes():
    r = rec([0.0, 1.0, 2.0, 3.0, 4.0])
    steps = [Resample(dt=1.0), CausalMovingAverage(window=2), ZScore()]
    out = Pipeline(steps)(r)
    by_hand = ZScore()(CausalMovingAverage(2)(Resample(1.0)(r)))
    np.testing.assert_allclose(out.traces, by_hand.traces)
    assert out.provenance["steps"] == [repr(s) for s in steps]
