"""A room that exists only for the shell's tests: a failing callback, a background task and a
parameter kept in the URL.

The browser tests register it through NEURAL_LAB_EXTRA_ROOMS so the shell can be checked
without depending on any real room.
"""
import time

import panel as pn
import param

from engines.errors import DivergenceError
from lab.room import RoomModel
from lab.rooms import RoomSpec
from lab.tasks import BackgroundTask
from views.progress import TaskProgress
from views.widgets import param_widget


class DemoModel(RoomModel):
    count_to = param.Integer(40, bounds=(1, 1000), label="Count to", doc="Steps of one count.")
    url_parameters = ("count_to",)

    def __init__(self, **params):
        super().__init__(**params)
        self.task = self.owns(BackgroundTask(name="demo"))


class DemoView(pn.viewable.Viewer):
    def __init__(self, **params):
        super().__init__(**params)
        self.model = DemoModel()
        self.model.close_with_session()
        task = self.model.task
        counter = pn.widgets.IntInput(label="Counter", value=0, disabled=True)

        def count_slowly():
            time.sleep(0.05)
            counter.value += 1
            return 1

        fail = pn.widgets.Button(label="Fail on purpose", color="danger")
        fail.on_click(lambda _event: 1 / 0)
        start = pn.widgets.Button(label="Start counting", color="primary")
        start.on_click(lambda _event: task.start(count_slowly, total_steps=self.model.count_to))
        diverge = pn.widgets.Button(label="Diverge in the background", color="warning")
        diverge.on_click(lambda _event: task.start(diverging_step))
        from lab.experiments.registry import room_experiments
        from views.experiments import ExperimentsPanel
        self.experiments = ExperimentsPanel(self.model, room_experiments("demo"))
        self._layout = pn.Column("## Demo room", param_widget(self.model, "count_to", css_classes=["demo-count-to"]),
                                 fail, start, diverge, TaskProgress(task), counter, self.experiments)

    def __panel__(self):
        return self._layout


def build():
    return DemoView()


def diverging_step():
    raise DivergenceError("loss became NaN; the last good state was restored")


DEMO_ROOM = RoomSpec(slug="demo", title="Demo room", summary="Only for the shell's tests.",
                     builder="tests.browser.demo_room:build", start_button="Start counting",
                     experiments="tests.lab.toy_experiments")
