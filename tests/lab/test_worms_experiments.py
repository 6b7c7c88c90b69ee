"""The worm room's experiments (lab/experiments/worms.py): each runs at its smoke size, measures what its
figure needs, and its verdict is its rule applied to those numbers; the rules can come out either way;
the settings are values the room accepts; the exported script prints the same verdict."""
import subprocess
import sys

import numpy as np
import pandas as pd
import panel as pn
import pytest

from engines.worms.analysis import auc
from lab.experiments import worms as declared
from lab.experiments.__main__ import main as experiments_cli
from lab.experiments.registry import find_experiment, room_experiments
from lab.experiments.report import verdict_line
from lab.experiments.runner import run_experiment

IDS = ["low-dimensional-brain", "velocity-neurons", "anatomy-weakly"]


@pytest.fixture(scope="module")
def smoke_runs():
    return {e.id: run_experiment(e, "smoke")[0] for e in room_experiments("worms")}


def test_the_room_lists_its_three_experiments():
    assert [e.id for e in room_experiments("worms")] == IDS


@pytest.mark.parametrize("experiment_id", IDS)
def test_the_settings_are_values_the_room_accepts(experiment_id):
    from lab.worms import WormRoom
    experiment = find_experiment(experiment_id)
    room = WormRoom()
    room.param.update(**experiment.settings)
    assert {name: getattr(room, name) for name in experiment.settings} == experiment.settings
    assert {name: room.param[name].default for name in declared.ROOM_DEFAULT} == declared.ROOM_DEFAULT


def test_low_dimensional_brain_measures_both_signals_and_judges_by_its_rule(smoke_runs):
    rows = smoke_runs["low-dimensional-brain"].table()
    table = rows[rows["PCs"].notna()]                                   # the variance rows
    verdict = smoke_runs["low-dimensional-brain"].verdict
    assert {"worm", "signal", "PCs", "variance explained", "state separation", "seed"} <= set(table.columns)
    assert set(table["signal"]) == {"traces", "derivatives"}
    assert sorted(set(table["PCs"])) == list(range(1, declared.MAX_PCS + 1))
    assert table["variance explained"].between(0, 1).all()
    for _, part in table.groupby(["worm", "signal"]):
        assert np.all(np.diff(part.sort_values("PCs")["variance explained"]) >= 0)   # cumulative
    three = table[table["PCs"] == 3].groupby("signal")[["variance explained", "state separation"]].mean()
    assert verdict.numbers["pc1_3_traces"] == pytest.approx(three.loc["traces", "variance explained"])
    assert verdict.numbers["separation_derivatives"] == pytest.approx(three.loc["derivatives", "state separation"])
    expected = (three.loc["traces", "variance explained"] >= declared.LOW_DIMENSIONAL
                and three.loc["derivatives", "state separation"] >= declared.SEPARATED)
    assert verdict.reproduced == expected


def _pca_table(share, separation):
    return pd.DataFrame([{"worm": "w", "seed": 0, "signal": s, "PCs": 3, "variance explained": share,
                          "state separation": separation if s == "derivatives" else 0.5}
                         for s in ("traces", "derivatives")])


def test_low_dimensional_brain_draws_the_first_worms_state_space_coloured_by_behaviour(smoke_runs):
    from views.experiments import figures_element
    experiment = find_experiment("low-dimensional-brain")
    rows = smoke_runs["low-dimensional-brain"].table()
    states = rows.dropna(subset=["PC 1", "PC 2"])
    assert set(states["worm"]) == {rows["worm"].iloc[0]} and set(states["seed"]) == {0}
    assert set(states["behaviour"]) == {"forward", "reversal"} and states["PCs"].isna().all()
    curves, space = figures_element(experiment, rows).values()
    drawn = {layer.label: len(layer) for layer in space.values()}
    assert drawn == states["behaviour"].value_counts().to_dict()                 # a colour per behaviour
    assert [e.kind for e in experiment.figures] == ["line", "scatter"] and len(curves) == 2 * 3   # band, line, dots


def test_the_low_dimensional_rule_fails_when_states_mix_or_variance_spreads():
    assert declared.few_modes_carry_behaviour(_pca_table(0.5, 0.9))["observed"] == "states"
    mixed = declared.few_modes_carry_behaviour(_pca_table(0.5, 0.6))
    assert not mixed["reproduced"] and mixed["observed"] == "modes-only"
    spread = declared.few_modes_carry_behaviour(_pca_table(0.2, 0.9))
    assert not spread["reproduced"] and spread["observed"] == "high-dimensional"


