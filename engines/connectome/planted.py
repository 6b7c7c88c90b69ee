"""Planted modules: worms whose neurons co-fluctuate in known groups at known times, and the truth
a factorisation of their affinity tensor should recover.

Each neuron carries its own smooth noise (unit variance). A module's members also share one
smooth drive, scaled by ``coupling`` and switched on only during the module's epochs; with
``max_lag_s`` > 0 the members hear that drive at lags spread evenly from 0 to ``max_lag_s``
(first member 0, last member ``max_lag_s``): they co-activate, but not at the same moment. A
few neurons per worm are left unrecorded (NaN columns), as in real recordings.

    traces, names, dt = planted_worms(n_worms=4, seed=0)                  # the tests' default
    truth = planted_cp(tensor, MODULES, EPOCHS)           # on an AffinityTensor of those traces
    score = recovery_score(truth, ntf_result.cp_tensor)   # 1: every planted component found

``planted_cp`` is the tensor's planted structure as a CP model: one component per module (its
epochs' share of each window x every worm x the module's own pairs) plus the affinity's noise
floor (every window x every worm x every pair), since an affinity of unrelated traces is not 0
(the rectified correlation of two independent smooth traces is about 0.1-0.2 on average). So the
planted rank is the number of modules plus one.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from tensorly.cp_tensor import CPTensor

from engines.connectome.components import epoch_coverage

# The tests' default: two modules in the first half, one in the second
MODULES = {"A": range(0, 6), "B": range(6, 12), "C": range(12, 18)}
EPOCHS = {"A": [(0, 200)], "B": [(0, 200)], "C": [(200, 400)]}
N_NEURONS, DURATION_S, DT = 24, 400.0, 0.5
# Epochs for recovery experiments: in EPOCHS the modules' epochs tile the recording (A and B on in
# the first half, C in the second), so the noise floor's constant temporal profile is the sum of
# A's and C's and a factorisation may fold the floor into them: the planted CP model is then not
# the only one that fits. Here the epochs overlap only partly and leave stretches where no module
# is on, which makes the floor and every module's profile linearly independent.
STAGGERED_EPOCHS = {"A": [(40, 120), (240, 320)], "B": [(100, 200)], "C": [(280, 380)]}


def smooth_noise(rng: np.random.Generator, n_samples: int, n_series: int, width: int = 4) -> np.ndarray:
    """Gaussian-smoothed white noise (``width`` samples), unit variance per series."""
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    raw = rng.standard_normal((n_samples + len(kernel) - 1, n_series))
    out = np.stack([np.convolve(raw[:, k], kernel, mode="valid") for k in range(n_series)], 1)
    return out / out.std(axis=0)


def _switch(time: np.ndarray, epochs: Sequence[tuple[float, float]]) -> np.ndarray:
    on = np.zeros(len(time))
    for start, end in epochs:
        on[(time >= start) & (time < end)] = 1.0
    return on


def planted_worms(n_worms: int = 4, seed: int = 0, missing_per_worm: int = 2, coupling: float = 1.5,
                  modules: Mapping[str, Sequence[int]] = MODULES,
                  epochs: Mapping[str, Sequence[tuple[float, float]]] = EPOCHS,
                  n_neurons: int = N_NEURONS, duration_s: float = DURATION_S, dt: float = DT,
                  max_lag_s: float = 0.0) -> tuple[list[np.ndarray], list[str], float]:
    """(traces, neuron names, dt): one (T, n_neurons) float32 array per worm, NaN columns for the
    ``missing_per_worm`` neurons that worm did not record."""
    rng = np.random.default_rng(seed)
    n_samples = int(duration_s / dt)
    time = np.arange(n_samples) * dt
    max_lag = int(round(max_lag_s / dt))
    traces = []
    for _ in range(n_worms):
        x = smooth_noise(rng, n_samples, n_neurons)
        for name, members in modules.items():
            members = list(members)
            drive = smooth_noise(rng, n_samples + max_lag, 1)[:, 0]
            lags = np.round(np.linspace(0, max_lag, len(members))).astype(int)
            heard = np.stack([drive[max_lag - lag: max_lag - lag + n_samples] for lag in lags], 1)
            x[:, members] += coupling * _switch(time, epochs[name])[:, None] * heard
        missing = rng.choice(n_neurons, size=missing_per_worm, replace=False)
        x[:, missing] = np.nan
        traces.append(x.astype(np.float32))
    return traces, [f"N{k:02d}" for k in range(n_neurons)], dt


def module_labels(modules: Mapping[str, Sequence[int]] = MODULES, n_neurons: int = N_NEURONS) -> np.ndarray:
    """Module index of every neuron, -1 for neurons in none."""
    labels = np.full(n_neurons, -1)
    for k, members in enumerate(modules.values()):
        labels[list(members)] = k
    return labels


def module_pairs(tensor, members: Sequence[str]) -> np.ndarray:
    """True for the tensor's pairs whose two neurons are both in ``members`` (names)."""
    inside = np.isin(np.asarray(tensor.neurons), list(members))
    return inside[tensor.pairs[:, 0]] & inside[tensor.pairs[:, 1]]


def planted_cp(tensor, modules: Mapping[str, Sequence[int]] = MODULES,
               epochs: Mapping[str, Sequence[tuple[float, float]]] = EPOCHS) -> CPTensor:
    """The planted structure of ``tensor`` (an AffinityTensor of planted worms) as a CP model:
    the noise floor first, then one component per module (unit weights; compare shapes only)."""
    import pandas as pd
    n_windows, n_worms, n_pairs = tensor.shape
    table = pd.DataFrame([(start, end, name) for name, spans in epochs.items() for start, end in spans],
                         columns=["start_s", "end_s", "label"])
    coverage = epoch_coverage(tensor.window_start_s, tensor.window_s, table)
    temporal, pairs = [np.ones(n_windows)], [np.ones(n_pairs)]
    for name, members in modules.items():
        temporal.append(coverage[name].to_numpy())
        pairs.append(module_pairs(tensor, [f"N{k:02d}" for k in members]).astype(float))
    rank = len(temporal)
    return CPTensor((np.ones(rank), [np.stack(temporal, 1), np.ones((n_worms, rank)), np.stack(pairs, 1)]))


def recovery_score(truth: CPTensor, fitted: CPTensor) -> float:
    """Factor match score of ``fitted`` against the planted ``truth``: each planted component is
    paired with at most one fitted component (the assignment that maximises the sum of their
    congruences, the product over modes of the factors' cosines; tlviz, weights not compared), and
    the score is the mean over the PLANTED components, a planted component left without a partner
    (fewer fitted components than planted) counting 0. Extra fitted components are not penalised
    as such; a planted component they split shares its congruence between them and scores less."""
    from tlviz.factor_tools import factor_match_score
    rank_truth, rank_fit = len(truth.weights), len(fitted.weights)
    score = factor_match_score(truth, fitted, consider_weights=False, allow_smaller_rank=True,
                               return_permutation=True)[0]
    return float(score) * min(rank_truth, rank_fit) / rank_truth
