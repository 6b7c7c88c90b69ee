"""The lab's frame: a template with navigation, the home page and lazily built rooms.

The room on show is kept in the URL (``?room=<slug>``) so a link opens that room. A room is
built the first time it is opened in a session and kept for the rest of that session.
"""
from __future__ import annotations

import logging

import panel as pn
import param

from lab.rooms import RoomSpec, find_room, registered_rooms
from views.errors import notify_error
from views.home import home_page

log = logging.getLogger("lab.shell")

HOME = ""


def not_found_page(slug: str) -> pn.viewable.Viewable:
    return pn.pane.Markdown(
        f"## There is no room called “{slug}”\n\n"
        "It may have been renamed, or the link is mistyped. [Back to the lab's home page](?)",
        css_classes=["not-found"],
    )


def failed_room_page(room: RoomSpec, error: BaseException) -> pn.viewable.Viewable:
    return pn.pane.Markdown(
        f"## {room.title} could not be opened\n\n{error}\n\n[Back to the lab's home page](?)",
        css_classes=["room-failed"],
    )


class LabShell(param.Parameterized):
    """Which page is on show; everything else belongs to the rooms."""

    room = param.String(default=HOME, doc="Slug of the room on show; empty for the home page.")

    def __init__(self, **params):
        super().__init__(**params)
        self._rooms = registered_rooms()
        self._built: dict[str, pn.viewable.Viewable] = {}
        self._content = pn.Column(sizing_mode="stretch_both")
        self._nav = self._navigation()
        self._show()

    def open_room(self, slug: str) -> None:
        self.room = slug

    def _navigation(self) -> pn.viewable.Viewable:
        buttons = [self._nav_button("Home", HOME)]
        buttons += [self._nav_button(room.title, room.slug) for room in self._rooms]
        return pn.Column(*buttons, sizing_mode="stretch_width")

    def _nav_button(self, label: str, slug: str) -> pn.widgets.Button:
        button = pn.widgets.Button(label=label, color="light", sizing_mode="stretch_width")
        button.on_click(lambda _event: self.open_room(slug))
        return button

    @param.depends("room", watch=True)
    def _show(self) -> None:
        self._content[:] = [self._page(self.room)]

    def _page(self, slug: str) -> pn.viewable.Viewable:
        if slug == HOME:
            return home_page(self._rooms, self.open_room)
        room = find_room(slug)
        if room is None or room not in self._rooms:
            return not_found_page(slug)
        if slug not in self._built:
            try:
                view = room.load_builder()()
                self._built[slug] = pn.Column(view, css_classes=["room", f"room-{slug}"],
                                              sizing_mode="stretch_width")
            except Exception as error:  # a broken room must not take the lab down
                notify_error(error)
                return failed_room_page(room, error)
        return self._built[slug]

    def template(self) -> pn.template.BaseTemplate:
        template = pn.template.BootstrapTemplate(
            title="Neural Lab",
            sidebar=[self._nav],
            main=[self._content],
            header_background="#2f4f73",
            sidebar_width=220,
        )
        if pn.state.location is not None:
            pn.state.location.sync(self, {"room": "room"})
        return template


def extensions() -> list[str]:
    """Panel extensions the registered rooms need, loaded up front so lazily built rooms render."""
    needed: list[str] = []
    for room in registered_rooms():
        needed += [name for name in room.extensions if name not in needed]
    return needed


def build_app() -> pn.template.BaseTemplate:
    pn.extension(*extensions(), notifications=True, exception_handler=notify_error)
    return LabShell().template()
