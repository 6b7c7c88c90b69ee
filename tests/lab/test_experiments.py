"""The experiments framework: runs, verdicts from their own numbers, scripts, the command line."""
import json
import re
import subprocess
import sys
import time

import pytest

from lab.experiments.__main__ import main as experiments_cli
from lab.experiments.export import script_for
from lab.experiments.registry import all_experiments, find_experiment
from lab.experiments.report import verdict_line
from lab.experiments.runner import ExperimentRun, run_experiment
from lab.rooms import EXTRA_ROOMS_VARIABLE
from tests.browser.demo_room import DemoModel
from tests.lab import polling, toy_experiments
from views.experiments import ExperimentsPanel


def test_the_verdict_follows_the_rule_both_ways():
    fair, _ = run_experiment(toy_experiments.FAIR, "smoke")
    bent, _ = run_experiment(toy_experiments.BENT, "smoke")
    assert fair.verdict.reproduced and fair.verdict.observed == "fair"
    assert not bent.verdict.reproduced and bent.verdict.observed == "biased"
    assert len(bent.rows) == 2 * 2 * 3      # conditions x seeds x rounds
    assert set(bent.table().columns) >= {"bias", "seed", "round", "share of heads"}


def test_a_run_advances_one_row_at_a_time_and_judges_at_the_end():
    run = ExperimentRun(toy_experiments.FAIR, "smoke")
    assert run.step() == 0 and len(run.rows) == 1 and run.verdict is None
    assert [run.step() for _ in range(3)] == [0, 0, 1]     # 3 rounds, then the job is done
    while run.step() is not None:
        pass
    assert run.verdict is not None and run.jobs_done == run.total_jobs == 2


@pytest.mark.parametrize("experiment", all_experiments(), ids=lambda e: e.id)
def test_every_declared_experiment_runs_at_smoke_size_and_is_judged_from_its_rows(experiment):
    run, _ = run_experiment(experiment, "smoke")
    table = run.table()
    figure = experiment.figure
    assert not table.empty and {figure.x, figure.y} <= set(table.columns)
    again = experiment.judge(table)             # the verdict is the rule applied to these rows
    assert again["reproduced"] == run.verdict.reproduced and again["observed"] == run.verdict.observed
    assert experiment.prediction(run.verdict.observed) is not None
    assert set(experiment.settings) <= set(_room_parameters(experiment.room))


def _room_parameters(slug):
    """Parameters of the room's model class (lab/<room> exports it), without building one."""
    import importlib
    package = importlib.import_module(f"lab.{slug}")
    model = next(getattr(package, name) for name in package.__all__ if name.endswith("Room"))
    return list(model.param)


@pytest.mark.parametrize("experiment", all_experiments() + list(toy_experiments.EXPERIMENTS), ids=lambda e: e.id)
def test_the_exported_script_runs_without_the_lab_and_prints_the_same_verdict(experiment, tmp_path):
    script = script_for(experiment, "smoke")
    assert "import lab" not in script and "from lab" not in script
    path = tmp_path / f"{experiment.id}.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    run, _ = run_experiment(experiment, "smoke")
    expected = verdict_line({"reproduced": run.verdict.reproduced, "summary": run.verdict.summary})
    printed = out.stdout.strip().splitlines()[-1]
    if experiment.wall_clock:   # the same measurements, their values within timing noise
        assert printed.startswith("verdict: ")
        assert re.sub(r"-?\d+(\.\d+)?", "#", printed.split(" - ", 1)[1]) == \
            re.sub(r"-?\d+(\.\d+)?", "#", expected.split(" - ", 1)[1])
    else:
        assert printed == expected


def test_the_command_line_lists_runs_and_exports(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    assert experiments_cli(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.split("\t")[0] == "fair-coin" for line in lines)
    record = tmp_path / "run.json"
    assert experiments_cli(["run", "bent-coin", "--smoke", "--json", str(record)]) == 0
    assert "verdict: not reproduced" in capsys.readouterr().out
    assert json.loads(record.read_text())["reproduced"] is False
    monkeypatch.chdir(tmp_path)
    assert experiments_cli(["export", "fair-coin", "--size", "smoke"]) == 0
    assert (tmp_path / "fair-coin.py").read_text().startswith('"""Coins fair-coin')
    assert experiments_cli(["run", "no-such-experiment"]) == 2


def test_in_the_room_run_sets_the_rooms_parameters_and_the_verdict_arrives(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    room = DemoModel()
    panel = ExperimentsPanel(room, list(toy_experiments.EXPERIMENTS))
    panel.chooser.value = "fair-coin"
    assert room.experiment == "fair-coin" and panel.run_button.disabled   # predict first
    panel.predictions.value = "biased"
    assert not panel.run_button.disabled
    panel.session.size = "quick"
    panel.session.run()
    assert room.count_to == 25          # the experiment's settings, in the room's own parameters
    polling.wait_for(lambda: "Reproduced" in panel.verdict.object, timeout=90)
    assert len(panel.session.rows) == 3 * 5
    assert "You predicted" in panel.verdict.object
    assert panel.explanation.visible
    room.count_to = 30                  # the room stays usable afterwards
    panel.chooser.value = "bent-coin"   # another experiment starts clean
    assert panel.session.rows == [] and panel.session.verdict is None and panel.run_button.disabled
    room.close()
    assert not panel.session.task.is_alive
