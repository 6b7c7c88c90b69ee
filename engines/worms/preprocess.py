"""Preprocessing as composable steps: each step maps a Recording to a new Recording.

    pipeline = Pipeline([Resample(dt=0.333), CausalMovingAverage(15), ZScore()])
    clean = pipeline(recording)

Steps never change their input. NaN samples stay NaN (smoothers average over the finite
neighbours only), so gaps in a recording remain visible after preprocessing.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engines.errors import InvalidInputError
from engines.worms.model import Recording
from engines.worms.neurons import BILATERAL_CLASS


def interpolate_linear(time: np.ndarray, values: np.ndarray, new_time: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 0 for all columns at once; NaN spreads to the new
    samples that lie next to a NaN sample, as a gap should."""
    right = np.clip(np.searchsorted(time, new_time, side="right"), 1, time.size - 1)
    left = right - 1
    w = (new_time - time[left]) / (time[right] - time[left])
    w = np.clip(w, 0.0, 1.0).reshape((-1,) + (1,) * (values.ndim - 1))
    with np.errstate(invalid="ignore"):
        blend = (1 - w) * values[left] + w * values[right]
    # On an original sample take it exactly, so a NaN neighbour does not spoil it.
    return np.where(w == 0, values[left], np.where(w == 1, values[right], blend))


@dataclass(frozen=True)
class Resample:
    """Linear resampling of traces and behaviour onto 0, dt, 2 dt, ... <= last time."""
    dt: float

    def __call__(self, rec: Recording) -> Recording:
        if not self.dt > 0:
            raise InvalidInputError(f"resampling step dt must be positive, got {self.dt}")
        if rec.n_time < 2:
            raise InvalidInputError(f"{rec.name}: cannot resample a recording of {rec.n_time} sample")
        new_time = np.arange(0.0, rec.time[-1] + 1e-9, self.dt)
        traces = interpolate_linear(rec.time, rec.traces.astype(np.float64), new_time)
        behaviour = {k: interpolate_linear(rec.time, np.asarray(v, float), new_time)
                     for k, v in rec.behaviour.items()}
        return rec.replace(time=new_time, traces=traces.astype(np.float32), behaviour=behaviour)


def _nan_aware(smoother, x: np.ndarray) -> np.ndarray:
    """Normalised convolution: smooth values and weights separately so NaNs count as absent."""
    finite = np.isfinite(x)
    num = smoother(np.where(finite, x, 0.0))
    den = smoother(finite.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~finite] = np.nan
    return out


@dataclass(frozen=True)
class CausalMovingAverage:
    """y[t] = mean of x[t-window+1 .. t] (fewer samples at the start); uses no future samples."""
    window: int = 15

    def _smooth(self, x: np.ndarray) -> np.ndarray:
        c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
        t = np.arange(1, x.shape[0] + 1)
        start = np.maximum(t - self.window, 0)
        return c[t] - c[start]

    def __call__(self, rec: Recording) -> Recording:
        if self.window < 1:
            raise InvalidInputError(f"moving-average window must be >= 1 sample, got {self.window}")
        out = _nan_aware(self._smooth, rec.traces.astype(np.float64))
        return rec.replace(traces=out.astype(np.float32))


@dataclass(frozen=True)
class GaussianSmooth:
    """Gaussian smoothing with standard deviation ``sigma_s`` seconds (non-causal)."""
    sigma_s: float = 1.0

    def __call__(self, rec: Recording) -> Recording:
        sigma = self.sigma_s / rec.dt
        smoother = lambda x: gaussian_filter1d(x, sigma, axis=0, mode="nearest")
        out = _nan_aware(smoother, rec.traces.astype(np.float64))
        return rec.replace(traces=out.astype(np.float32))


@dataclass(frozen=True)
class Derivative:
    """Time derivative (per second) by central differences on the recording's own time axis."""

    def __call__(self, rec: Recording) -> Recording:
        out = np.gradient(rec.traces.astype(np.float64), rec.time, axis=0)
        return rec.replace(traces=out.astype(np.float32))


@dataclass(frozen=True)
class ZScore:
    """Per neuron: (x - mean) / std over the finite samples; flat traces become 0."""

    def __call__(self, rec: Recording) -> Recording:
        x = rec.traces.astype(np.float64)
        mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
        std[~(std > 0)] = 1.0
        return rec.replace(traces=((x - mean) / std).astype(np.float32))


@dataclass(frozen=True)
class DeltaFOverF:
    """(F - F0) / F0 with F0 the ``percentile`` of each trace: needs raw, positive fluorescence."""
    percentile: float = 20.0

    def __call__(self, rec: Recording) -> Recording:
        x = rec.traces.astype(np.float64)
        f0 = np.nanpercentile(x, self.percentile, axis=0)
        bad = [rec.labels[i] or f"column {i}" for i in np.flatnonzero(~(f0 > 0))]
        if bad:
            raise InvalidInputError(f"{rec.name}: dF/F needs positive raw fluorescence; baseline "
                                    f"<= 0 for {', '.join(bad[:5])} (traces already normalised?)")
        return rec.replace(traces=((x - f0) / f0).astype(np.float32))


@dataclass(frozen=True)
class BilateralMerge:
    """Average left/right partners into one class trace (AVAL + AVAR -> AVA).

    Unlabelled columns are kept as they are; the recording's axis becomes CANONICAL_CLASSES.
    """

    def __call__(self, rec: Recording) -> Recording:
        if rec.provenance.get("neuron_axis") == "classes":
            return rec
        groups: dict[str, list[int]] = {}
        for col, name in enumerate(rec.labels):
            if name is not None:
                groups.setdefault(BILATERAL_CLASS[name], []).append(col)
        unlabelled = [c for c, n in enumerate(rec.labels) if n is None]
        classes = list(groups)
        with warnings.catch_warnings():  # an all-NaN sample of both sides stays NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            merged = [np.nanmean(rec.traces[:, cols], axis=1) for cols in groups.values()]
        columns = merged + [rec.traces[:, c] for c in unlabelled]
        traces = np.stack(columns, axis=1) if columns else rec.traces[:, :0]
        provenance = dict(rec.provenance, neuron_axis="classes")
        return rec.replace(traces=traces, labels=classes + [None] * len(unlabelled),
                           provenance=provenance)


@dataclass(frozen=True)
class Pipeline:
    """Steps applied in order; the record of what was done goes into provenance['steps']."""
    steps: tuple = ()

    def __init__(self, steps=()):
        object.__setattr__(self, "steps", tuple(steps))

    def __call__(self, rec: Recording) -> Recording:
        for step in self.steps:
            rec = step(rec)
        done = list(rec.provenance.get("steps", [])) + [repr(s) for s in self.steps]
        return rec.replace(provenance=dict(rec.provenance, steps=done))

    def apply(self, collection):
        from engines.worms.model import Collection
        return Collection(name=collection.name, recordings=[self(r) for r in collection])
