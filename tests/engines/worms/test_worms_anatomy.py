import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.worms import (NEURON_INDEX, anatomical_connectome, neuron_positions,
                           signal_propagation_atlas)


def test_connectome_on_canonical_axis():
    conn = anatomical_connectome()
    assert conn.chemical.shape == conn.gap.shape == (300, 300)
    np.testing.assert_array_equal(conn.gap, conn.gap.T)
    assert (conn.chemical.sum(axis=1) > 0).sum() > 250  # nearly every neuron has outputs
    # the textbook circuit: AVD and AVE synapse onto AVA; AVA is gap-coupled to A-motor neurons
    assert conn.chemical[NEURON_INDEX["AVDL"], NEURON_INDEX["AVAL"]] > 0
    partners = conn.partners("AVAL")
    assert {"chemical in", "chemical out", "gap junction"} <= set(partners["kind"])
    assert partners["weight"].is_monotonic_decreasing
    gap = set(partners[partners["kind"] == "gap junction"]["partner"])
    assert gap & {f"VA{i}" for i in range(1, 13)} | gap & {f"DA{i}" for i in range(1, 10)}
    with pytest.raises(InvalidInputError):
        conn.partners("XYZ")


def test_positions_cover_the_axis():
    pos = neuron_positions()
    assert pos.shape == (300, 3) and not pos.isna().any().any()
    # the anterior-posterior axis: head neurons and tail neurons are far apart
    assert abs(pos.loc["AVAL", "y"] - pos.loc["PVCL", "y"]) > abs(pos.loc["AVAL", "y"] - pos.loc["AVAR", "y"])


def test_signal_propagation_atlas():
    atlas = signal_propagation_atlas()
    assert atlas.shape == (300, 300)
    assert 0.05 < np.isfinite(atlas).mean() < 1.0


def test_transmitter_connectome_is_cook_2019_by_transmitter_class():
    from engines.worms.connectome import anatomical_connectome, transmitter_connectome
    from engines.worms.neurons import NEURON_INDEX
    anatomy = transmitter_connectome()
    assert len(anatomy.neurons) == 302 and {"GABA", "Acetylcholine", "Glutamate"} <= set(anatomy.chemical)
    gaba = anatomy.transmitter_share("GABA")
    assert gaba[anatomy.neurons.index("DD1")] == 1.0 and gaba[anatomy.neurons.index("AVAL")] == 0.0
    # a neuron with one classical transmitter keeps Cook 2019's synapse counts
    cook = anatomical_connectome("Cook2019Herm")
    i, j = anatomy.neurons.index("AVAL"), NEURON_INDEX["AVAL"]
    partners = [anatomy.neurons[k] for k in np.flatnonzero(anatomy.chemical["Acetylcholine"][i])]
    assert partners and all(anatomy.chemical["Acetylcholine"][i, anatomy.neurons.index(p)] == cook.chemical[j, NEURON_INDEX[p]]
                            for p in partners if p in NEURON_INDEX)
    with pytest.raises(InvalidInputError, match="no .Serotonin."):
        anatomy.transmitter_share("Serotonin")
