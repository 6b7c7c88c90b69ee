"""A room that exists only for the shell's tests: a failing callback and a background task.

The browser tests register it through NEURAL_LAB_EXTRA_ROOMS so the shell can be checked
without depending on any real room.
"""
import time

import panel as pn

from engines.errors import DivergenceError
from lab.rooms import RoomSpec
from lab.tasks import BackgroundTask
from views.progress import TaskProgress


def build():
    task = BackgroundTask(name="demo")
    counter = pn.widgets.IntInput(label="Counter", value=0, disabled=True)

    def count_slowly():
        time.sleep(0.05)
        counter.value += 1
        return 1

    fail = pn.widgets.Button(label="Fail on purpose", color="danger")
    fail.on_click(lambda _event: 1 / 0)
    start = pn.widgets.Button(label="Start counting", color="primary")
    start.on_click(lambda _event: task.start(count_slowly, total_steps=40))
    diverge = pn.widgets.Button(label="Diverge in the background", color="warning")
    diverge.on_click(lambda _event: task.start(diverging_step))
    return pn.Column("## Demo room", fail, start, diverge, TaskProgress(task), counter)


def diverging_step():
    raise DivergenceError("loss became NaN; the last good state was restored")


DEMO_ROOM = RoomSpec(slug="demo", title="Demo room", summary="Only for the shell's tests.",
                     builder="tests.browser.demo_room:build", start_button="Start counting")
