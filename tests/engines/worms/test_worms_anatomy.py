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
