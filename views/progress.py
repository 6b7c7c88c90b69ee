"""The progress line every room shows for its background task: bar, steps, time, state."""
from __future__ import annotations

import panel as pn

from lab.tasks import BackgroundTask

STATE_COLOURS = {"running": "#2e7d32", "paused": "#ef6c00", "failed": "#c62828",
                 "stopped": "#616161", "finished": "#1565c0", "idle": "#616161"}


def progress_text(task: BackgroundTask) -> str:
    steps = f"{task.steps_done:,}" + (f" / {task.total_steps:,}" if task.total_steps else "")
    text = f"**{task.state}** · steps {steps} · {task.elapsed:.1f} s"
    if task.error:
        text += f" · {task.error}"
    return text


class TaskProgress(pn.viewable.Viewer):
    """A progress bar and a status line that follow a ``BackgroundTask``.

    When the task fails, the error also pops up as a notification in the page. The task's
    thread has no current document, so the session's notification area is captured here.
    """

    def __init__(self, task: BackgroundTask, **params):
        super().__init__(**params)
        self._task = task
        self._notifications = pn.state.notifications
        task.param.watch(self._notify_failure, "state")
        self._bar = pn.indicators.Progress(value=0, max=1000, width=260, bar_color="success",
                                           active=False, margin=(12, 10))
        self._text = pn.pane.Markdown(progress_text(task), margin=(0, 10), css_classes=["task-status"])
        task.param.watch(self._update, ["state", "steps_done", "elapsed", "error", "total_steps"])
        self._update()

    def _update(self, *_events) -> None:
        task = self._task
        fraction = task.fraction
        with pn.io.hold():
            if fraction is None:  # open-ended work: an animated bar while it runs
                self._bar.value = -1 if task.state == "running" else 0
            else:
                self._bar.value = int(fraction * 1000)
            self._bar.bar_color = "danger" if task.state == "failed" else "success"
            self._text.object = progress_text(task)
            self._text.styles = {"color": STATE_COLOURS.get(task.state, "#000")}

    def _notify_failure(self, event) -> None:
        if event.new == "failed" and self._notifications is not None:
            self._notifications.error(self._task.error or "The work stopped with an error.",
                                      duration=10000)

    def __panel__(self):
        return pn.Row(self._bar, self._text, sizing_mode="stretch_width")
