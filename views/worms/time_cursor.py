"""The room's one time control (time_cursor.js): play/pause, a slider over the samples, the time
in seconds and the speed, in one widget. The model's ``time_s`` follows it (a few times a second
while it plays, at once when it stops or is dragged) and it follows ``time_s`` (links, Back)."""
from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import param
from panel.custom import JSComponent

from engines.worms import sample_index
from views.session import Redraw

SPEEDS = (1, 2, 5, 10, 20, 50)


class TimeCursorWidget(JSComponent):
    """The browser side: the sample index, whether it plays and how fast."""

    times = param.List(default=[], doc="Sample times of the recording on show (s).")
    index = param.Integer(default=0, bounds=(0, None), doc="The sample under the cursor.")
    playing = param.Boolean(default=False, doc="Whether the cursor is moving.")
    speed = param.Selector(default=10, objects=list(SPEEDS), doc="Playback speed, times real time.")
    speeds = param.List(default=list(SPEEDS), constant=True)
    channel = param.String(default="", doc="Names this cursor to the page's other views.")

    _esm = Path(__file__).with_name("time_cursor.js")


class TimeCursor:
    """Keeps a ``TimeCursorWidget`` and the model's ``time_s`` in step."""

    def __init__(self, model):
        self.model = model
        self.widget = TimeCursorWidget(channel=secrets.token_hex(6), sizing_mode="stretch_width",
                                       height=36, margin=(5, 10), css_classes=["worm-time"])
        self._times = np.zeros(1)
        self.widget.param.watch(self._moved, "index")
        model.param.watch(Redraw(self._follow_model), "time_s")

    @property
    def channel(self) -> str:
        return self.widget.channel

    def show_recording(self, time: np.ndarray) -> None:
        """A new recording: the slider spans its samples; the cursor stays at the model's time."""
        self._times = np.asarray(time, dtype=float)
        self.widget.param.update(times=[round(float(t), 4) for t in self._times],
                                 index=sample_index(self._times, self.model.time_s))

    def _moved(self, event) -> None:
        k = min(int(event.new), len(self._times) - 1)
        if sample_index(self._times, self.model.time_s) != k:
            self.model.time_s = float(self._times[k])

    def _follow_model(self) -> None:
        k = sample_index(self._times, self.model.time_s)
        if k != self.widget.index and not self.widget.playing:
            self.widget.index = k
