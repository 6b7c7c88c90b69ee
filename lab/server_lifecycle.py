"""Hooks Bokeh runs once per server process (``panel serve lab`` loads this file by its name).

The rooms' imports (torch, pyvista/vtk, dask, tensorly, igraph ...) cost 2-8 s of CPU each, and
the worm room shows a simulation that takes another 1-2 s. Paid inside the first session, they
made a room's first open after the server started take 5-15 s (issue 19); warmed in a background
thread after the server answered, they still competed with the first pages for the two cores.
So the server does them before it answers its first page: ``panel serve lab`` takes that much
longer to start (about 12 s on a 2-core machine, once, before the class arrives) and every room
opens as fast the first time as later. After the imports, a room may name more work to do once
per server (``RoomSpec.warm``: the worm room's simulated default, kept in the cache that
sessions share).
"""
from __future__ import annotations

import logging
import threading
import time

# a child of Bokeh's server logger: ``panel serve`` prints that one at INFO (the root logger it leaves at WARNING)
log = logging.getLogger("bokeh.server.lab")
_warming = threading.Lock()   # Panel serves the app at "/" and "/lab": the hook runs once per route
_started = False


def warm_room_imports() -> None:
    from lab.rooms import registered_rooms
    rooms = registered_rooms()
    for spec in rooms:
        _warm(spec, "imports", spec.load_builder)
    for spec in rooms:   # then what a room's first session would wait for (its warm hook)
        if spec.warm:
            _warm(spec, "first work", lambda: spec.load_warm()())


def _warm(spec, what: str, work) -> None:
    started = time.perf_counter()
    try:
        work()
    except Exception:   # a broken room must not take the server down; opening it will say why
        log.exception("warming the %s room's %s failed", spec.slug, what)
        return
    log.info("%s room's %s warmed in %.1f s", spec.slug, what, time.perf_counter() - started)


def on_server_loaded(server_context) -> None:
    global _started
    with _warming:
        if _started:
            return
        _started = True
    started = time.perf_counter()
    warm_room_imports()   # before the first page is answered: Bokeh runs this hook before it serves
    log.info("rooms warmed in %.1f s; the lab now answers", time.perf_counter() - started)
