"""What every tab of the room is: a view of the model laid out once, drawn again by ``redraw()``
when the recording (or what the tab shows of it) changes."""
from __future__ import annotations

import panel as pn


class RoomTab(pn.viewable.Viewer):
    """A tab's layout (``self._layout``, filled by the subclass) and its redraw."""

    def __init__(self, model, **params):
        super().__init__(**params)
        self.model = model
        self._layout = pn.Column(sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def redraw(self) -> None:
        """Draw the recording on show; nothing while none is open."""
        if self.model.recording is not None:
            self.draw()

    def draw(self) -> None:
        raise NotImplementedError
