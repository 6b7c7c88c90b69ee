"""The 3D anatomy tab: the worm's neurons at their atlas positions (wormneuroatlas), coloured
by what the room colours neurons by, pickable (views/anatomy3d.py), with the traces that have
no identity listed apart (they have no position and are never drawn at the origin)."""
from __future__ import annotations

import panel as pn

from views.anatomy3d import NeuronScene3D
from views.worms.tab import RoomTab

INTRO = ("Neurons at their anatomical positions (wormneuroatlas), coloured by the room's "
         "colouring; grey: not recorded in this worm; orange halo: traces shown. **Click a "
         "neuron** to add its trace and list its partners; hover to read its name and value.")


class AnatomyTab(RoomTab):
    """The 3D scene and what cannot be placed in it."""

    def __init__(self, model, **params):
        super().__init__(model, **params)
        self.scene = NeuronScene3D(on_pick=model.pick, height=460)
        self.unplaced = pn.pane.Markdown("", css_classes=["unplaced-neurons"], sizing_mode="stretch_width")
        self.notice = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self._layout[:] = [pn.pane.Markdown(INTRO), self.notice, self.scene, self.unplaced]

    def draw(self) -> None:
        """A new recording (or a new colouring): positions, colours, marks and the lists."""
        m = self.model
        values, label = m.neuron_values()
        clim = (-1.0, 1.0) if m.colour_by == "correlation" else None
        self.scene.show(m.positions(), values, label, clim)
        self.mark()
        unplaced = m.unplaced()
        self.unplaced.object = (f"**{len(unplaced)} traces without identity** (no position, not "
                                f"drawn): {', '.join(unplaced[:40])}{' ...' if len(unplaced) > 40 else ''}"
                                if unplaced else "")
        self.notice.object, self.notice.visible = m.notice, bool(m.notice)

    def recolour(self) -> None:
        """The time cursor moved: activity colours at the new time."""
        if self.model.recording is not None and self.model.colour_by == "activity":
            values, label = self.model.neuron_values()
            self.scene.recolour(values, label)

    def mark(self) -> None:
        if self.model.recording is not None:
            self.scene.mark(self.model.selected, self.model.focus)

    def close(self) -> None:
        self.scene.close()
