"""The reservoir's experiments in its room: settings the room accepts and the runs use, and a run
from the room's Experiments tab to its verdict."""
import pytest

from lab.experiments.registry import find_experiment, room_experiments
from lab.reservoir import ReservoirRoom
from tests.lab import polling
from views.reservoir.room import EXPERIMENTS_TAB, ReservoirRoomView

EXPERIMENTS = room_experiments("reservoir")
NETWORK_FIELDS = ("n", "in_degree", "gain", "input_scale", "frac_excitatory")


def test_the_room_has_its_four_experiments():
    assert [e.id for e in EXPERIMENTS] == ["balance-memory", "adaptation-flattens", "heterogeneous-targets",
                                           "connectome-reservoir"]


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.id)
def test_each_experiment_sets_values_the_room_accepts(experiment):
    room = ReservoirRoom()
    room.param.update(**experiment.settings)       # names and values the room's widgets can show
    assert {name: getattr(room, name) for name in experiment.settings} == experiment.settings
    room.reservoir_params(), room.adaptation_params()   # a valid network and targets


@pytest.mark.parametrize("experiment_id", ["balance-memory", "adaptation-flattens", "heterogeneous-targets"])
def test_the_quick_run_builds_the_network_the_room_shows(experiment_id, monkeypatch):
    """The random-network experiments: what Run puts in the room's widgets is what the run simulates."""
    import engines.reservoir.sweep as sweep
    built = []
    monkeypatch.setattr(sweep, "score_seed", lambda params, _g, _modes, _task, adaptation, *_: built.append(
        (params, adaptation)) or [])
    experiment = find_experiment(experiment_id)
    condition = experiment.conditions[-1]
    list(experiment.measure(dict(condition), 0, dict(experiment.sizes["quick"])))
    room = ReservoirRoom()
    room.param.update(**experiment.settings)
    params, adaptation = built[0]
    shown, targets = room.reservoir_params(), room.adaptation_params()
    assert {f: getattr(params, f) for f in NETWORK_FIELDS} == {f: getattr(shown, f) for f in NETWORK_FIELDS}
    assert (adaptation.target_low, adaptation.target_high) == (targets.target_low, targets.target_high)
    assert adaptation.targets == targets.targets or "targets" in condition   # a condition may vary them


def test_an_experiment_from_the_url_opens_its_tab_and_runs_to_its_verdict_in_the_room():
    model = ReservoirRoom(gain=20.0, adaptation="one-step")
    view = ReservoirRoomView(model)
    assert view.tabs.active == 0
    model.experiment = "balance-memory"                    # what the shell does for ?experiment=...
    assert view.tabs.active == EXPERIMENTS_TAB
    panel = view.panels["Experiments"]
    assert panel.chooser.value == "balance-memory" and panel.run_button.disabled   # predict first
    panel.predictions.value = "balanced"
    panel.session.size = "smoke"
    panel.session.run()
    assert model.gain == 10.0 and model.adaptation == "off" and model.n == 500   # the room's own settings
    polling.wait_for(lambda: "You predicted" in panel.verdict.object, timeout=120)
    assert panel.explanation.visible and panel.session.verdict.word in panel.verdict.object.lower()
    assert len(panel.session.rows) == 2 * 4                 # smoke: 2 seeds x 4 balances
    model.balance = 0.5                                    # the room carries on from there
    model.step()
    assert model.steps == 25 and model.reservoir.params.n == 500
    model.close()
