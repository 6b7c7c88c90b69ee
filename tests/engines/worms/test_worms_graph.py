"""The connectome graph: edges on either neuron axis, the band layout, paths; and what the
room draws from a recording: values at the cursor, replay frames, correlations, 3-D picks."""
import numpy as np
import pandas as pd
import pytest

from engines.worms import (CANONICAL_CLASSES, CANONICAL_NEURONS, NEURON_INDEX, ConnectomeGraph,
                           Recording, anatomical_connectome, band_layout, connectome_graph,
                           correlation_with, nearest_neuron, neuron_positions, positions_on_axis,
                           replay_frames, sample_index, scaled_per_neuron, shortest_paths)


def toy_graph() -> ConnectomeGraph:
    """A -> B -> D (2 + 5 synapses), A -> C -> D (4 + 4), A = E (gap, 1), E -> D (9): two-hop
    paths A-B-D (7), A-C-D (8), A-E-D (10, through the gap junction)."""
    nodes = ("A", "B", "C", "D", "E")
    chemical = np.zeros((5, 5))
    gap = np.zeros((5, 5))
    for (a, b), n in {("A", "B"): 2, ("B", "D"): 5, ("A", "C"): 4, ("C", "D"): 4, ("E", "D"): 9}.items():
        chemical[nodes.index(a), nodes.index(b)] = n
    gap[0, 4] = gap[4, 0] = 1
    return ConnectomeGraph(nodes=nodes, chemical=chemical, gap=gap, name="toy")


def test_paths_fewest_hops_then_most_synapses():
    graph = toy_graph()
    found = shortest_paths(graph, "A", "D", max_hops=3)
    assert found.hops == 2
    assert [p[0] for p in found.paths] == [("A", "E", "D"), ("A", "C", "D"), ("A", "B", "D")]
    assert found.paths[0][1:] == ((1.0, 9.0), 10.0)
    chemical_only = shortest_paths(graph, "A", "D", max_hops=3, kinds="chemical")
    assert chemical_only.paths[0] == (("A", "C", "D"), (4.0, 4.0), 8.0)
    # chemical synapses are followed from pre to post only; gap junctions both ways
    assert shortest_paths(graph, "D", "A", max_hops=3, kinds="chemical").hops is None
    assert shortest_paths(graph, "E", "A", kinds="gap junction").paths[0][0] == ("E", "A")


def test_paths_that_cannot_be_found_say_why():
    graph = toy_graph()
    too_short = shortest_paths(graph, "A", "D", max_hops=1)
    assert too_short.hops is None and too_short.paths == []
    assert "not connected within 1 hops" in too_short.message
    unknown = shortest_paths(graph, "A", "XYZ")
    assert unknown.paths == [] and "XYZ" in unknown.message and "not a neuron" in unknown.message


def test_real_paths_against_a_hand_checked_pair():
    conn = anatomical_connectome()
    graph = connectome_graph(CANONICAL_NEURONS)
    weight = conn.chemical + conn.gap
    # ASH, the nociceptor, synapses straight onto the reversal command interneuron AVA
    direct = shortest_paths(graph, "ASHL", "AVAL")
    assert direct.hops == 1
    assert direct.paths[0] == (("ASHL", "AVAL"), (weight[NEURON_INDEX["ASHL"], NEURON_INDEX["AVAL"]],),
                               weight[NEURON_INDEX["ASHL"], NEURON_INDEX["AVAL"]])
    # ASHL reaches the motor neuron VA5 in two hops; the best relay is found by brute force here
    s, t = NEURON_INDEX["ASHL"], NEURON_INDEX["VA5"]
    assert weight[s, t] == 0
    relays = {CANONICAL_NEURONS[m]: weight[s, m] + weight[m, t] for m in range(300)
              if weight[s, m] > 0 and weight[m, t] > 0}
    best = max(relays.values())
    found = shortest_paths(graph, "ASHL", "VA5", max_hops=4)
    assert found.hops == 2 and found.paths[0][2] == best
    assert found.paths[0][0][1] in relays and relays[found.paths[0][0][1]] == best
    assert [p[2] for p in found.paths] == sorted((p[2] for p in found.paths), reverse=True)


def test_class_axis_sums_left_and_right():
    conn = anatomical_connectome()
    classes = connectome_graph(CANONICAL_CLASSES)
    ash, ava = classes.index["ASH"], classes.index["AVA"]
    expected = sum(conn.chemical[NEURON_INDEX[a], NEURON_INDEX[b]]
                   for a in ("ASHL", "ASHR") for b in ("AVAL", "AVAR"))
    assert classes.chemical[ash, ava] == expected
    assert np.all(np.diag(classes.chemical) == 0) and np.all(np.diag(classes.gap) == 0)
    partners = classes.partners("AVA", "gap junction")
    assert set(partners["kind"]) == {"gap junction"} and "AVA" not in set(partners["partner"])


