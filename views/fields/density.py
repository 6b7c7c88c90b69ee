"""The radiance task in the room's 3-D view: what to draw, and the density surface extracted on
demand (``FieldsRoom.isosurface``) off the session's loop.

Extraction evaluates the field on a lattice in the room's worker (seconds), so it runs in a
thread; the model publishes ``density_surface`` (a param: safe from any thread) and the room's
``Redraw`` draws it on the session's loop. The plotter is never touched from the thread.
"""
from __future__ import annotations

import threading
from functools import partial

from lab.fields.model import FieldsRoom
from lab.fields.radiance_run import surface_level
from views.errors import notify_error
from views.session import SessionLoop

WAIT = "Extracting the density surface…"
TO_EXTRACT = "press **Extract density surface** to see where the learned density is"


class DensitySurface:
    """Extracts the model's density surface on demand and draws the radiance scene in a ``ShapeView``."""

    def __init__(self, model: FieldsRoom, redraw):
        self.model, self._redraw = model, redraw
        self.extracting = False
        self.extracted_at: int | None = None   # the step shown when the surface was extracted
        self._thread: threading.Thread | None = None
        self._drawn = None   # what the 3-D view shows now: redrawn only when it changes

    def extract(self) -> None:
        """Call on the session's loop (a click): extraction runs in a thread; a refusal
        ("press Train or Step first") is shown in the page."""
        if self.extracting:
            return
        loop, self.extracting = SessionLoop(), True
        self._redraw()

        def work() -> None:
            try:
                shot = self.model.snapshot
                self.model.isosurface()
                self.extracted_at = shot.step if shot is not None else None
            except Exception as error:   # an EngineError is for the user; anything else is logged too
                loop.run(partial(notify_error, error))
            finally:
                self.extracting = False
                self._redraw()
        self._thread = threading.Thread(target=work, daemon=True, name="fields-density-surface")
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the extraction in flight, and its redraw, to finish (tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def draw(self, view) -> None:
        """The cameras, the novel camera and the surface in ``view`` (a ShapeView), if changed."""
        m = self.model
        surface = m.density_surface
        state = (id(m.target), m.azimuth, m.elevation, id(surface), self.extracting, view.task)
        if state == self._drawn:
            return   # a VTK sync renders on the server: not for every snapshot of a training run
        self._drawn, self._kept = state, (m.target, surface)   # kept: their ids are not reused
        frustums = m.frustums()
        if self.extracting:
            said = WAIT
        elif surface is None:
            said = f"No density surface yet: {TO_EXTRACT}"
        else:
            step = f" at step {self.extracted_at:,}" if self.extracted_at is not None else ""
            said = (f"Density surface (purple){step}: {len(surface[1]):,} triangles where the density is "
                    f"{surface_level(m.target):.2f} per scene unit; extract it again as it learns")
        caption = (f"Scene: **{m.target_name}** · {len(frustums)} training cameras (grey) · the novel view's "
                   f"camera (orange) · {said}")
        view.draw_radiance(frustums, m.novel_camera(), (m.target.box.centre, m.target.box.half_size), surface,
                           caption)
