import numpy as np
import pytest
from tlviz.factor_tools import factor_match_score
from tlviz.model_evaluation import core_consistency

from engines.connectome.ntf import NTFRunner, fit_ntf
from engines.connectome.sweep import run_sweep


def _low_rank(rng, shape=(30, 6, 80), rank=3):
    factors = [rng.uniform(0, 1, size=(n, rank)) ** 2 for n in shape]
    return np.einsum("ir,jr,kr->ijk", *factors), factors


def test_masked_hals_recovers_planted_factors_and_ignores_masked_values():
    rng = np.random.default_rng(0)
    tensor, factors = _low_rank(rng)
    mask = rng.uniform(size=tensor.shape) > 0.3
    corrupted = np.where(mask, tensor, 50.0)        # garbage where unobserved must not matter
    result, _ = fit_ntf(corrupted, mask, rank=3, seed=1, tol=1e-9, max_iter=500)
    assert result.error < 0.01
    assert factor_match_score((np.ones(3), factors), result.cp_tensor) > 0.98


def test_runner_advances_in_steps_and_snapshots_are_copies():
    rng = np.random.default_rng(1)
    tensor, _ = _low_rank(rng)
    runner = NTFRunner(tensor, None, rank=3, seed=0, tol=0, max_iter=40)
    runner.step(5)
    first = runner.snapshot()
    runner.step(20)
    assert runner.n_iter == 25 and first.n_iter == 5
    assert runner.errors[-1] < first.errors[-1]
    first.factors[0][:] = -1                         # mutating a snapshot leaves the runner alone
    assert np.all(runner.snapshot().factors[0] >= 0)
    assert np.all(np.diff(first.weights) <= 0)       # components sorted by weight


def test_fit_is_deterministic_and_stoppable():
    rng = np.random.default_rng(2)
    tensor, _ = _low_rank(rng)
    a, _ = fit_ntf(tensor, None, 3, seed=4)
    b, _ = fit_ntf(tensor, None, 3, seed=4)
    assert np.allclose(a.factors[2], b.factors[2])
    stopped, _ = fit_ntf(tensor, None, 3, seed=4, tol=0, max_iter=1000, should_stop=lambda: True)
    assert stopped.n_iter == 0


def test_rank_sweep_recommends_the_planted_rank():
    rng = np.random.default_rng(3)
    tensor, _ = _low_rank(rng, rank=3)
    noisy = tensor * (1 + 0.05 * rng.standard_normal(tensor.shape)).clip(0)  # no offset component
    seen = []
    sweep = run_sweep(noisy, None, ranks=[2, 3, 4, 5], n_restarts=3, executor="serial",
                      progress=lambda f, m: seen.append(f))
    assert sweep.recommended_rank == 3, sweep.summary
    assert "rank 3" in sweep.reason
    assert len(sweep.fits) == 12 and seen[-1] == 1.0
    row = sweep.summary.set_index("rank")
    assert row.loc[3, "factor_match_score"] > 0.95 and row.loc[5, "core_consistency"] < 50
    assert sweep.best(3).error == row.loc[3, "error"]


# ---- core consistency on the observed entries only ----------------------------------------------
def _planted_rank_two(seed=0, missing=0.5):
    rng = np.random.default_rng(seed)
    A, B, C = (rng.uniform(0, 1, (n, 2)) for n in (20, 6, 80))
    values = np.einsum("ir,jr,kr->ijk", A, B, C)
    values = np.clip(values + 0.1 * values.std() * rng.standard_normal(values.shape), 0, None)
    return values, rng.uniform(size=values.shape) > missing


def test_half_missing_data_no_longer_inflates_an_over_fitted_rank():
    from engines.connectome.rank_selection import fit_and_score, recommend_rank, summarise
    values, mask = _planted_rank_two()
    over_fitted, imputed = fit_ntf(values, mask, 3, seed=1)
    assert core_consistency(over_fitted.cp_tensor, imputed) > 50          # on the imputed tensor: passes the bar
    fits = [fit_and_score(values, mask, rank, restart) for rank in (2, 3) for restart in range(2)]
    summary = summarise(fits).set_index("rank")
    assert summary.loc[3, "core_consistency"] < 0 and summary.loc[2, "core_consistency"] > 90
    assert recommend_rank(summary.reset_index())[0] == 2


def test_observed_core_consistency_matches_tlviz_when_nothing_is_missing_and_cg_matches_lstsq(monkeypatch):
    import engines.connectome.rank_selection as selection
    values, mask = _planted_rank_two(seed=2, missing=0.3)
    for rank in (2, 3):
        result, _ = fit_ntf(values, None, rank, seed=1)
        full = np.ones(values.shape, bool)
        assert selection.observed_core_consistency(result.cp_tensor, values, full) == pytest.approx(
            core_consistency(result.cp_tensor, values))
        with_gram = selection.observed_core_consistency(result.cp_tensor, values, mask)
        monkeypatch.setattr(selection, "GRAM_MAX_RANK", 0)   # conjugate gradients instead
        assert selection.observed_core_consistency(result.cp_tensor, values, mask) == pytest.approx(with_gram, abs=1e-3)
        monkeypatch.setattr(selection, "GRAM_MAX_RANK", 10)
