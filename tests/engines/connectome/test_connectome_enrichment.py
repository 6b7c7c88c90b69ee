import numpy as np
import pytest

from engines.connectome.enrichment import benjamini_hochberg, enrichment

NAMES = [f"N{k:02d}" for k in range(60)]


def _block_layer(rng, communities, p_in=0.6, p_out=0.1):
    same = communities[:, None] == communities[None, :]
    return (rng.uniform(size=same.shape) < np.where(same, p_in, p_out)).astype(float)


def test_communities_aligned_with_wiring_are_enriched():
    rng = np.random.default_rng(0)
    communities = np.repeat(np.arange(4), 15)
    layer = _block_layer(rng, communities)
    labels = dict(zip(NAMES, communities))
    table = enrichment(labels, {"chemical": (NAMES, layer)}, n_shuffles=500, seed=0)
    assert len(table) == 4
    assert (table.p_value < 0.01).all() and (table.z > 3).all()
    assert (table.q_value >= table.p_value).all()


def test_shuffled_partitions_are_not_significant():
    """Calibration: partitions unrelated to the wiring give uniform p-values."""
    rng = np.random.default_rng(1)
    wiring = _block_layer(rng, np.repeat(np.arange(4), 15))
    p_values = []
    for trial in range(100):
        labels = dict(zip(NAMES, rng.permutation(np.repeat(np.arange(4), 15))))
        table = enrichment(labels, {"gap junction": (NAMES, wiring)}, n_shuffles=200, seed=trial)
        p_values.extend(table.p_value)
    p_values = np.asarray(p_values)
    assert 0.02 < np.mean(p_values < 0.05) < 0.09       # ~5% false positives at 0.05
    assert 0.4 < np.median(p_values) < 0.6


def test_only_neurons_known_to_both_are_scored_and_small_communities_skipped():
    rng = np.random.default_rng(2)
    layer = _block_layer(rng, np.repeat(np.arange(4), 15))
    labels = {"N00": 0, "N01": 0, "N02": 0, "N03": 1, "unknown": 1}
    table = enrichment(labels, {"chemical": (NAMES, layer)}, n_shuffles=50)
    assert list(table.community) == [0] and table["size"].iloc[0] == 3


def test_benjamini_hochberg_matches_the_step_up_rule():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
