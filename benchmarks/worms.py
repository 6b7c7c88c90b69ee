"""Worm activity data layer: loader vs direct h5py, opening time, heatmap zoom/pan, simulation,
and the simulated worms' statistics against real recordings.

    python -m benchmarks.worms [--quick] [--real PATH ...] [--seeds N] [--json PATH]

Rows:
- each shared Flavell recording (../shared/data/flavell2023, when present) read by the lab's
  loader beside the same datasets read with h5py directly; 'met' says the values match exactly
  (traces as float32, which the model stores; time stamps shifted to 0; behaviour float64);
- opening a 150-neuron x 1,600-sample Flavell-layout recording written here (target < 1 s);
- datashader aggregation of a 300 x 100,000 heatmap to 800 x 300 pixels for a full view, a
  zoom and a pan (target < 0.5 s each), beside a NumPy block-mean of the same window;
- the embedded simulation, 20 worms x 300 neurons x 1,600 samples, and the rooms' defaults
  (worm room: 6 worms x 960 s; connectome room: 4 worms x 360 s);
- a second table (benchmarks/worms_statistics.py): autocorrelation, PCA, correlations and
  reversal statistics of simulated worms (several seeds) against the fixed ranges of real
  recordings, beside the shared Flavell recordings and any ``--real`` file or folder.
One thread (OMP/MKL/NUMBA set to 1 below), seeds fixed, medians of repeats.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import tempfile
import time as time_module
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from benchmarks import worms_statistics
from benchmarks.report import Row, median_time, parse_args, report, write_json
from engines.worms.heatmap import HeatmapPyramid, heatmap_aggregate, trace_image_source
from engines.worms.loaders.flavell_h5 import TIME_KEY, TRACE_KEY, load_flavell_h5
from engines.worms.neurons import CANONICAL_NEURONS
from engines.worms.simulate import simulate_collection

SHARED = worms_statistics.SHARED
WIDTH, HEIGHT = 800, 300


def read_with_h5py(path: Path) -> dict:
    with h5py.File(path, "r") as f:
        out = {"traces": f[TRACE_KEY][()], "time": f[TIME_KEY][()]}
        out.update({k: v[()] for k, v in f["behavior"].items() if v.ndim == 1 and k != "reversal_events"})
    return out


def values_match(rec, direct: dict) -> bool:
    same_traces = np.array_equal(rec.traces, direct["traces"].astype(np.float32), equal_nan=True)
    same_time = np.array_equal(rec.time, direct["time"] - direct["time"][0])
    same_behaviour = all(np.array_equal(rec.behaviour[k], direct[k].astype(np.float64), equal_nan=True)
                         for k in rec.behaviour)
    return same_traces and same_time and same_behaviour and set(rec.behaviour) <= set(direct)


def shared_rows(repeats: int) -> list[Row]:
    rows = []
    for path in sorted(SHARED.glob("*-data.h5")):
        rec = load_flavell_h5(path)
        direct = read_with_h5py(path)
        lab = median_time(lambda: load_flavell_h5(path), repeats)
        peer = median_time(lambda: read_with_h5py(path), repeats)
        rows.append(Row(f"read {rec.name} ({rec.n_neurons}x{rec.n_time})", lab, "s", "h5py direct",
                        peer, "values match exactly", values_match(rec, direct)))
    return rows


def write_flavell(folder: Path, n_neurons: int, n_time: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path = folder / "bench-data.h5"
    with h5py.File(path, "w") as f:
        f[TRACE_KEY] = rng.standard_normal((n_time, n_neurons))
        f[TIME_KEY] = 1e6 + np.cumsum(rng.uniform(0.55, 0.65, n_time))
        for name in ("velocity", "head_angle", "pumping", "angular_velocity"):
            f[f"behavior/{name}"] = rng.standard_normal(n_time)
        f["behavior/reversal_vec"] = (rng.random(n_time) < 0.1).astype(np.int64)
    names = rng.choice(CANONICAL_NEURONS, size=min(n_neurons, 120), replace=False)
    pd.DataFrame({"trace_column_1based": np.arange(1, names.size + 1), "label": names,
                  "confidence": 4.0}).to_csv(folder / "bench-labels.csv", index=False)
    return path


def opening_row(repeats: int) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_flavell(Path(tmp), 150, 1600)
        lab = median_time(lambda: load_flavell_h5(path), repeats)
        peer = median_time(lambda: read_with_h5py(path), repeats)
    return Row("open 150x1600 recording", lab, "s", "h5py direct", peer, "< 1 s", lab < 1.0)


def numpy_block_mean(traces: np.ndarray, lo: int, hi: int, width: int) -> np.ndarray:
    """The peer: mean of each pixel's block of samples (time binning only)."""
    window = traces[lo:hi]
    edges = np.linspace(0, window.shape[0], width + 1).astype(int)[:-1]
    return np.add.reduceat(window, edges, axis=0) / np.diff(np.r_[edges, window.shape[0]])[:, None]


