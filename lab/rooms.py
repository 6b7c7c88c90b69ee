"""The one place where rooms register themselves.

A room is listed here once its issue has landed; nothing else in the lab needs to change to
add one. ``builder`` is imported only when the room is first opened, so the home page never
pays for a room's imports.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@dataclass(frozen=True)
class RoomSpec:
    slug: str            # the room's name in the URL: ?room=<slug>
    title: str
    summary: str         # one line on the home page card
    builder: str         # "module:function" returning the room's Panel viewable
    extensions: tuple[str, ...] = ()  # Panel extensions its views need ("vtk", "tabulator", ...)
    start_button: str | None = None   # label of the button that starts its long work (benchmarks)
    worker_modules: tuple[str, ...] = ()  # what its worker processes import (see worker_preload)
    experiments: str | None = None        # module declaring its EXPERIMENTS (lab/experiments/<room>.py)
    # what "interactive" means for this room (issue 19; benchmarks.lab waits for exactly this):
    # its start button enabled and every element matching these CSS selectors drawn (inked)
    ready: tuple[str, ...] = ()
    # "module:function" the server runs once at start, after every room's imports: work the
    # room's first session would otherwise wait for (the worm room's simulated default)
    warm: str | None = None

    @property
    def thumbnail(self) -> Path | None:
        path = ASSETS / "screenshots" / f"{self.slug}.png"
        return path if path.exists() else None

    def load_builder(self) -> Callable[[], object]:
        return _load(self.builder)

    def load_warm(self) -> Callable[[], None] | None:
        return _load(self.warm) if self.warm else None


def _load(reference: str):
    """The object a "module:name" reference names (its module imported)."""
    module_name, _, name = reference.partition(":")
    return getattr(importlib.import_module(module_name), name)


ROOMS: list[RoomSpec] = [
    RoomSpec("fields", "Neural fields",
             "Train RBF neural fields on images and 3D shapes and watch them learn.",
             "views.fields.room:build_room", extensions=("vtk",), start_button="Train",
             worker_modules=("torch", "lab.fields.training"), ready=(".fields-target",),
             experiments="lab.experiments.fields"),
    RoomSpec("reservoir", "Reservoir",
             "See what excitation/inhibition balance and local adaptation do to a reservoir's memory.",
             "views.reservoir.room:build_room", start_button="Run", worker_modules=("lab.reservoir.stepper",),
             experiments="lab.experiments.reservoir", ready=(".live-raster",)),
    RoomSpec("worms", "Worm activity",
             "Browse C. elegans whole-brain calcium traces beside behaviour and the connectome.",
             "views.worms.room:build_room", ready=(".worm-heatmap",),
             experiments="lab.experiments.worms", warm="lab.worms:simulate_default"),
    RoomSpec("connectome", "Dynamic connectome",
             "Turn traces into affinity tensors, factorise them and find functional communities.",
             "views.connectome.room:build_room", extensions=("vtk", "tabulator"), start_button="Build tensor",
             experiments="lab.experiments.connectome", ready=(".connectome-empty",)),
]

# Tests may add rooms of their own (a comma-separated list of "module:NAME" specs) to exercise
# the shell without depending on a real room.
EXTRA_ROOMS_VARIABLE = "NEURAL_LAB_EXTRA_ROOMS"


def registered_rooms() -> list[RoomSpec]:
    rooms = list(ROOMS)
    for entry in filter(None, os.environ.get(EXTRA_ROOMS_VARIABLE, "").split(",")):
        module_name, _, attribute = entry.strip().partition(":")
        rooms.append(getattr(importlib.import_module(module_name), attribute))
    return rooms


def worker_preload() -> tuple[str, ...]:
    """Every room's worker modules. Worker processes fork from one forkserver per server, which
    imports only the preload list of the first worker started; rooms pass this whole list, so
    whichever room starts first, no room's worker pays its imports (torch: ~2 s) at each start."""
    return tuple(dict.fromkeys(module for room in ROOMS for module in room.worker_modules))


def find_room(slug: str | None) -> RoomSpec | None:
    return next((room for room in registered_rooms() if room.slug == slug), None)
