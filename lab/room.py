"""What every room's model shares: read-only results, the resources it owns, and one close().

    class ReservoirRoom(RoomModel):
        spectrum = param.ClassSelector(..., constant=True)      # a result: read-only for views
        def __init__(self, **params):
            super().__init__(**params)
            self.live = self.owns(BackgroundTask(name="reservoir-live"))
        def compute(self):
            self._publish(spectrum=...)                           # from any thread

A room's constructor only declares: long-lived resources (worker processes, simulations) start
when the user first asks for work, so opening a room costs no more than drawing it. ``close()``
stops the room's tasks and ends its workers; ``views/<room>/room.py:build_room()`` ties it to the
browser session with ``close_with_session()``.
"""
from __future__ import annotations

import logging
from typing import TypeVar

import param

from lab.sessions import on_session_end

log = logging.getLogger("lab.room")
R = TypeVar("R")


def publish(target: param.Parameterized, **values) -> None:
    """Set read-only (constant) results of ``target`` in one update (watchers fire once)."""
    with param.edit_constant(target):
        target.param.update(**values)


class RoomModel(param.Parameterized):
    """Base of the rooms' models (``lab/<room>/``): state and actions, no UI code."""

    # Parameters that describe what the user set up, kept in the page's URL by the shell (values
    # at their defaults are left out), so a copied link reproduces the setup and Back undoes it.
    url_parameters: tuple[str, ...] = ()

    experiment = param.String(default="", doc="Id of the experiment open in the room's Experiments panel "
                                               "(lab/experiments); the shell keeps it in the URL too.")

    def __init__(self, **params):
        super().__init__(**params)
        self._owned: list = []

    def owns(self, resource: R) -> R:
        """Register a task (``stop()``) or worker (``close()``) that ends with the room."""
        self._owned.append(resource)
        return resource

    def close(self) -> None:
        """Stop the room's work and end its processes (newest first); never raises."""
        for resource in reversed(self._owned):
            for ending in ("stop", "close"):
                method = getattr(resource, ending, None)
                if method is None:
                    continue
                try:
                    method()
                except Exception:
                    log.exception("closing %r of %s failed", resource, type(self).__name__)
                break

    def close_with_session(self) -> None:
        """Close this room when the browser session that opened it ends (the tab closed)."""
        on_session_end(self.close)

    def _publish(self, **values) -> None:
        publish(self, **values)
