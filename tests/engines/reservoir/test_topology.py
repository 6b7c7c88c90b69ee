import numpy as np
import pytest

from engines.reservoir.observables import eigenvalues
from engines.reservoir.params import ReservoirParams
from engines.reservoir.topology import celegans, random_ei


def test_random_topology_obeys_dales_law_and_in_degree():
    params = ReservoirParams(n=300, in_degree=30, seed=3)
    topo = random_ei(params)
    exc_cols = np.unique(topo.exc.nonzero()[1])
    inh_cols = np.unique(topo.inh.nonzero()[1])
    assert topo.excitatory[exc_cols].all() and not topo.excitatory[inh_cols].any()
    assert topo.excitatory.sum() == 240
    assert (topo.exc.data > 0).all() and (topo.inh.data > 0).all()
    w = topo.weights(1.0).toarray()
    assert (w[:, topo.excitatory] >= 0).all() and (w[:, ~topo.excitatory] <= 0).all()
    in_degree = (topo.exc + topo.inh).getnnz(axis=1)
    assert (in_degree == 30).all()
    assert topo.exc.diagonal().sum() == 0 and topo.inh.diagonal().sum() == 0
    frac_input = (np.abs(topo.w_in[:, 0]) > 0).mean()
    assert 0.2 < frac_input < 0.4 and np.abs(topo.w_in).max() <= 0.25


def test_excitation_and_inhibition_are_balanced_by_construction():
    topo = random_ei(ReservoirParams(n=400, in_degree=40))
    e_drive, i_drive = topo.mean_drive()
    assert e_drive == pytest.approx(1.0, rel=0.03) and i_drive == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize("g", [0.5, 2.0])
def test_outlier_eigenvalue_sits_near_one_minus_g(g):
    ev = eigenvalues(random_ei(ReservoirParams(n=300, in_degree=30)).weights(g))
    outlier = ev[np.argmax(np.abs(ev))]
    assert abs(outlier.real - (1 - g)) < 0.2 and abs(outlier.imag) < 1e-6


def test_same_seed_same_topology_other_seed_differs():
    a, b = random_ei(ReservoirParams(n=50, in_degree=5, seed=1)), random_ei(ReservoirParams(n=50, in_degree=5, seed=1))
    c = random_ei(ReservoirParams(n=50, in_degree=5, seed=2))
    assert (a.weights() != b.weights()).nnz == 0 and (a.weights() != c.weights()).nnz > 0


def test_celegans_connectome_signs_and_gap_junctions():
    topo = celegans(ReservoirParams())
    names = list(topo.names)
    assert topo.n == 302
    is_exc = dict(zip(names, topo.excitatory))
    for gabaergic in ("DD1", "VD5", "RMEL", "AVL", "RIS"):
        assert not is_exc[gabaergic], gabaergic
    for cholinergic in ("AVAL", "DB1", "VA3"):
        assert is_exc[cholinergic], cholinergic
    assert abs(topo.gap - topo.gap.T).max() == 0 and topo.gap.nnz > 1000
    w = topo.weights(1.0).toarray()
    assert (w[:, topo.excitatory] >= 0).all() and (w[:, ~topo.excitatory] <= 0).all()
    e_drive, i_drive = topo.mean_drive()
    assert e_drive == pytest.approx(i_drive)


# The inhibitory neurons of the C. elegans network as built before its anatomy moved to
# engines.worms.connectome (cect's OpenWormUnifiedReader table, read by the reservoir itself).
INHIBITORY_BEFORE = {"ALA", "AVJL", "AVJR", "AVL", "DD1", "DD2", "DD3", "DD6", "DVB", "RIBL", "RIBR", "RIS", "RMED",
                     "RMEL", "RMER", "RMEV", "VD1", "VD10", "VD11", "VD12", "VD13", "VD2", "VD3", "VD4", "VD5", "VD6",
                     "VD7", "VD8", "VD9"}


def test_celegans_excitation_and_inhibition_are_assigned_as_before():
    from engines.worms.connectome import transmitter_connectome
    topo = celegans(ReservoirParams())
    assert {name for name, exc in zip(topo.names, topo.excitatory) if not exc} == INHIBITORY_BEFORE
    anatomy = transmitter_connectome()
    assert topo.names == anatomy.neurons and len(set(topo.names)) == 302
    assert "GABA" in anatomy.transmitters("RIS") and anatomy.transmitters("AVAL") == ("Acetylcholine",)
