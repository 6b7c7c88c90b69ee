"""The progress line every room shows for its background task: bar, steps, time, state, and
where the work stands with the lab's scheduler (its place in the queue, its share of a core)."""
from __future__ import annotations

import panel as pn

from lab.scheduler import Standing
from lab.tasks import BackgroundTask
from views.errors import show_message
from views.session import SessionLoop

STATE_COLOURS = {"queued": "#6a1b9a", "running": "#2e7d32", "paused": "#ef6c00", "failed": "#c62828",
                 "stopped": "#616161", "finished": "#1565c0", "idle": "#616161"}


def progress_text(task: BackgroundTask, show_steps: bool = True) -> str:
    steps = f"{task.steps_done:,}" + (f" / {task.total_steps:,}" if task.total_steps else "")
    text = f"**{task.state}** · " + (f"steps {steps} · " if show_steps else "") + f"{task.elapsed:.1f} s"
    standing = Standing(task.queue_place, task.queue_wait_s, task.share).describe()
    if standing and task.state in ("queued", "running"):
        text += f" · {standing}"
    if task.error:
        text += f" · {task.error}"
    return text


def bar_html(fraction: float | None, running: bool, failed: bool) -> str:
    """An HTML progress bar: filled to ``fraction``, or moving while open-ended work runs."""
    colour = STATE_COLOURS["failed"] if failed else STATE_COLOURS["running"]
    style = f"width:100%;height:14px;accent-color:{colour}"
    if fraction is None:
        value = "" if running else ' value="0"'   # no value: the browser animates the bar
    else:
        value = f' value="{int(fraction * 1000)}"'
    return f'<progress max="1000"{value} style="{style}"></progress>'


class TaskProgress(pn.viewable.Viewer):
    """A progress bar and a status line that follow a ``BackgroundTask``.

    When the task fails, the error also pops up as a notification in the page. The task's
    thread has no current document, so the session's notification area is captured here.
    ``show_steps=False`` leaves the step count out, for a room that shows its own (one count
    per page: two that update at different times disagree).
    """

    def __init__(self, task: BackgroundTask, show_steps: bool = True, **params):
        super().__init__(**params)
        self._task = task
        self._show_steps = show_steps
        self._notifications = pn.state.notifications
        self._loop = SessionLoop()   # the task's thread has no current document
        task.param.watch(self._notify_failure, "state")
        # plain HTML, not Panel's Progress indicator: its view throws when its value changes
        # before it was rendered (a room built by a click, its hidden tabs), and the exception
        # abandons the rest of that update, so the room's first figures never arrived
        self._bar = pn.pane.HTML(bar_html(None, False, False), width=260, margin=(8, 10), css_classes=["task-bar"])
        self._text = pn.pane.Markdown(progress_text(task, show_steps), margin=(0, 10), css_classes=["task-status"])
        task.param.watch(self._update, ["state", "steps_done", "elapsed", "error", "total_steps",
                                         "queue_place", "queue_wait_s", "share"])
        self._update()

    def _update(self, *_events) -> None:
        task = self._task
        fraction = task.fraction
        with pn.io.hold():
            self._bar.object = bar_html(fraction, task.state == "running", task.state == "failed")
            self._text.object = progress_text(task, self._show_steps)
            self._text.styles = {"color": STATE_COLOURS.get(task.state, "#000")}

    def _notify_failure(self, event) -> None:
        if event.new == "failed" and self._notifications is not None:
            message = self._task.error or "The work stopped with an error."
            self._loop.run(lambda: show_message(self._notifications, "error", message, 10))

    def __panel__(self):
        return pn.Row(self._bar, self._text, sizing_mode="stretch_width")
