"""The dynamic connectome room's experiments (lab/experiments/connectome.py): each runs at its smoke
size, measures what its figure needs, and its verdict is its rule applied to those numbers; the
rules themselves can come out either way; the settings are values the room accepts."""
import numpy as np
import pandas as pd
import pytest

from lab.connectome import ConnectomeRoom
from lab.experiments import connectome as declared
from lab.experiments.registry import find_experiment, room_experiments
from lab.experiments.runner import run_experiment


@pytest.fixture(scope="module")
def smoke_runs():
    return {e.id: run_experiment(e, "smoke")[0] for e in room_experiments("connectome")}


def test_the_room_lists_its_three_experiments():
    assert [e.id for e in room_experiments("connectome")] == [
        "planted-modules", "lagged-coactivation", "stimulus-components"]


@pytest.mark.parametrize("experiment_id", ["planted-modules", "lagged-coactivation", "stimulus-components"])
def test_the_settings_are_values_the_room_accepts(experiment_id):
    experiment = find_experiment(experiment_id)
    room = ConnectomeRoom()
    room.param.update(**experiment.settings)
    assert {name: getattr(room, name) for name in experiment.settings} == experiment.settings
    room.close()


def test_planted_modules_measures_every_rank_and_coupling_and_judges_by_its_rule(smoke_runs):
    run = smoke_runs["planted-modules"]
    table, verdict = run.table(), run.verdict
    size = find_experiment("planted-modules").sizes["smoke"]
    assert len(table) == 3 * size["seeds"] * len(size["ranks"])
    assert table["factor match"].between(0, 1).all() and (table["planted rank"] == 4).all()
    numbers = verdict.numbers
    strongest = table[table.coupling == table.coupling.max()].groupby("rank")["factor match"].mean()
    assert numbers["match_at_planted_rank"] == pytest.approx(strongest[4])
    assert numbers["best_wrong_rank_match"] == pytest.approx(strongest.drop(4).max())
    planted_best = numbers["match_at_planted_rank"] > numbers["best_wrong_rank_match"]
    expected = planted_best and strongest.max() >= 0.7 and numbers["noise_drop"] >= 0.1
    assert verdict.reproduced == expected


def _recovery_table(matches, planted=4):
    """Rows as planted_recovery yields them: {coupling: {rank: match}}."""
    return pd.DataFrame([{"coupling": c, "seed": 0, "rank": r, "factor match": m, "planted rank": planted}
                         for c, by_rank in matches.items() for r, m in by_rank.items()])


def test_the_recovery_rule_fails_when_a_wrong_rank_matches_better_or_nothing_matches():
    good = declared.recovered_at_planted_rank(_recovery_table({1.5: {3: 0.5, 4: 0.8, 5: 0.7}, 0.6: {3: 0.3, 4: 0.4, 5: 0.4}}))
    assert good["reproduced"] and good["observed"] == "planted"
    any_rank = declared.recovered_at_planted_rank(_recovery_table({1.5: {3: 0.5, 4: 0.8, 5: 0.85}, 0.6: {3: 0.3, 4: 0.4, 5: 0.4}}))
    assert not any_rank["reproduced"] and any_rank["observed"] == "any-rank"
    never = declared.recovered_at_planted_rank(_recovery_table({1.5: {3: 0.5, 4: 0.6, 5: 0.5}, 0.6: {3: 0.3, 4: 0.4, 5: 0.4}}))
    assert not never["reproduced"] and never["observed"] == "never"
    noise_blind = declared.recovered_at_planted_rank(_recovery_table({1.5: {3: 0.5, 4: 0.8, 5: 0.7}, 0.6: {3: 0.5, 4: 0.75, 5: 0.6}}))
    assert not noise_blind["reproduced"] and noise_blind["observed"] == "planted"


def test_lagged_coactivation_measures_each_affinity_at_each_lag_and_judges_by_its_rule(smoke_runs):
    run = smoke_runs["lagged-coactivation"]
    table, numbers = run.table(), run.verdict.numbers
    lags = find_experiment("lagged-coactivation").sizes["smoke"]["max_lags_s"]
    assert set(table["affinity"]) == {"correlation", "kernel", "lag-tolerant kernel"}
    assert sorted(set(table["max lag (s)"])) == lags and table["module AUC"].between(0, 1).all()
    lagged = table[table["max lag (s)"] >= declared.LAG_TOLERANCE_S].groupby("affinity")["module AUC"].mean()
    assert numbers["lagged_kernel_auc"] == pytest.approx(lagged["lag-tolerant kernel"])
    assert numbers["lagged_correlation_auc"] == pytest.approx(lagged["correlation"])
    expected = (lagged["lag-tolerant kernel"] >= 0.7 > lagged["correlation"]
                and numbers["synchronous_correlation_auc"] >= 0.7)
    assert run.verdict.reproduced == expected


def _lag_table(aucs):
    """{affinity: {lag: auc}} as lagged_coactivation yields it."""
    return pd.DataFrame([{"affinity": a, "seed": 0, "max lag (s)": lag, "module AUC": v}
                         for a, by_lag in aucs.items() for lag, v in by_lag.items()])


