"""Reservoir engine beside reservoirpy 0.4: speed, task scores, and the E/I balance claims.

    python -m benchmarks.reservoir [--quick] [--json PATH]

One thread everywhere (numba kernel, BLAS); sweeps run on a 2-process Dask LocalCluster.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from benchmarks.report import Row, median_time, parse_args, report  # noqa: E402
from engines.reservoir.interop import ReservoirpyDriver, reservoirpy_esn, to_reservoirpy  # noqa: E402
from engines.reservoir.params import ReservoirParams  # noqa: E402
from engines.reservoir.simulator import BatchedReservoir, Reservoir  # noqa: E402
from engines.reservoir.sweep import run_sweep, summarise  # noqa: E402
from engines.reservoir.tasks import MemoryCapacity, Narma10, Split, evaluate  # noqa: E402

PEER = "reservoirpy 0.4"


def _inputs(n):
    return np.random.default_rng(0).uniform(-1, 1, (n, 1))


def speed_rows(quick: bool) -> list[Row]:
    steps, repeats = (1000, 3) if quick else (5000, 5)
    rows = []
    for n in (500, 1000):
        ours = Reservoir(ReservoirParams(n=n))
        ours.run(_inputs(10))                                   # compile outside the timing
        node = to_reservoirpy(ours)                             # same W, W_in, activation
        node.run(_inputs(10))
        u = _inputs(steps)
        t_ours = median_time(lambda: ours.run(u), repeats)
        t_peer = median_time(lambda: node.run(u), repeats)
        rate = steps / t_ours
        rows.append(Row(f"steps/s single N={n}", rate, "steps/s", PEER, steps / t_peer, ">= 2x peer",
                        rate >= 2 * steps / t_peer))
    batch, b_steps = 64, (150 if quick else 500)
    ours = BatchedReservoir(ReservoirParams(n=500), balances=np.linspace(0.5, 2.0, batch), adaptive=True)
    ours.run(_inputs(5))
    u = _inputs(b_steps)
    t_ours = median_time(lambda: ours.run(u), repeats)
    # reservoirpy runs a batch one reservoir after another: time a few, scale to the batch
    nodes = [to_reservoirpy(ours, b) for b in range(4)]
    for node in nodes:
        node.run(_inputs(5))
    t_peer = median_time(lambda: [node.run(u) for node in nodes], repeats) * batch / len(nodes)
    rate, peer = batch * b_steps / t_ours, batch * b_steps / t_peer
    rows.append(Row("reservoir-steps/s batch 64, N=500 (adaptive)", rate, "res-steps/s", PEER, peer,
                    ">= 10x peer", rate >= 10 * peer))
    return rows


def task_rows(quick: bool) -> list[Row]:
    n = 200 if quick else 500
    split = Split(200, 1500, 300, 600) if quick else Split(200, 3000, 500, 1000)
    k_max = 50 if quick else 100
    rows = []
    for task in (MemoryCapacity(k_max=k_max, split=split), Narma10(split=split)):
        ours = Reservoir(ReservoirParams(n=n), adaptive=True)
        ours.step(inputs=np.concatenate([task.inputs()] * 2)[:2000], record_currents=False)   # adapt, then freeze
        ours.set_adaptation(False)
        mine = evaluate(ours, task)
        theirs = evaluate(ReservoirpyDriver(reservoirpy_esn(n, seed=0)), task)
        better = mine.value >= theirs.value if mine.metric == "MC" else mine.value <= theirs.value
        rows.append(Row(f"{mine.task} N={n} (adaptive E/I vs tanh ESN sr=0.9)", mine.value, mine.metric,
                        "reservoirpy ESN", theirs.value, "reported", better))
    return rows


def balance_rows(quick: bool) -> tuple[list[Row], list[str]]:
    balances = (0.5, 1.0, 1.5, 2.0)
    seeds = range(2) if quick else range(5)
    n = 200 if quick else 500
    split = Split(100, 1000, 300, 500) if quick else Split(100, 2000, 500, 1000)
    table = run_sweep(ReservoirParams(n=n, in_degree=min(50, n // 10)), balances, (False, True), seeds, ("mc",),
                      n_adapt=1500 if quick else 3000, split=split, k_max=100, n_workers=2)
    summary = summarise(table)
    rows, notes = [], []
    static = summary[~summary.adaptive].set_index("balance")["mean"]
    adaptive = summary[summary.adaptive].set_index("balance")["mean"]
    spread = summary.set_index(["adaptive", "balance"])["std"]
    for g in balances:
        rows.append(Row(f"MC static g={g} (mean of {len(seeds)} seeds, sd {spread[(False, g)]:.2f})",
                        float(static[g]), "MC"))
        rows.append(Row(f"MC adaptive g={g} (mean of {len(seeds)} seeds, sd {spread[(True, g)]:.2f})",
                        float(adaptive[g]), "MC"))
    best_g = float(static.idxmax())
    rows.append(Row("static optimum g", best_g, "g", target="near balance (1 <= g <= 1.5)", met=1.0 <= best_g <= 1.5))
    flatness = float((adaptive.max() - adaptive.min()) / adaptive.mean())
    rows.append(Row("adaptive spread (max-min)/mean over g", flatness, "ratio", target="flat (< 0.25)", met=flatness < 0.25))
    gain = float(adaptive.mean() / static.mean())
    rows.append(Row("adaptive / static MC averaged over g", gain, "ratio", target="> 1 (paper: up to 2.3)", met=gain > 1))
    notes.append(f"balance sweep: N={n}, seeds={list(seeds)}, MC k_max=100, split={split}, Dask LocalCluster 2x1 thread")
    return rows, notes


def main(argv=None):
    args = parse_args("Reservoir engine vs reservoirpy 0.4", argv)
    rows = speed_rows(args.quick) + task_rows(args.quick)
    sweep_rows, notes = balance_rows(args.quick)
    notes = ["one thread (numba kernels / BLAS); medians of repeats; sigmoid gain 10, k=50, f_E=0.8",
             "single reservoirs step in float64; the batch in float32 (engines/reservoir/simd.py row sums)",
             "peer speed: reservoirpy Reservoir node with our exported W and W_in (same sizes and sparsity);",
             "  its batch is sequential, so 4 reservoirs are timed and scaled to 64"] + notes
    report(rows + sweep_rows, args, "Reservoir engine (issue 5)" + (" --quick" if args.quick else ""), notes)


if __name__ == "__main__":
    main()