def test_velocity_neurons_measures_every_recorded_neuron_and_judges_by_its_rule(smoke_runs):
    table, verdict = smoke_runs["velocity-neurons"].table(), smoke_runs["velocity-neurons"].verdict
    assert {"worm", "neuron", "r with velocity", "command loading", "command share", "truth"} <= set(table.columns)
    assert table["r with velocity"].between(-1, 1).all() and table["command share"].between(0, 1).all()
    assert set(table["truth"]) == {"velocity neuron", "other"}
    aucs = [auc(part["r with velocity"].abs(), part["truth"] == "velocity neuron")
            for _, part in table.groupby(["seed", "worm"])]
    assert verdict.numbers["mean_auc"] == pytest.approx(np.mean(aucs))
    assert verdict.reproduced == (np.mean(aucs) >= declared.RECOVERS)


def test_the_velocity_rule_fails_when_correlation_ranks_at_chance():
    rows = [{"seed": 0, "worm": "w", "r with velocity": r, "truth": t}
            for r, t in ((0.9, "other"), (0.1, "velocity neuron"), (0.8, "velocity neuron"), (0.05, "other"))]
    result = declared.correlation_finds_velocity_neurons(pd.DataFrame(rows))
    assert not result["reproduced"] and result["observed"] == "no" and result["numbers"]["mean_auc"] == 0.5


def test_anatomy_weakly_measures_partner_and_other_pairs_and_judges_by_its_rule(smoke_runs):
    table, verdict = smoke_runs["anatomy-weakly"].table(), smoke_runs["anatomy-weakly"].verdict
    assert {"worm", "pairs", "mean |r|", "difference", "null 95%", "AUC"} <= set(table.columns)
    assert set(table["pairs"]) == {"partners", "non-partners"} and table["mean |r|"].between(0, 1).all()
    worms = table.drop_duplicates(["seed", "worm"])
    wide = table.pivot_table(index=["seed", "worm"], columns="pairs", values="mean |r|")
    assert np.allclose(wide["partners"] - wide["non-partners"], worms.set_index(["seed", "worm"])["difference"])
    expected = bool((worms["difference"] > worms["null 95%"]).all()) and worms["AUC"].mean() <= declared.WEAK
    assert verdict.reproduced == expected


def _anatomy_table(difference, null, auc_value):
    return pd.DataFrame([{"seed": 0, "worm": "w", "pairs": p, "mean |r|": m, "difference": difference,
                          "null 95%": null, "AUC": auc_value}
                         for p, m in (("partners", 0.3 + difference), ("non-partners", 0.3))])


def test_the_anatomy_rule_separates_weak_strong_and_none():
    assert declared.anatomy_predicts_weakly(_anatomy_table(0.05, 0.01, 0.56))["observed"] == "weak"
    strong = declared.anatomy_predicts_weakly(_anatomy_table(0.3, 0.01, 0.85))
    assert not strong["reproduced"] and strong["observed"] == "strong"
    none = declared.anatomy_predicts_weakly(_anatomy_table(0.005, 0.01, 0.51))
    assert not none["reproduced"] and none["observed"] == "none"


