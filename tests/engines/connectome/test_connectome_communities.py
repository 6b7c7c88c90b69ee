import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from engines.connectome.communities import leiden_communities, order_by_community, sbm_communities
from engines.connectome.errors import TooFewNeuronsError

SIZES = [15, 12, 10, 13]


def _planted_graph(rng, sampler):
    truth = np.repeat(np.arange(len(SIZES)), SIZES)
    inside = truth[:, None] == truth[None, :]
    weights = np.triu(sampler(inside), k=1)
    return weights + weights.T, truth


def _exponential(rng):
    return lambda inside: rng.exponential(np.where(inside, 1.0, 0.25))


def _gaussian(rng):
    return lambda inside: np.clip(rng.normal(np.where(inside, 0.6, 0.3), 0.12), 0, None)


@pytest.mark.parametrize("kind", ["exponential", "gaussian"])
def test_leiden_recovers_planted_partitions(kind):
    rng = np.random.default_rng(0)
    weights, truth = _planted_graph(rng, {"exponential": _exponential, "gaussian": _gaussian}[kind](rng))
    assert nmi(truth, leiden_communities(weights, seed=0)) > 0.9


@pytest.mark.parametrize("distribution,kind", [("exponential", _exponential), ("normal", _gaussian)])
def test_weighted_sbm_recovers_planted_partitions_and_their_number(distribution, kind):
    rng = np.random.default_rng(1)
    weights, truth = _planted_graph(rng, kind(rng))
    labels = sbm_communities(weights, distribution=distribution, seed=0)
    assert labels.max() + 1 == len(SIZES)
    assert nmi(truth, labels) > 0.9


def test_weighted_sbm_finds_one_block_without_structure():
    rng = np.random.default_rng(2)
    weights = np.triu(rng.exponential(1.0, size=(40, 40)), k=1)
    assert sbm_communities(weights + weights.T, distribution="exponential").max() == 0
    with pytest.raises(TooFewNeuronsError):
        sbm_communities(np.ones((2, 2)))


def test_order_by_community_groups_members_together():
    rng = np.random.default_rng(3)
    weights, truth = _planted_graph(rng, _gaussian(rng))
    order = order_by_community(truth, weights)
    assert sorted(order) == list(range(len(truth)))
    assert np.count_nonzero(np.diff(truth[order])) == len(SIZES) - 1
