"""The home page: the lab's name and a card per registered room."""
from __future__ import annotations

from typing import Callable

import panel as pn

from lab.rooms import RoomSpec

INTRO = """
# Neural Lab

A visual lab for brain-inspired computation. Change a parameter and watch a model learn, live.
Pick a room to start.
"""

EMPTY = "No rooms are installed yet."


def room_card(room: RoomSpec, open_room: Callable[[str], None]) -> pn.viewable.Viewable:
    button = pn.widgets.Button(label=f"Open {room.title}", color="primary", width=200)
    button.on_click(lambda _event: open_room(room.slug))
    thumbnail = room.thumbnail
    picture = (pn.pane.PNG(str(thumbnail), width=300, height=190, fixed_aspect=False)
               if thumbnail else pn.Spacer(width=300, height=190, styles={"background": "#eef1f5"}))
    return pn.Column(
        picture,
        pn.pane.Markdown(f"### [{room.title}](?room={room.slug})\n{room.summary}", width=300),
        button,
        width=330, margin=10,
        styles={"border": "1px solid #d0d7de", "border-radius": "8px", "padding": "8px"},
        css_classes=["room-card"],
    )


def home_page(rooms: list[RoomSpec], open_room: Callable[[str], None]) -> pn.viewable.Viewable:
    cards = [room_card(room, open_room) for room in rooms]
    body = pn.FlexBox(*cards) if cards else pn.pane.Markdown(EMPTY)
    return pn.Column(pn.pane.Markdown(INTRO), body, sizing_mode="stretch_width")
