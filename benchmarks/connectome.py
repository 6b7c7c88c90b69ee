"""Dynamic connectome: NTF (masked HALS, the lab's default) beside tensorly's multiplicative-update
non_negative_parafac on the same tensor, and affinity-tensor building.

python -m benchmarks.connectome [--quick] [--json PATH]
Full: 60 windows x 20 worms x 4,950 pairs (100 neurons) at rank 10; tensor building for
20 worms x 100 neurons x 1,600 samples. --quick: 30 x 10 x 1,225 (50 neurons), rank 5.
Masked NTF (30% of entries missing, EM-imputed HALS vs tensorly MU's mask) at 30 x 10 x 1,225,
rank 5, single runs, in both modes.
One BLAS thread; seeds 0; medians over repeats.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorly  # noqa: E402
from tensorly.decomposition import non_negative_parafac  # noqa: E402

from benchmarks.report import Row, median_time, parse_args, report  # noqa: E402
from engines.connectome.ntf import fit_ntf  # noqa: E402
from engines.connectome.tensor import build_tensor  # noqa: E402


# tensorly's masked MU is ~30x slower than unmasked: the masked comparison stays at this size
MASKED_SIZES = (30, 10, 1225)


def planted_tensor(n_windows, n_worms, n_pairs, rank, seed=0):
    rng = np.random.default_rng(seed)
    factors = [rng.uniform(size=(n, rank)) ** 2 for n in (n_windows, n_worms, n_pairs)]
    clean = np.einsum("ir,jr,kr->ijk", *factors)
    return clean * (1 + 0.1 * rng.standard_normal(clean.shape)).clip(0)


def bench_ntf(sizes, rank, max_iter, repeats):
    tensor = planted_tensor(*sizes, rank)
    hals = {}

    def run_hals():
        hals["result"], _ = fit_ntf(tensor, None, rank, seed=0, tol=1e-5, max_iter=max_iter)

    def run_mu():
        hals["mu"] = non_negative_parafac(tensor, rank, n_iter_max=max_iter, init="random", tol=1e-6,
                                          random_state=0, return_errors=True)

    t_hals, t_mu = median_time(run_hals, repeats), median_time(run_mu, repeats)
    err_mu = float(hals["mu"][1][-1])
    label = f"{sizes[2]} pairs x {sizes[0]} windows x {sizes[1]} worms, rank {rank}"
    return [Row(f"NTF time ({label})", t_hals, "s", f"tensorly {tensorly.__version__} MU", t_mu,
                "< 15 s" if sizes == (60, 20, 4950) else None, t_hals < 15 if sizes == (60, 20, 4950) else None),
            Row("NTF relative error", hals["result"].error, "", "tensorly MU", err_mu),
            Row(f"NTF sweeps to converge (max {max_iter})", float(hals["result"].n_iter), "sweeps",
                "tensorly MU", float(len(hals["mu"][1])))]


def bench_masked_ntf(sizes, rank, max_iter, missing=0.3):
    """One run each: EM-imputed HALS against tensorly MU's own mask support, 30% entries missing."""
    tensor = planted_tensor(*sizes, rank)
    mask = np.random.default_rng(1).uniform(size=tensor.shape) >= missing
    out = {}

    def run_hals():
        out["hals"], _ = fit_ntf(tensor, mask, rank, seed=0, tol=1e-5, max_iter=max_iter)

    def run_mu():
        cp = non_negative_parafac(tensor, rank, n_iter_max=max_iter, init="random", tol=1e-6,
                                  random_state=0, mask=mask)
        residual = (tensor - tensorly.cp_to_tensor(cp))[mask]
        out["mu"] = float(np.linalg.norm(residual) / np.linalg.norm(tensor[mask]))

    t_hals, t_mu = median_time(run_hals, 1), median_time(run_mu, 1)
    label = f"{sizes[2]} x {sizes[0]} x {sizes[1]}, {int(missing * 100)}% masked, rank {rank}"
    return [Row(f"masked NTF time ({label})", t_hals, "s", "tensorly MU with mask", t_mu),
            Row(f"masked NTF error on observed entries ({label})", out["hals"].error, "",
                "tensorly MU with mask", out["mu"])]


def bench_tensor(n_worms, n_neurons, n_samples, repeats):
    rng = np.random.default_rng(0)
    traces = [rng.standard_normal((n_samples, n_neurons)).astype(np.float32) for _ in range(n_worms)]
    names = [f"N{k}" for k in range(n_neurons)]
    rows = []
    for affinity in ("correlation", "kernel", "mutual_information"):
        t = median_time(lambda: build_tensor(traces, names, 0.333, window_s=30.0, step_s=10.0,
                                             affinity=affinity), repeats)
        full = (n_worms, n_neurons, n_samples) == (20, 100, 1600)
        rows.append(Row(f"tensor build, {affinity} ({n_worms} worms x {n_neurons} neurons x {n_samples})",
                        t, "s", target="< 10 s" if full else None, met=(t < 10) if full else None))
    return rows


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    if args.quick:
        sizes, rank, max_iter, repeats, build = (30, 10, 1225), 5, 100, 1, (10, 50, 800)
    else:
        sizes, rank, max_iter, repeats, build = (60, 20, 4950), 10, 200, 3, (20, 100, 1600)
    start = time.perf_counter()
    rows = (bench_ntf(sizes, rank, max_iter, repeats) + bench_masked_ntf(MASKED_SIZES, 5, max_iter)
            + bench_tensor(*build, repeats))
    notes = [f"one BLAS thread, seed 0, median of {repeats} run(s); planted rank-{rank} tensor with 10% "
             f"multiplicative noise; both solvers: random init, max {max_iter} iterations; stop: lab when the "
             "error changes by < 1e-5 of itself (~1e-6 at error 0.1), tensorly MU when it changes by < 1e-6",
             "tensor: 30 s windows every 10 s at dt 0.333 s, white-noise traces",
             f"total benchmark time {time.perf_counter() - start:.1f} s"]
    report(rows, args, "Dynamic connectome: NTF and affinity tensor", notes)


if __name__ == "__main__":
    main()
