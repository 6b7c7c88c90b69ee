"""What one component shows (coverage of epochs, behaviour, the summary row, the graph layout),
the step-wise rank sweep, and the settings file of an export."""
import json

import numpy as np
import pytest
import pandas as pd

from engines.connectome.components import (behaviour_fraction, component_summary, epoch_coverage,
                                           graph_layout, ordered_matrix)
from engines.connectome.export import settings_json
from engines.connectome.ntf import fit_ntf
from engines.connectome.sweep import SweepRunner, run_sweep
from engines.errors import InvalidInputError


def test_epoch_coverage_is_the_covered_fraction_of_each_window():
    epochs = pd.DataFrame({"start_s": [5.0, 30.0], "end_s": [15.0, 45.0], "label": ["salt", "salt"]})
    coverage = epoch_coverage(np.array([0.0, 10.0, 20.0, 30.0]), 10.0, epochs)
    np.testing.assert_allclose(coverage["salt"], [0.5, 0.5, 0.0, 1.0])


def test_behaviour_fraction_is_averaged_over_worms_and_nan_when_unknown():
    epochs = pd.DataFrame({"worm": ["a", "b"], "start_s": [0.0, 0.0], "end_s": [10.0, 5.0],
                           "label": ["reversal"] * 2})
    np.testing.assert_allclose(behaviour_fraction(epochs, np.array([0.0, 10.0]), 10.0), [0.75, 0.0])
    assert np.isnan(behaviour_fraction(epochs.iloc[:0], np.array([0.0]), 10.0)).all()


def test_each_planted_epoch_has_the_component_that_follows_it(planted_tensor):
    from connectome_planted import EPOCHS
    result, _ = fit_ntf(planted_tensor.values, planted_tensor.mask, rank=2, seed=0)
    epochs = pd.DataFrame([(a, b, name) for name in ("A", "C") for a, b in EPOCHS[name]],
                          columns=["start_s", "end_s", "label"])
    coverage = epoch_coverage(planted_tensor.window_start_s, planted_tensor.window_s, epochs)
    summary = component_summary(result, coverage, {0: np.zeros(len(planted_tensor.neurons), int)})
    assert sorted(summary.stimulus) == ["A", "C"] and (summary.stimulus_r > 0.8).all(), summary
    assert list(summary.communities) == [1, 0]                # component 1 has no communities yet


def test_ordered_matrix_and_layout_keep_every_neuron(planted_tensor):
    result, _ = fit_ntf(planted_tensor.values, planted_tensor.mask, rank=2, seed=0)
    labels = np.arange(len(planted_tensor.neurons)) % 3
    matrix, names, ordered = ordered_matrix(planted_tensor, result.factors[2][:, 0], labels)
    assert sorted(names) == sorted(planted_tensor.neurons) and np.count_nonzero(np.diff(ordered)) == 2
    nodes, edges = graph_layout(matrix, names, ordered, strongest=0.1)
    again, _ = graph_layout(matrix, names, ordered, strongest=0.1)
    assert len(nodes) == len(names) and np.isfinite(nodes[["x", "y"]].to_numpy()).all()
    np.testing.assert_allclose(nodes[["x", "y"]], again[["x", "y"]])   # the same graph drawn the same way
    n_pairs = len(names) * (len(names) - 1) / 2
    assert 0.05 * n_pairs <= len(edges) <= 0.15 * n_pairs


def test_the_step_wise_sweep_is_the_blocking_sweep_one_fit_at_a_time(planted_tensor):
    runner = SweepRunner(planted_tensor.values, planted_tensor.mask, [1, 2], n_restarts=2, seed=0)
    steps = []
    while not runner.done:
        steps.append((runner.step()["rank"], len(runner.fits)))
    assert steps == [(1, 1), (1, 2), (2, 3), (2, 4)]
    blocking = run_sweep(planted_tensor.values, planted_tensor.mask, [1, 2], n_restarts=2, executor="serial")
    stepped = runner.result()
    np.testing.assert_allclose(stepped.fits.error, blocking.fits.error)
    assert stepped.recommended_rank == blocking.recommended_rank and not stepped.cancelled


def test_settings_json_records_settings_results_and_versions(tmp_path):
    settings_json(tmp_path / "settings.json", {"factorisation": {"rank": np.int64(3), "tol": 1e-4}},
                  {"windows": 11, "observed": np.float32(0.5)})
    document = json.loads((tmp_path / "settings.json").read_text())
    assert document["settings"]["factorisation"] == {"rank": 3, "tol": 1e-4}
    assert document["results"] == {"windows": 11, "observed": 0.5}
    assert {"python", "numpy", "tensorly", "leidenalg", "igraph"} <= set(document["versions"])


def test_a_neurons_ties_are_its_strongest_weights_with_their_communities():
    from engines.connectome.components import neuron_ties
    weights = np.array([[0, .9, .1, .5], [.9, 0, .2, 0], [.1, .2, 0, .3], [.5, 0, .3, 0]])
    ties = neuron_ties(weights, ["A", "B", "C", "D"], np.array([0, 0, 1, 1]), "A", top=2)
    assert list(ties.partner) == ["B", "D"] and list(ties.weight) == [.9, .5]
    assert list(ties["same community"]) == [True, False] and list(ties.community) == [0, 1]
    assert list(neuron_ties(weights, "ABCD", None, "B").partner) == ["A", "C"]   # zero ties left out
    with pytest.raises(InvalidInputError, match="not among the analysed neurons"):
        neuron_ties(weights, "ABCD", None, "E")