def heatmap_rows(n_time: int, repeats: int) -> list[Row]:
    rng = np.random.default_rng(0)
    traces = rng.standard_normal((n_time, 300)).astype(np.float32)
    time = np.arange(n_time) * 0.5
    start = time_module.perf_counter()
    pyramid = HeatmapPyramid(traces, time)
    build = time_module.perf_counter() - start
    source = trace_image_source(traces, time)
    heatmap_aggregate(source, (time[0], time[-1]), width=WIDTH, height=HEIGHT)  # numba compile
    span = time[-1]
    views = {"full view": (0.0, span), "zoom x10": (0.45 * span, 0.55 * span),
             "pan": (0.55 * span, 0.65 * span)}
    rows = [Row(f"heatmap pyramid build 300x{n_time} (once per recording)", build, "s")]
    for label, (lo, hi) in views.items():
        lab = median_time(lambda: pyramid.aggregate((lo, hi), width=WIDTH, height=HEIGHT), repeats)
        direct = median_time(lambda: heatmap_aggregate(source, (lo, hi), width=WIDTH, height=HEIGHT), repeats)
        i0, i1 = int(lo / 0.5), int(hi / 0.5) + 1
        peer = median_time(lambda: numpy_block_mean(traces, i0, i1, WIDTH), repeats)
        rows.append(Row(f"heatmap 300x{n_time} {label} (pyramid)", lab, "s", "numpy block mean",
                        peer, "< 0.5 s", lab < 0.5))
        rows.append(Row(f"heatmap 300x{n_time} {label} (raster, no pyramid)", direct, "s",
                        "numpy block mean", peer, "< 0.5 s", direct < 0.5))
    return rows


def simulation_row(n_worms: int, duration_s: float = 960.0, label: str = "",
                   repeats: int = 1) -> Row:
    from engines.worms.connectome import anatomical_connectome
    anatomical_connectome()  # cect import and connectome projection, cached: not the model's cost
    elapsed = median_time(lambda: simulate_collection(n_worms=n_worms, duration_s=duration_s,
                                                      dt=0.6, seed=0), repeats)
    n_time = int(round(duration_s / 0.6))
    return Row(f"simulate {n_worms} worms x 300 x {n_time}{label}", elapsed, "s",
               target="a few seconds (<= 5 s)", met=elapsed <= 5.0)


def main(argv=None) -> None:
    args = parse_args("Worm activity data layer benchmark", argv, worms_statistics.add_options)
    repeats = 3 if args.quick else 7
    rows = shared_rows(repeats) if SHARED.is_dir() else []
    rows.append(opening_row(repeats))
    rows += heatmap_rows(100_000, repeats)
    rows.append(simulation_row(5 if args.quick else 20))
    rows.append(simulation_row(6, 960.0, " (worm room default)", repeats))
    rows.append(simulation_row(4, 360.0, " (connectome room default)", repeats))
    notes = ["threads: 1 (OMP/MKL/OpenBLAS/numba); seeds 0; medians of "
             f"{repeats} repeats (20-worm simulation: one run); heatmap {WIDTH}x{HEIGHT} px, "
             "datashader Canvas.raster mean",
             "shared recordings: " + (str(SHARED) if SHARED.is_dir() else "absent, rows skipped")]
    report(rows, argparse.Namespace(json=None), "Worm activity data layer", notes)
    statistics, statistics_notes = worms_statistics.run(args)
    report(statistics, argparse.Namespace(json=None),
           "Whole-brain statistics: simulated worms against real recordings", statistics_notes)
    if args.json:
        write_json(rows + statistics, args.json)
        print(f"\nrows written to {args.json}")


if __name__ == "__main__":
    main()