def test_band_layout_is_stable_and_banded():
    layout = band_layout(CANONICAL_NEURONS)
    assert list(layout.index) == list(CANONICAL_NEURONS)
    assert layout["x"].between(0, 1).all() and not layout[["x", "y"]].isna().any().any()
    assert layout.loc["ASHL", "band"] == "sensory" and layout.loc["AVAL", "band"] == "inter"
    assert layout.loc["VA5", "band"] == "motor"
    assert layout.loc["ASHL", "y"] > layout.loc["AVAL", "y"] > layout.loc["VA5", "y"]
    # within the motor band, head to tail: VA1 (anterior) left of VA12 (posterior)
    assert layout.loc["VA1", "x"] < layout.loc["VA12", "x"]
    layout.loc["ASHL", "x"] = 99.0  # a caller's change does not reach the cached layout
    assert band_layout(CANONICAL_NEURONS).loc["ASHL", "x"] <= 1


def recording(traces: dict, dt=0.5) -> Recording:
    n = len(next(iter(traces.values())))
    return Recording(name="r", time=np.arange(n) * dt, traces=np.column_stack(list(traces.values())),
                     labels=list(traces))


def test_sample_index_is_the_nearest_sample():
    time = np.array([0.0, 0.6, 1.2, 1.8])
    assert [sample_index(time, t) for t in (-1, 0.29, 0.31, 1.19, 5.0)] == [0, 0, 1, 2, 3]


def test_replay_frames_match_the_traces_at_the_cursor():
    rng = np.random.default_rng(1)
    rec = recording({"AVAL": rng.normal(size=50), "ASHL": rng.normal(size=50),
                     "VA5": np.full(50, 2.0)})
    graph = connectome_graph(CANONICAL_NEURONS)
    frames = replay_frames(rec, graph)
    k = sample_index(rec.time, 12.3)
    now = frames.nodes_at(k)
    ava = rec.trace("AVAL")
    assert now[graph.index["AVAL"]] == pytest.approx((ava[k] - ava.min()) / (ava.max() - ava.min()))
    assert now[graph.index["VA5"]] == 0.5                       # flat trace: the middle
    assert np.isnan(now[graph.index["AVBL"]]) and not frames.recorded[graph.index["AVBL"]]
    assert frames.recorded.sum() == 3
    edges = frames.edges
    strength = frames.edges_at(k)
    row = edges[(edges["pre"] == graph.index["ASHL"]) & (edges["post"] == graph.index["AVAL"])
                & (edges["kind"] == "chemical")].index[0]
    assert strength[row] == pytest.approx(edges.loc[row, "count"] * now[graph.index["ASHL"]])
    silent = edges["pre"] == graph.index["AVBL"]                 # not recorded: draws nothing
    assert np.all(strength[silent & (edges["kind"] == "chemical")] == 0)


def test_scaling_and_correlation():
    x = np.array([[1.0, 5.0], [3.0, np.nan], [2.0, 5.0]])
    scaled = scaled_per_neuron(x)
    np.testing.assert_allclose(scaled[:, 0], [0, 1, 0.5])
    assert np.isnan(scaled[1, 1]) and scaled[0, 1] == 0.5
    rng = np.random.default_rng(0)
    ref = rng.normal(size=200)
    traces = np.column_stack([ref + rng.normal(size=200), -ref, rng.normal(size=200)])
    traces[7, 0] = np.nan
    r = correlation_with(traces, ref)
    keep = np.isfinite(traces[:, 0])
    assert r[0] == pytest.approx(np.corrcoef(traces[keep, 0], ref[keep])[0, 1])
    assert r[1] == pytest.approx(-1.0) and abs(r[2]) < 0.2
    assert np.isnan(correlation_with(np.ones((10, 1)), ref[:10])[0])


def test_a_pick_at_a_neurons_position_maps_to_its_name():
    table = positions_on_axis(CANONICAL_NEURONS)
    atlas = neuron_positions()
    for name in ("AVAL", "RIML", "PVCR", "VA5"):
        point = atlas.loc[name].to_numpy() + 0.004   # a click lands on the sphere's surface
        assert nearest_neuron(table, point, max_distance=0.03) == name
    far = atlas.loc["AVAL"].to_numpy() + np.array([0.0, 0.0, 2.0])
    assert nearest_neuron(table, far, max_distance=0.03) is None
    classes = positions_on_axis(CANONICAL_CLASSES)
    mid = atlas.loc[["AVAL", "AVAR"]].mean().to_numpy()
    assert nearest_neuron(classes, mid, 0.03) == "AVA"
    assert nearest_neuron(pd.DataFrame(columns=["x", "y", "z"]), (0, 0, 0), 1.0) is None
