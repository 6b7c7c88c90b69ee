"""An experiment run inside a room: the choice, the student's prediction, rows, verdict.

The room's Experiments panel (views/experiments.py) draws this. ``run()`` first sets the room's
parameters to the experiment's settings (the room's own widgets show them, and the user carries
on exploring from there afterwards), hands it the room's data when it declares ``room_data`` and
the room shows more than its default (a loaded recording), then runs every condition and seed in
a BackgroundTask with progress and Stop; ``rows`` grow as results arrive and ``verdict`` is judged from them at the end.
"""
from __future__ import annotations

import param

from lab.experiments.export import script_for
from lab.experiments.runner import ExperimentRun
from lab.experiments.spec import SIZES, Experiment, Verdict
from lab.room import RoomModel, publish
from lab.tasks import BackgroundTask

NO_PREDICTION = ""


class ExperimentSession(param.Parameterized):
    """The Experiments panel's state for one room."""

    prediction = param.String(default=NO_PREDICTION, doc="Key of the outcome the student expects.")
    size = param.Selector(default="quick", objects=list(SIZES),
                          doc="smoke: a few seconds, a first look (few seeds, small networks); quick: about a "
                              "minute on a laptop; full: the paper-sized version.")
    rows = param.List(default=[], constant=True, doc="Rows measured so far (condition, seed, values).")
    verdict = param.ClassSelector(class_=Verdict, default=None, allow_None=True, constant=True)
    run_size = param.String(default="", constant=True, doc="The size of the rows on show.")
    runs_on = param.String(default="", constant=True, doc="What the rows on show were measured on.")

    def __init__(self, room: RoomModel, experiments: list[Experiment], **params):
        super().__init__(**params)
        self.room = room
        self.experiments = {e.id: e for e in experiments}
        self.task = room.owns(BackgroundTask(name=f"{type(room).__name__}-experiment", kind="finite"))
        self._run: ExperimentRun | None = None
        room.param.watch(self._chosen_changed, "experiment")

    @property
    def experiment(self) -> Experiment | None:
        return self.experiments.get(self.room.experiment)

    def choose(self, experiment_id: str) -> None:
        self.room.experiment = experiment_id if experiment_id in self.experiments else ""

    def _chosen_changed(self, _event=None) -> None:
        self.task.stop()
        self.prediction = NO_PREDICTION
        publish(self, rows=[], verdict=None, run_size="", runs_on="")

    def run(self) -> None:
        """Set the room up as the experiment says, then run it in the background."""
        experiment = self.experiment
        if experiment is None or self.task.is_alive:
            return
        settings = {k: v for k, v in experiment.settings.items() if getattr(self.room, k) != v}
        if settings:
            self.room.param.update(**settings)
        data = experiment.room_data(self.room) if experiment.room_data is not None else None
        self._run = ExperimentRun(experiment, self.size, data)
        publish(self, rows=[], verdict=None, run_size=self.size, runs_on=data.description if data else "")
        self.task.start(self._step, total_steps=self._run.total_jobs + 1, on_finish=self._finished)

    def stop(self) -> None:
        self.task.stop()

    def _step(self) -> int | None:
        rows_before = len(self._run.rows)
        advanced = self._run.step()
        if advanced is None:         # judged: the last unit of progress
            return 1
        if len(self._run.rows) != rows_before:
            publish(self, rows=list(self._run.rows))
        return advanced

    def _finished(self, outcome: str) -> None:
        if outcome == "finished" and self._run is not None:
            publish(self, verdict=self._run.verdict)

    def script(self) -> str:
        """The chosen experiment as a plain script (the 'take it home' download)."""
        experiment = self.experiment
        if experiment is None:
            raise ValueError("choose an experiment first")
        return script_for(experiment, self.size)
