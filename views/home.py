"""The home page: the lab's name, a card per registered room, and every room's experiments."""
from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Callable

import panel as pn
from PIL import Image

from lab.experiments.spec import Experiment
from lab.rooms import RoomSpec

INTRO = """
# Neural Lab

A visual lab for brain-inspired computation. Change a parameter and watch a model learn, live.
Pick a room to start.
"""

EMPTY = "No rooms are installed yet."


THUMBNAIL_SIZE = (600, 380)   # twice the card's picture: sharp on high-density screens


@functools.lru_cache(maxsize=32)
def thumbnail_jpeg(path: Path, modified: float) -> bytes:
    """A room's screenshot made card-sized, once per server (per file version): the full
    1400x900 PNGs made every home page carry about a megabyte it showed at 300x190."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
    return out.getvalue()


def room_card(room: RoomSpec, open_room: Callable[[str], None]) -> pn.viewable.Viewable:
    button = pn.widgets.Button(label=f"Open {room.title}", color="primary", width=200)
    button.on_click(lambda _event: open_room(room.slug))
    thumbnail = room.thumbnail
    picture = (pn.pane.JPG(thumbnail_jpeg(thumbnail, thumbnail.stat().st_mtime), width=300, height=190,
                           fixed_aspect=False)
               if thumbnail else pn.Spacer(width=300, height=190, styles={"background": "#eef1f5"}))
    return pn.Column(
        picture,
        pn.pane.Markdown(f"### [{room.title}](?room={room.slug})\n{room.summary}", width=300),
        button,
        width=330, margin=10,
        styles={"border": "1px solid #d0d7de", "border-radius": "8px", "padding": "8px"},
        css_classes=["room-card"],
    )


EXPERIMENTS_INTRO = """
## Experiments
Each one asks a question a paper answered, runs it live in its room, and judges from the run whether
the claim holds. Predict first, then press Run; a script to take home reproduces it.
"""


def experiment_list(rooms: list[RoomSpec], experiments: list[Experiment],
                    open_experiment: Callable[[str, str], None]) -> pn.viewable.Viewable:
    """One column per room: each experiment's title as a button that opens it in its room."""
    columns = []
    for room in rooms:
        own = [e for e in experiments if e.room == room.slug]
        if not own:
            continue
        buttons = []
        for experiment in own:
            button = pn.widgets.Button(label=experiment.title, color="light", sizing_mode="stretch_width",
                                       description=experiment.question)
            button.on_click(lambda _event, e=experiment: open_experiment(e.room, e.id))
            buttons.append(button)
        columns.append(pn.Column(f"#### {room.title}", *buttons, width=330, margin=10,
                                 css_classes=["experiment-list"]))
    return pn.Column(pn.pane.Markdown(EXPERIMENTS_INTRO), pn.FlexBox(*columns), sizing_mode="stretch_width")


def home_page(rooms: list[RoomSpec], open_room: Callable[[str], None],
              experiments: list[Experiment] = (), open_experiment: Callable[[str, str], None] | None = None
              ) -> pn.viewable.Viewable:
    cards = [room_card(room, open_room) for room in rooms]
    body = pn.FlexBox(*cards) if cards else pn.pane.Markdown(EMPTY)
    parts = [pn.pane.Markdown(INTRO), body]
    if experiments and open_experiment is not None:
        parts.append(experiment_list(rooms, list(experiments), open_experiment))
    return pn.Column(*parts, sizing_mode="stretch_width")
