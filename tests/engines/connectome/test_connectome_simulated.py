"""End to end on the worms room's simulated default, which carries its ground truth.

Stated bars (seed 0, 5 worms x 360 s, kernel affinity, 10 s windows every 5 s, rank 6): for each
stimulus (salt, oxygen) some component's temporal profile separates the stimulus windows from
the rest with ROC AUC >= 0.75, its pair loadings are concentrated on that stimulus's sensory
module (mean within-module affinity >= 1.5x the component's mean), and its communities match the
planted modules (over the neurons that belong to one) with NMI >= 0.5 (Leiden) and >= 0.65
(weighted SBM).
"""
import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi
from sklearn.metrics import roc_auc_score

from engines.connectome.communities import component_graph, detect_communities
from engines.connectome.enrichment import connectivity_layers, enrichment
from engines.connectome.ntf import fit_ntf
from engines.connectome.tensor import from_collection
from engines.worms.simulate import STIMULI, simulate_collection


@pytest.fixture(scope="module")
def simulated_fit():
    collection, truth = simulate_collection(n_worms=5, duration_s=360.0, dt=0.6, seed=0)
    tensor = from_collection(collection, window_s=10.0, step_s=5.0, affinity="kernel")
    result, _ = fit_ntf(tensor.values, tensor.mask, rank=6, seed=0)
    return tensor, result, truth


def _stimulus_windows(tensor, epochs):
    start, end = tensor.window_start_s, tensor.window_start_s + tensor.window_s
    return np.any([(start < b) & (end > a) for a, b in zip(epochs.start_s, epochs.end_s)], axis=0)


def _module_labels(tensor, modules):
    labels = np.full(len(tensor.neurons), -1)
    for k, members in enumerate(modules.values()):
        labels[np.isin(tensor.neurons, members)] = k
    return labels


@pytest.mark.slow
@pytest.mark.parametrize("stimulus", sorted(STIMULI))
def test_components_recover_stimulus_epochs_and_modules(simulated_fit, stimulus):
    tensor, result, truth = simulated_fit
    during = _stimulus_windows(tensor, truth.stimulus_epochs[truth.stimulus_epochs.label == stimulus])
    aucs = [roc_auc_score(during, result.factors[0][:, k]) for k in range(result.rank)]
    k = int(np.argmax(aucs))
    assert aucs[k] >= 0.75, aucs

    graph = component_graph(tensor, result.factors[2][:, k])
    sensory = np.isin(tensor.neurons, truth.modules[STIMULI[stimulus]])
    assert graph[np.ix_(sensory, sensory)].mean() >= 1.5 * graph.mean()

    planted = _module_labels(tensor, truth.modules)
    in_module = planted >= 0
    for method, bar in (("leiden", 0.5), ("sbm", 0.65)):
        labels = detect_communities(graph, method, seed=0)
        assert nmi(planted[in_module], labels[in_module]) >= bar, method


@pytest.fixture(scope="module")
def layers():
    return connectivity_layers()  # cect and wormneuroatlas are declared dependencies


def test_locomotion_modules_are_enriched_in_gap_junctions(layers):
    """Positive control: the planted forward/reverse modules are wired together anatomically."""
    from engines.worms.simulate import MODULES

    labels = {n: k for k, members in enumerate(MODULES.values()) for n in members}
    table = enrichment(labels, {"gap junction": layers["gap junction"]}, n_shuffles=500, seed=0)
    names = list(MODULES)
    significant = {names[c] for c in table[table.p_value < 0.01].community}
    assert {"forward", "reverse"} <= significant


def test_shuffled_partitions_of_real_neurons_are_not_enriched(layers):
    """Calibration on the real layers: random partitions are significant ~5% of the time."""
    from engines.worms.model import CANONICAL_NEURONS

    rng = np.random.default_rng(0)
    neurons = rng.choice(CANONICAL_NEURONS, size=80, replace=False)
    p_values = []
    for trial in range(40):
        labels = dict(zip(neurons, rng.integers(0, 4, size=len(neurons))))
        table = enrichment(labels, layers, n_shuffles=200, seed=trial)
        p_values.extend(table.p_value)
    assert np.mean(np.asarray(p_values) < 0.05) < 0.1