@pytest.mark.parametrize("experiment_id", IDS)
def test_the_exported_script_prints_the_same_verdict(experiment_id, smoke_runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert experiments_cli(["export", experiment_id, "--size", "smoke"]) == 0
    script = (tmp_path / f"{experiment_id}.py").read_text()
    assert "import lab" not in script and "from lab" not in script
    out = subprocess.run([sys.executable, f"{experiment_id}.py"], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    verdict = smoke_runs[experiment_id].verdict
    assert out.stdout.strip().splitlines()[-1] == verdict_line({"reproduced": verdict.reproduced,
                                                                "summary": verdict.summary})


def test_an_experiment_from_the_url_opens_the_rooms_experiments_tab():
    from lab.worms import WormRoom
    from views.worms.room import EXPERIMENTS_TAB, TABS, WormsRoomView
    model = WormRoom()
    view = WormsRoomView(model)
    assert view.tabs.active == 0 and TABS[EXPERIMENTS_TAB] == "Experiments"
    model.experiment = "velocity-neurons"                     # what the shell does for ?experiment=...
    assert view.tabs.active == EXPERIMENTS_TAB
    panel = view._tabs["Experiments"]
    assert panel.chooser.value == "velocity-neurons" and panel.run_button.disabled   # predict first
    view._changed(set(TABS[1:]))                               # a new recording leaves the tab as it is
    assert view._tabs["Experiments"] is panel
    view.tabs.active = 0
    layout = view.__panel__()                                  # the link under the room's introduction
    link = next(w for w in layout.select(pn.widgets.Button) if "worms-to-experiments" in w.css_classes)
    link.clicks += 1
    assert view.tabs.active == EXPERIMENTS_TAB
    view.close()


# ---- experiment 8 on the recording loaded in the room --------------------------------------------

def planted_csv(with_behaviour: bool, n_neurons=40, n_time=800, dt=0.6, seed=1) -> bytes:
    """A plain-CSV recording whose neurons mix three slow latents (calcium-like, 2 s) plus a little
    noise: PCs 1-3 carry nearly all of its variance. One latent follows reversals planted every 27 s."""
    from engines.worms import CANONICAL_NEURONS
    rng = np.random.default_rng(seed)
    t = np.arange(n_time) * dt
    reversal = np.zeros(n_time)
    for start in range(30, n_time - 20, 45):
        reversal[start:start + 10] = 1.0
    drives = np.stack([reversal, np.sin(2 * np.pi * t / 97), np.sign(np.sin(2 * np.pi * t / 151))])
    latents = np.zeros_like(drives)
    for k in range(1, n_time):
        latents[:, k] = latents[:, k - 1] + dt / 2.0 * (drives[:, k - 1] - latents[:, k - 1])
    traces = latents.T @ rng.normal(size=(3, n_neurons)) + 0.05 * rng.normal(size=(n_time, n_neurons))
    frame = pd.DataFrame({"time": t, **{name: traces[:, i] for i, name in enumerate(CANONICAL_NEURONS[:n_neurons])}})
    if with_behaviour:
        frame["behaviour:reversal_vec"] = reversal
        frame["behaviour:velocity"] = 0.1 - 0.2 * reversal
    return frame.to_csv(index=False).encode()


def _run_in_room(room, experiment_id="low-dimensional-brain", prediction="states"):
    from tests.lab import polling
    from views.experiments import ExperimentsPanel
    panel = ExperimentsPanel(room, room_experiments("worms"))
    room.experiment = experiment_id
    panel.predictions.value = prediction
    panel.session.size = "smoke"
    panel.session.run()
    polling.wait_for(lambda: panel.session.verdict is not None or panel.session.task.state == "failed", timeout=120)
    assert panel.session.task.state == "finished", panel.session.task.error
    polling.wait_for(lambda: panel.verdict.object, timeout=30)                # drawn on the next redraw
    return panel


def test_low_dimensional_brain_runs_on_the_recording_loaded_in_the_room():
    from lab.worms import WormRoom
    room = WormRoom()
    room.load_upload([("planted.csv", planted_csv(with_behaviour=True))])
    panel = _run_in_room(room)
    table, verdict = pd.DataFrame(panel.session.rows), panel.session.verdict
    assert set(table["worm"]) == {"planted"} and set(table["seed"]) == {0}      # one job: that recording
    assert set(table["source"]) == {"recording on show"}
    assert set(table["behaviour labels"].dropna()) == {"forward/reversal"}
    assert table["PCs"].notna().sum() == 2 * declared.MAX_PCS
    states = table.dropna(subset=["PC 1"])                                     # its state space, coloured
    assert len(states) == 400 and set(states["behaviour"]) == {"forward", "reversal"}
    assert states["behaviour"].eq("reversal").mean() == pytest.approx(17 * 10 / 800, abs=0.02)   # the planted reversals
    assert verdict.numbers["pc1_3_traces"] > 0.95                             # the planted 3 latents
    assert not verdict.untested and 0.0 <= verdict.numbers["separation_derivatives"] <= 1.0
    assert verdict.reproduced == (verdict.numbers["separation_derivatives"] >= declared.SEPARATED)
    assert "planted" in panel.session.runs_on and "planted" in panel.verdict.object
    assert room.dataset == "upload: planted.csv" and room.recording.name == "planted"   # the room carries on
    room.close()


def test_without_behaviour_labels_the_verdict_says_the_colouring_is_untested():
    from lab.worms import WormRoom
    room = WormRoom()
    room.load_upload([("planted.csv", planted_csv(with_behaviour=False))])
    panel = _run_in_room(room)
    verdict = panel.session.verdict
    assert verdict.numbers["pc1_3_traces"] > 0.95                             # the PCA part still runs
    assert set(pd.DataFrame(panel.session.rows)["behaviour"].dropna()) == {"not labelled"}
    assert verdict.word == "partly tested" and not verdict.reproduced and verdict.observed == ""
    assert "no forward/reversal labels" in verdict.summary and "colouring" in verdict.summary
    assert "Partly tested" in panel.verdict.object and "Not tested on these data" in panel.verdict.object
    assert "You predicted" not in panel.verdict.object                          # nothing to hold it against
    room.close()


def test_the_low_dimensional_rule_without_labels_still_fails_a_high_dimensional_recording():
    table = _pca_table(0.2, float("nan")).assign(**{"behaviour labels": "none"})
    result = declared.few_modes_carry_behaviour(table)
    assert not result["reproduced"] and result["observed"] == "high-dimensional" and not result["untested"]
    assert verdict_line(result).startswith("verdict: not reproduced")


def test_the_simulated_default_in_the_room_runs_the_experiments_own_worms():
    class ShowsSimulated:
        raw_recording = None
    assert declared.recording_on_show(ShowsSimulated()) is None


def test_low_dimensional_brain_on_a_real_flavell_recording(shared_data_folder):
    from lab.worms import WormRoom
    room = WormRoom(sim_worms=1, sim_duration_s=60.0)
    room.start()
    room.dataset = next(d for d in room.param.dataset.objects if d.startswith("flavell2023"))
    assert not room.recording.simulated
    panel = _run_in_room(room)
    table, verdict = pd.DataFrame(panel.session.rows), panel.session.verdict
    assert set(table["worm"]) == {room.worm} and room.worm in panel.session.runs_on
    assert set(table["behaviour labels"].dropna()) == {"forward/reversal"} and not verdict.untested
    share, separation = verdict.numbers["pc1_3_traces"], verdict.numbers["separation_derivatives"]
    assert 0.0 < share < 1.0 and 0.0 <= separation <= 1.0
    assert verdict.reproduced == (share >= declared.LOW_DIMENSIONAL and separation >= declared.SEPARATED)
    room.close()


# ---- experiment 9 drawn at the neurons' positions ------------------------------------------------

def test_velocity_rows_carry_each_neurons_atlas_position(smoke_runs):
    from engines.worms import neuron_positions
    table = smoke_runs["velocity-neurons"].table()
    atlas = neuron_positions().loc[table["neuron"], ["x", "y", "z"]].to_numpy()
    assert np.allclose(table[["x", "y", "z"]].to_numpy(), atlas)


def _points(view):
    return pd.concat([layer.data for layer in view.values()], ignore_index=True)


def test_the_velocity_figure_draws_each_neuron_at_its_position_coloured_by_its_mean_r(smoke_runs):
    from views.experiments import figure_element
    experiment = find_experiment("velocity-neurons")
    table = smoke_runs["velocity-neurons"].table().copy()
    unplaced = table["neuron"].isin(table["neuron"].iloc[:2])          # as if the atlas lacked two neurons
    table.loc[unplaced, ["x", "y", "z"]] = np.nan
    side, top, note = figure_element(experiment.figure, table).values()
    mean_r = table.groupby("neuron")["r with velocity"].mean()
    for view, (across, up) in ((side, ("y", "z")), (top, ("y", "x"))):
        points = _points(view).set_index("neuron")
        placed = table[~unplaced].groupby("neuron")[["x", "y", "z"]].first()
        assert sorted(points.index) == sorted(placed.index)                 # the unplaced are not drawn
        assert np.allclose(points[[across, up]], placed.loc[points.index, [across, up]])
        assert np.allclose(points["r with velocity"], mean_r.loc[points.index])
        assert not ((points[across] == 0) & (points[up] == 0)).any()
    assert all(name in note.data for name in table.loc[unplaced, "neuron"].unique())
    velocity = table.groupby("neuron")["truth"].first() == "velocity neuron"
    assert set(side.values()[1].data["neuron"]) == set(velocity[velocity].index) - set(table.loc[unplaced, "neuron"])


def test_the_velocity_figure_prints_each_neuron_with_its_position(smoke_runs):
    from lab.experiments.report import figure_summary
    table = smoke_runs["velocity-neurons"].table()
    lines = figure_summary(table, "anatomy", "neuron", "r with velocity", "truth").splitlines()
    strongest = table.groupby("neuron")["r with velocity"].mean().idxmax()
    assert lines[0].split()[:5] == ["r", "with", "velocity", "x", "y"] and lines[2].split()[0] == strongest


def test_running_velocity_neurons_colours_the_rooms_3d_view_by_r_with_velocity():
    from engines.worms.activity import correlation_with
    from lab.worms import WormRoom
    room = WormRoom()
    room.load_upload([("planted.csv", planted_csv(with_behaviour=True))])
    assert room.colour_by == "activity"
    panel = _run_in_room(room, "velocity-neurons", prediction="recovered")
    assert panel.session.runs_on == ""                       # measured on its own simulated worms
    values, label = room.neuron_values()                     # what the 3D anatomy tab draws
    assert room.colour_by == "correlation" and label == "r with velocity"
    rec = room.recording
    assert np.allclose(values.to_numpy(), correlation_with(rec.traces, rec.behaviour["velocity"]), equal_nan=True)
    room.close()
