"""Worm activity data layer: loader vs direct h5py, opening time, heatmap zoom/pan, simulation.

    python -m benchmarks.worms [--quick] [--json PATH]

Rows:
- each shared Flavell recording (../shared/data/flavell2023, when present) read by the lab's
  loader beside the same datasets read with h5py directly; 'met' says the values match exactly
  (traces as float32, which the model stores; time stamps shifted to 0; behaviour float64);
- opening a 150-neuron x 1,600-sample Flavell-layout recording written here (target < 1 s);
- datashader aggregation of a 300 x 100,000 heatmap to 800 x 300 pixels for a full view, a
  zoom and a pan (target < 0.5 s each), beside a NumPy block-mean of the same window;
- the embedded simulation, 20 worms x 300 neurons x 1,600 samples.
One thread (OMP/MKL/NUMBA set to 1 below), seeds fixed, medians of repeats.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import tempfile
import time as time_module
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from benchmarks.report import Row, median_time, parse_args, report
from engines.worms.heatmap import HeatmapPyramid, heatmap_aggregate, trace_image_source
from engines.worms.loaders.flavell_h5 import TIME_KEY, TRACE_KEY, load_flavell_h5
from engines.worms.neurons import CANONICAL_NEURONS
from engines.worms.simulate import simulate_collection

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "flavell2023"
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


def simulation_row(n_worms: int) -> Row:
    from engines.worms.connectome import anatomical_connectome
    anatomical_connectome()  # cect import and connectome projection, cached: not the model's cost
    start = time_module.perf_counter()
    simulate_collection(n_worms=n_worms, duration_s=960.0, dt=0.6, seed=0)
    elapsed = time_module.perf_counter() - start
    return Row(f"simulate {n_worms} worms x 300 x 1600", elapsed, "s",
               target="a few seconds (<= 5 s)", met=elapsed <= 5.0)


def main(argv=None) -> None:
    args = parse_args("Worm activity data layer benchmark", argv)
    repeats = 3 if args.quick else 7
    rows = shared_rows(repeats) if SHARED.is_dir() else []
    rows.append(opening_row(repeats))
    rows += heatmap_rows(100_000, repeats)
    rows.append(simulation_row(5 if args.quick else 20))
    notes = ["threads: 1 (OMP/MKL/OpenBLAS/numba); seeds 0; medians of "
             f"{repeats} repeats; heatmap {WIDTH}x{HEIGHT} px, datashader Canvas.raster mean",
             "shared recordings: " + (str(SHARED) if SHARED.is_dir() else "absent, rows skipped")]
    report(rows, args, "Worm activity data layer", notes)


if __name__ == "__main__":
    main()
