"""The connectome room's own cost: its step-wise pipeline against the engine called in one go.

The room runs tensor -> NTF -> communities -> enrichment as a BackgroundTask of small steps that
publish snapshots for the page; this measures what that costs against calling the same engine
functions directly on the same recordings and settings (the room's defaults: 4 simulated worms x
360 s, 20 s windows every 10 s, rank 5, Leiden, 200 shuffles). Threads: OMP/BLAS 1. Seeds 0.

    python -m benchmarks.connectome_room [--quick] [--json PATH]
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

from benchmarks.report import Row, median_time, parse_args, report  # noqa: E402


def room_pipeline(model) -> None:
    model.build()
    while model.task.is_alive:
        time.sleep(0.01)
    assert model.task.state == "finished", model.task.error


def engine_pipeline(model) -> None:
    """The same work as ``room_pipeline`` after the simulation, as plain engine calls."""
    from engines.connectome.communities import component_communities
    from engines.connectome.enrichment import connectivity_layers, enrichment
    from engines.connectome.ntf import fit_ntf
    from engines.connectome.tensor import build_tensor
    rec = model.recordings
    tensor = build_tensor(rec.traces, rec.neuron_names, rec.dts, model.window_s, model.step_s, model.affinity,
                          rank=model.rank, worm_names=rec.worm_names, min_worm_fraction=model.min_worm_fraction)
    result, _ = fit_ntf(tensor.values, tensor.mask, model.rank, seed=model.ntf_seed, tol=model.tol,
                        max_iter=model.max_iter)
    communities = component_communities(tensor, result.factors[2], "leiden", seed=model.ntf_seed)
    layers = connectivity_layers()   # read once and cached, as the room's pipeline does
    for labels in communities.values():
        enrichment(dict(zip(tensor.neurons, labels.tolist())), layers,
                   n_shuffles=model.n_shuffles, min_size=3, seed=model.ntf_seed)


def main(argv=None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    from lab.connectome import ConnectomeRoom
    repeats = 2 if args.quick else 5
    model = ConnectomeRoom()
    start = time.perf_counter()
    room_pipeline(model)                       # first run: simulates and caches the recordings
    first = time.perf_counter() - start
    room = median_time(lambda: room_pipeline(model), repeats)
    engine = median_time(lambda: engine_pipeline(model), repeats)
    rows = [Row("first Build tensor (simulate + full pipeline)", first, "s", target="well under 60 s",
                met=first < 60),
            Row("Build tensor again (recordings cached)", room, "s", peer="engine calls in one go",
                peer_value=engine, target="room overhead small", met=room < 1.5 * engine + 0.5)]
    report(rows, args, "Dynamic connectome room: step-wise pipeline vs the engine in one go",
           [f"{model.tensor.shape[0]} windows x {model.tensor.shape[1]} worms x {model.tensor.shape[2]:,} pairs, "
            f"rank {model.rank}, median of {repeats}, 1 BLAS thread, seeds 0"])


if __name__ == "__main__":
    main()
