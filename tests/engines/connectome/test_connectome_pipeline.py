"""Traces -> tensor -> NTF -> communities -> export on the small planted generator (conftest)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from connectome_planted import EPOCHS, MODULES, N_NEURONS
from engines.connectome.communities import component_communities
from engines.connectome.export import factors_csv, factors_npz, partitions_csv
from engines.connectome.ntf import fit_ntf
from engines.connectome.sweep import run_sweep


def _epoch_indicator(tensor, epochs):
    start = tensor.window_start_s
    return np.any([(start >= a) & (start + tensor.window_s <= b) for a, b in epochs], axis=0)


def _component_for(tensor, result, epochs):
    """The component whose temporal profile is highest, on average, inside ``epochs``."""
    inside = _epoch_indicator(tensor, epochs)
    contrast = result.factors[0][inside].mean(0) - result.factors[0][~inside].mean(0)
    return int(np.argmax(contrast)), inside


def _planted_labels(active):
    """Neurons of the modules active in a component get their module, all others one background."""
    labels = np.full(N_NEURONS, len(MODULES))
    for k, name in enumerate(MODULES):
        if name in active:
            labels[list(MODULES[name])] = k
    return labels


def test_components_match_planted_epochs_and_modules(planted_tensor):
    result, _ = fit_ntf(planted_tensor.values, planted_tensor.mask, rank=2, seed=0)
    for active, epochs in ((("A", "B"), EPOCHS["A"]), (("C",), EPOCHS["C"])):
        k, inside = _component_for(planted_tensor, result, epochs)
        profile = result.factors[0][:, k]
        assert np.corrcoef(profile, inside)[0, 1] > 0.8           # temporal profile = planted epoch
        truth = _planted_labels(active)
        for method in ("leiden", "sbm"):
            labels = component_communities(planted_tensor, result.factors[2][:, [k]], method)[0]
            assert nmi(truth, labels) > 0.75, (method, active, labels)


@pytest.mark.slow
def test_dask_sweep_matches_the_serial_sweep(planted_tensor):
    kwargs = dict(ranks=[1, 2, 3], n_restarts=2, seed=0)
    serial = run_sweep(planted_tensor.values, planted_tensor.mask, executor="serial", **kwargs)
    distributed = run_sweep(planted_tensor.values, planted_tensor.mask, executor="dask", n_workers=2, **kwargs)
    assert np.allclose(serial.fits.error, distributed.fits.error)
    assert serial.recommended_rank == distributed.recommended_rank == 2


def test_sweep_can_be_stopped_early(planted_tensor):
    calls = []
    sweep = run_sweep(planted_tensor.values, planted_tensor.mask, ranks=[1, 2, 3], n_restarts=2,
                      executor="serial", should_stop=lambda: len(calls) >= 2,
                      progress=lambda f, m: calls.append(f))
    assert sweep.cancelled and len(sweep.fits) == 2


def test_exports_round_trip(planted_tensor, tmp_path):
    result, _ = fit_ntf(planted_tensor.values, planted_tensor.mask, rank=2, seed=0)
    factors_npz(tmp_path / "factors.npz", planted_tensor, result)
    with np.load(tmp_path / "factors.npz") as data:
        assert np.allclose(data["pair"], result.factors[2])
        assert list(data["neurons"]) == list(planted_tensor.neurons)
    paths = factors_csv(str(tmp_path / "run"), planted_tensor, result)
    temporal = pd.read_csv(paths[0])
    assert np.allclose(temporal.component_1, result.factors[0][:, 1])
    pairs = pd.read_csv(paths[2])
    assert len(pairs) == len(planted_tensor.pairs) and pairs.neuron_a[0] == "N00"
    labels = component_communities(planted_tensor, result.factors[2], "leiden")
    partitions_csv(tmp_path / "partitions.csv", planted_tensor.neurons,
                   {f"component_{k}/leiden": v for k, v in labels.items()})
    table = pd.read_csv(tmp_path / "partitions.csv")
    assert list(table["component_0/leiden"]) == list(labels[0])
    assert not list(tmp_path.glob("*.tmp"))
