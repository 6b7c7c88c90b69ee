"""benchmarks.worms_statistics: the table of simulated against real statistics has its rows."""
import json

import h5py
import numpy as np
import pandas as pd
import pytest

from benchmarks import worms_statistics
from engines.worms.loaders import load
from engines.worms.statistics import TARGETS, worm_statistics

N_TIME, N_NEURONS = 820, 24


def write_flavell_recording(folder, name="synthetic"):
    """A slow, low-rank population with reversals, in the Flavell-lab HDF5 layout."""
    rng = np.random.default_rng(0)
    latents = np.zeros((N_TIME, 3))
    for t in range(1, N_TIME):
        latents[t] = 0.97 * latents[t - 1] + rng.standard_normal(3)
    traces = latents @ rng.standard_normal((3, N_NEURONS)) + rng.standard_normal((N_TIME, N_NEURONS))
    reversal = np.zeros(N_TIME, dtype=np.int64)
    for start in range(20, N_TIME - 10, 20):                      # 3 /min, 3 s each
        reversal[start:start + 5] = 1
    path = folder / f"{name}-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = traces
        f["timing/timestamp_confocal"] = 5e3 + np.arange(N_TIME) * 0.6
        f["behavior/reversal_vec"] = reversal
        f["behavior/velocity"] = np.where(reversal > 0, -0.02, 0.01)
    pd.DataFrame({"trace_column_1based": [1, 2, 3], "label": ["AVAL", "AVAR", "RIML"],
                  "confidence": 5.0}).to_csv(folder / f"{name}-labels.csv", index=False)
    return path


def run_table(tmp_path, *real):
    out = tmp_path / "rows.json"
    argv = ["--quick", "--seeds", "1", "--json", str(out)]
    for path in real:
        argv += ["--real", str(path)]
    worms_statistics.main(argv)
    return {row["name"]: row for row in json.loads(out.read_text())}


def test_rows_for_simulated_seeds_and_a_real_recording(tmp_path, capsys):
    path = write_flavell_recording(tmp_path)
    rows = run_table(tmp_path, path)
    expected = worm_statistics(load(path)[0])
    assert "Whole-brain statistics" in capsys.readouterr().out
    for key, label in worms_statistics.STATISTICS.items():
        real = [r for name, r in rows.items() if name.startswith(f"{label}: real synthetic")]
        assert len(real) == 1, (label, list(rows))
        assert real[0]["value"] == pytest.approx(getattr(expected, key))
        simulated = [r for name, r in rows.items() if name.startswith(f"{label}: simulated seed 0")]
        assert len(simulated) == 1
        # the peer is the mean of every real recording in the table: the given one, and the
        # shared Flavell-lab recordings when the checkout sits beside them (as on CI)
        every_real = [r["value"] for name, r in rows.items() if name.startswith(f"{label}: real ")]
        assert simulated[0]["peer_value"] == pytest.approx(np.nanmean(every_real))
        if key in TARGETS:
            lo, hi = TARGETS[key]
            assert simulated[0]["target"] == f"{lo:g}-{hi:g}" and simulated[0]["met"] is True
    assert expected.reversals_per_min == pytest.approx(39 / 8)    # runs starting in the first 480 s
    assert expected.reversal_duration_s == pytest.approx(3.0)


def test_rows_for_the_shared_flavell_recordings(tmp_path, shared_data):
    folder = shared_data / "flavell2023"
    if not any(folder.glob("*-data.h5")):
        pytest.skip(f"no Flavell recordings in {folder}")
    rows = run_table(tmp_path, folder)
    names = [p.name[:-len("-data.h5")] for p in sorted(folder.glob("*-data.h5"))]
    for uid in names:
        for key, label in worms_statistics.STATISTICS.items():
            found = [r for name, r in rows.items() if name.startswith(f"{label}: real {uid}")]
            assert len(found) == 1, (uid, label)    # the shared folder given again counts once
            row = found[0]
            if key in TARGETS:
                assert row["met"] is True, row        # the real recordings define the ranges