def test_the_lag_rule_says_both_when_correlation_sees_the_lagged_modules_too():
    both = declared.kernel_sees_lags(_lag_table({"correlation": {0.0: 0.9, 9.0: 0.8}, "kernel": {0.0: 0.9, 9.0: 0.5},
                                                 "lag-tolerant kernel": {0.0: 0.8, 9.0: 0.8}}))
    assert not both["reproduced"] and both["observed"] == "both"
    neither = declared.kernel_sees_lags(_lag_table({"correlation": {0.0: 0.9, 9.0: 0.55}, "kernel": {0.0: 0.9, 9.0: 0.5},
                                                    "lag-tolerant kernel": {0.0: 0.8, 9.0: 0.6}}))
    assert not neither["reproduced"] and neither["observed"] == "neither"


def test_stimulus_components_measure_every_stimulus_and_judge_against_the_null(smoke_runs):
    run = smoke_runs["stimulus-components"]
    table = run.table()
    assert set(table["stimulus"]) == {"salt", "oxygen"} and set(table["affinity"]) == {"correlation", "kernel"}
    assert table["AUC"].between(0, 1).all() and table["null AUC (95%)"].between(0.5, 1).all()
    mean = table.groupby(["stimulus", "affinity"])[["AUC", "null AUC (95%)"]].mean()
    follows = (mean["AUC"] >= 0.75) & (mean["AUC"] > mean["null AUC (95%)"])
    assert run.verdict.reproduced == bool(follows.all())
    assert run.verdict.observed == ("all" if follows.all() else "some" if follows.any() else "none")


def test_the_stimulus_rule_fails_when_a_component_only_matches_the_null():
    rows = [{"affinity": "correlation", "seed": 0, "stimulus": s, "AUC": auc, "null AUC (95%)": 0.8}
            for s, auc in (("salt", 0.95), ("oxygen", 0.78))]
    result = declared.components_follow_stimuli(pd.DataFrame(rows))
    assert not result["reproduced"] and result["observed"] == "some"
    assert np.isclose(result["numbers"]["oxygen correlation AUC"], 0.78)


def test_an_experiment_from_the_url_opens_its_tab_and_runs_to_its_verdict_in_the_room():
    from tests.lab import polling
    from views.connectome.room import EXPERIMENTS_TAB, ConnectomeRoomView
    model = ConnectomeRoom(window_s=12.0, affinity="correlation")
    view = ConnectomeRoomView(model)
    assert view.tabs.active == 0
    model.experiment = "lagged-coactivation"                 # what the shell does for ?experiment=...
    assert view.tabs.active == EXPERIMENTS_TAB
    polling.wait_for(lambda: view._tabs[EXPERIMENTS_TAB].experiments is not None, timeout=60)
    panel = view._tabs[EXPERIMENTS_TAB].experiments
    assert panel.chooser.value == "lagged-coactivation" and panel.run_button.disabled   # predict first
    panel.predictions.value = "kernel"
    panel.session.run()
    assert (model.window_s, model.step_s, model.affinity, model.kernel_lag_s) == (30.0, 15.0, "kernel", 6.0)
    polling.wait_for(lambda: "You predicted" in panel.verdict.object, timeout=180)
    assert panel.session.verdict.word in panel.verdict.object.lower()
    size = find_experiment("lagged-coactivation").sizes["quick"]
    assert len(panel.session.rows) == 3 * size["seeds"] * len(size["max_lags_s"])
    polling.wait_for(lambda: not panel.session.task.is_alive)
    model.window_s = 20.0                                     # the room carries on from there
    model.factorise_after_build = False
    model.build()
    polling.wait_for(lambda: model.tensor is not None, timeout=180)
    assert model.tensor.window_s == 20.0 and model.tensor.affinity == "kernel"
    assert model.tensor.options["kernel_lag_s"] == 6.0          # the lag-tolerant kernel, as in the experiment
    model.close()


def test_the_stimulus_experiments_first_seed_is_the_fit_the_room_makes_with_its_settings():
    """'The room's settings after Run are this default': the room's own build gives the same AUCs."""
    from engines.connectome.components import best_profile_auc
    from engines.worms.simulate import simulate_collection
    from tests.lab import polling
    experiment = find_experiment("stimulus-components")
    size = experiment.sizes["quick"]
    rows = list(experiment.measure({"affinity": "correlation"}, 0, dict(size)))
    room = ConnectomeRoom()
    room.param.update(**experiment.settings)
    room.build()
    polling.wait_for(lambda: room.result is not None and not room.task.is_alive, timeout=300)
    _, truth = simulate_collection(n_worms=room.n_worms, duration_s=room.duration_s, dt=declared.SIMULATION_DT_S,
                                   seed=room.simulation_seed)
    start = room.tensor.window_start_s
    for row in rows:
        epochs = truth.stimulus_epochs[truth.stimulus_epochs.label == row["stimulus"]]
        during = np.any([(start < b) & (start + room.window_s > a) for a, b in zip(epochs.start_s, epochs.end_s)], axis=0)
        auc, _ = best_profile_auc(room.result.factors[0], during, size["n_shuffles"], 0)
        assert auc == pytest.approx(row["AUC"])
    room.close()


def test_the_stimulus_experiment_runs_on_the_rooms_defaults():
    from lab.connectome import aligned
    room = ConnectomeRoom()
    assert {name: room.param[name].default for name in declared.ROOM_DEFAULT} == declared.ROOM_DEFAULT
    assert declared.SIMULATION_DT_S == aligned.SIMULATION_DT_S
    room.close()
