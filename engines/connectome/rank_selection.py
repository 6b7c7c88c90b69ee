"""Rank diagnostics from several restarts per rank, and a recommended rank with its reason.

For each rank: the best restart's reconstruction error, its core consistency (CORCONDIA,
tlviz; near 100 means a trilinear model fits, low or negative means too many components), and the
mean factor match score (tlviz) between the best restart and the others (near 1 means the
restarts agree, so the components are not an accident of initialisation).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from tlviz.factor_tools import factor_match_score
from tlviz.model_evaluation import core_consistency

from engines.connectome.ntf import NTFResult, fit_ntf


def fit_and_score(values: np.ndarray, mask: np.ndarray | None, rank: int, restart: int, seed: int = 0,
                  tol: float = 1e-5, max_iter: int = 300) -> dict:
    """One (rank, restart) job: fit and core consistency; a plain function so dask can ship it."""
    result, imputed = fit_ntf(values, mask, rank, seed=seed + 1000 * rank + restart, tol=tol, max_iter=max_iter)
    corcondia = float(core_consistency(result.cp_tensor, imputed))
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
