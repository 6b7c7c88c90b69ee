"""Rank diagnostics from several restarts per rank, and a recommended rank with its reason.

For each rank: the best restart's reconstruction error, its core consistency (CORCONDIA, Bro &
Kiers 2003; near 100 means a trilinear model fits, low or negative means too many components),
and the mean factor match score (tlviz) between the best restart and the others (near 1 means the
restarts agree, so the components are not an accident of initialisation).

Core consistency is computed on the observed entries only. The fit imputes missing entries with
its own reconstruction, so a core estimated on the imputed tensor partly measures the model
against itself: with half the entries missing an over-fitted rank looks trilinear. Here the
Tucker core given the CP factors is the least-squares fit to the observed entries alone
(``observed_core``); with nothing missing it is tlviz's ``core_consistency``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from tlviz.factor_tools import factor_match_score
from tlviz.model_evaluation import core_consistency

from engines.connectome.ntf import NTFResult, fit_ntf


GRAM_MAX_RANK = 10   # up to here the R^3 x R^3 normal equations are formed; above, conjugate gradients


def _tucker(core: np.ndarray, A, B, C) -> np.ndarray:
    return np.einsum("ip,pjk->ijk", A, np.einsum("pqk,jq->pjk", np.einsum("pqr,kr->pqk", core, C), B))


def _tucker_adjoint(tensor: np.ndarray, A, B, C) -> np.ndarray:
    return np.einsum("pqk,kr->pqr", np.einsum("pjk,jq->pqk", np.einsum("ijk,ip->pjk", tensor, A), B), C)


def observed_core(factors, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The Tucker core G minimising the squared error of [[G; A, B, C]] on observed entries only."""
    A, B, C = (np.asarray(f, dtype=np.float64) for f in factors)
    rank = A.shape[1]
    weight = np.asarray(mask, dtype=np.float64)
    rhs = _tucker_adjoint(np.where(mask, values, 0.0), A, B, C).ravel()
    if rank <= GRAM_MAX_RANK:  # normal equations, contracted one mode at a time
        CC = np.einsum("kr,ks->krs", C, C).reshape(len(C), rank * rank)
        Z = (weight.reshape(-1, len(C)) @ CC).reshape(len(A), len(B), rank, rank)
        Y = np.einsum("ijrs,jq,jt->iqtrs", Z, B, B)
        gram = np.einsum("iqtrs,ip,iu->pqrust", Y, A, A).reshape(rank ** 3, rank ** 3)
        return np.linalg.lstsq(gram, rhs, rcond=None)[0].reshape(rank, rank, rank)
    from scipy.sparse.linalg import LinearOperator, cg
    normal = LinearOperator((rank ** 3, rank ** 3), dtype=np.float64, matvec=lambda g: _tucker_adjoint(
        weight * _tucker(g.reshape(rank, rank, rank), A, B, C), A, B, C).ravel())
    # from zero, CG on the normal equations tends to the minimum-norm solution, as lstsq gives
    return cg(normal, rhs, maxiter=1000, rtol=1e-10)[0].reshape(rank, rank, rank)


def observed_core_consistency(cp_tensor, values: np.ndarray, mask: np.ndarray | None) -> float:
    """Core consistency (Bro & Kiers 2003, not normalised) of ``cp_tensor`` on the observed entries."""
    weights, factors = cp_tensor
    factors = [np.asarray(factors[0]) * np.asarray(weights).reshape(1, -1), *factors[1:]]
    if mask is None or np.all(mask):
        return float(core_consistency((None, factors), values))
    rank = factors[0].shape[1]
    core = observed_core(factors, values, mask)
    identity = np.zeros((rank,) * 3)
    np.einsum("iii->i", identity)[:] = 1.0
    return float(100 - 100 * np.sum((core - identity) ** 2) / rank)


def fit_and_score(values: np.ndarray, mask: np.ndarray | None, rank: int, restart: int, seed: int = 0,
                  tol: float = 1e-5, max_iter: int = 300) -> dict:
    """One (rank, restart) job: fit and core consistency; a plain function so dask can ship it."""
    result, _imputed = fit_ntf(values, mask, rank, seed=seed + 1000 * rank + restart, tol=tol, max_iter=max_iter)
    corcondia = observed_core_consistency(result.cp_tensor, values, mask)
    return {"rank": rank, "restart": restart, "error": result.error, "n_iter": result.n_iter,
            "converged": result.converged, "core_consistency": corcondia, "result": result}


def _stability(results: Sequence[NTFResult]) -> tuple[int, float]:
    """Index of the best restart and the mean factor match score of the others against it."""
    best = int(np.argmin([r.error for r in results]))
    scores = [factor_match_score(results[best].cp_tensor, r.cp_tensor)
              for k, r in enumerate(results) if k != best]
    return best, float(np.mean(scores)) if scores else float("nan")


def summarise(fits: Sequence[dict]) -> pd.DataFrame:
    """One row per rank: best error, core consistency of the best fit, mean FMS across restarts."""
    rows = []
    for rank in sorted({f["rank"] for f in fits}):
        of_rank = sorted((f for f in fits if f["rank"] == rank), key=lambda f: f["restart"])
        best, fms = _stability([f["result"] for f in of_rank])
        rows.append({"rank": rank, "n_restarts": len(of_rank), "best_restart": of_rank[best]["restart"],
                     "error": of_rank[best]["error"], "core_consistency": of_rank[best]["core_consistency"],
                     "factor_match_score": fms})
    return pd.DataFrame(rows)


def recommend_rank(summary: pd.DataFrame, min_core_consistency: float = 50.0,
                   min_fms: float = 0.85) -> tuple[int, str]:
    """The largest rank whose best fit is trilinear enough and reproducible across restarts."""
    ok = summary[(summary.core_consistency >= min_core_consistency)
                 & ((summary.factor_match_score >= min_fms) | summary.factor_match_score.isna())]
    if len(ok):
        row = ok.sort_values("rank").iloc[-1]
        return int(row["rank"]), (
            f"rank {int(row['rank'])} is the largest with core consistency >= {min_core_consistency:g} "
            f"({row.core_consistency:.0f}) and factor match score between restarts >= {min_fms:g} "
            f"({row.factor_match_score:.2f}); error {row.error:.3f}")
    row = summary.sort_values(["factor_match_score", "rank"], ascending=[False, True]).iloc[0]
    return int(row["rank"]), (
        f"no rank met core consistency >= {min_core_consistency:g} and FMS >= {min_fms:g}; rank "
        f"{int(row['rank'])} has the most reproducible components (FMS {row.factor_match_score:.2f})")
