"""The lab's frame: a template with navigation, the home page and lazily built rooms.

What the user set is kept in the URL: ``?room=<slug>`` and the open room's declared parameters
(``RoomModel.url_parameters``), so a copied link opens the same setup, and the browser's Back
and Forward move between rooms and between the settings the user chose (``views/url.py``).
A room is built the first time it is opened in a session and kept for the rest of that session.
"""
from __future__ import annotations

import logging

import panel as pn
import param
from panel.custom import JSComponent

from lab.experiments.registry import all_experiments
from lab.rooms import RoomSpec, find_room, registered_rooms
from views.errors import notify_error
from views.home import home_page
from views.url import UrlState, parse_query, query_string

log = logging.getLogger("lab.shell")

HOME = ""
SHELL_KEYS = ("room", "present")   # what the URL holds for the shell; the rest is the open room's
PRESENT_CSS = """
body.lab-present { zoom: 1.3; }
"""


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


def value_from_text(parameter: param.Parameter, text: str):
    """A URL value as ``parameter`` takes it; ValueError when it cannot be one."""
    if isinstance(parameter, param.Boolean):
        if text.lower() not in ("1", "0", "true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() in ("1", "true")
    if isinstance(parameter, param.Selector):
        objects = parameter.objects.values() if isinstance(parameter.objects, dict) else parameter.objects
        for value in objects:
            if str(value) == text:
                return value
        if not parameter.check_on_set:  # choices that fill in later (a room's loaded datasets)
            return text
        raise ValueError(f"{text!r} is not one of the choices")
    if isinstance(parameter, param.List):
        return [item for item in text.split(",") if item]
    if isinstance(parameter, param.Integer):
        return int(text)
    if isinstance(parameter, param.Number):
        return float(text)
    return text


def url_names(model) -> tuple[str, ...]:
    """What of ``model`` the URL holds: its declared parameters, and the open experiment."""
    names = tuple(getattr(model, "url_parameters", ()))
    return names + (("experiment",) if "experiment" in model.param and "experiment" not in names else ())


def url_values(model) -> dict[str, str]:
    """The model's URL parameters that differ from their defaults, as text."""
    names = url_names(model)
    return {name: _as_text(getattr(model, name)) for name in names
            if getattr(model, name) != model.param[name].default}


def _as_text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def apply_url_values(model, values: dict[str, str]) -> list[str]:
    """Set the model's URL parameters from ``values`` (the others back to their defaults);
    returns messages for the values it could not take (those are left as they were)."""
    problems = []
    with param.parameterized.batch_call_watchers(model):  # watchers see one change
        for name in url_names(model):
            parameter = model.param[name]
            try:
                value = value_from_text(parameter, values[name]) if name in values else parameter.default
                if getattr(model, name) != value:
                    setattr(model, name, value)
            except (ValueError, TypeError) as error:
                problems.append(f"{parameter.label or name}: {error}")
    return problems


class LabShell(param.Parameterized):
    """Which page is on show; everything else belongs to the rooms."""

    room = param.String(default=HOME, doc="Slug of the room on show; empty for the home page.")
    present = param.Boolean(default=False, doc="Presentation mode: larger text, secondary controls folded away.")

    def __init__(self, query: str = "", **params):
        values = parse_query(query)
        params.setdefault("room", values.get("room", HOME))
        params.setdefault("present", values.get("present") in ("1", "true"))
        super().__init__(**params)
        self._rooms = registered_rooms()
        self._built: dict[str, pn.viewable.Viewable] = {}
        self._models: dict[str, param.Parameterized] = {}
        self._restoring = False
        self._pending_values: dict | None = {k: v for k, v in values.items() if k not in SHELL_KEYS}
        self.url = UrlState(query=query)
        self.url.param.watch(self._restore, "query")
        self._content = pn.Column(sizing_mode="stretch_both")
        self._home: pn.viewable.Viewable | None = None
        self._nav = self._navigation()
        self._show()

    def open_room(self, slug: str) -> None:
        self.room = slug

    def open_experiment(self, slug: str, experiment_id: str) -> None:
        """Show ``slug`` with ``experiment_id`` open in its Experiments panel."""
        with pn.io.hold():   # one update: see _show
            self.room = slug
            model = self._models.get(slug)
            if model is not None and "experiment" in model.param:
                model.experiment = experiment_id

    # ---- the URL ---------------------------------------------------------------------------
    def current_query(self) -> str:
        model = self._models.get(self.room)
        values = {"room": self.room, **(url_values(model) if model is not None else {}),
                  "present": "1" if self.present else ""}
        return query_string(values)

    def _write_url(self, *_events) -> None:
        if not self._restoring:
            self.url.query = self.current_query()

    def _restore(self, event) -> None:
        """Back/Forward (or a new query from the page): show the state the URL describes."""
        if event.new == self.current_query():
            return
        values = parse_query(event.new)
        self._restoring = True
        try:
            self._pending_values = {k: v for k, v in values.items() if k not in SHELL_KEYS}
            self.present = values.get("present") in ("1", "true")
            if self.room != values.get("room", HOME):
                self.room = values.get("room", HOME)   # shows the room and applies the values
            else:
                self._apply_pending()
        finally:
            self._restoring = False

    def _apply_pending(self) -> None:
        model = self._models.get(self.room)
        if model is None or self._pending_values is None:
            return
        values, self._pending_values = self._pending_values, None
        problems = apply_url_values(model, values)
        if problems:
            notify_error(ValueError("Some settings in the link were not used: " + "; ".join(problems)))

    # ---- pages -----------------------------------------------------------------------------
    def _navigation(self) -> pn.viewable.Viewable:
        buttons = [self._nav_button("Home", HOME)]
        buttons += [self._nav_button(room.title, room.slug) for room in self._rooms]
        copy = pn.widgets.Button(label="Copy link", color="light", sizing_mode="stretch_width",
                                 description="Copy this page's address: it opens the same room and settings.",
                                 css_classes=["copy-link"])
        copy.js_on_click(code=COPY_LINK_JS)
        present = pn.widgets.Toggle.from_param(self.param.present, label="Presentation mode",
                                               sizing_mode="stretch_width", css_classes=["present-toggle"])
        self._presenter = PageClass(active=self.present, width=0, height=0, margin=0)
        return pn.Column(*buttons, pn.layout.Spacer(height=20), copy, present, self.url, self._presenter,
                         sizing_mode="stretch_width")

    def _nav_button(self, label: str, slug: str) -> pn.widgets.Button:
        button = pn.widgets.Button(label=label, color="light", sizing_mode="stretch_width")
        button.on_click(lambda _event: self.open_room(slug))
        return button

    @param.depends("room", watch=True)
    def _show(self) -> None:
        """Show one page (rooms once built are kept, with their state, for when they are shown again).

        Everything it changes goes to the browser as one update: a room built here and then
        changed (its Experiments tab brought to the front, the link's settings applied) in
        separate updates made BokehJS change views it was still building, which throws
        (Panel's Tabs: 't is not iterable') and loses the rest of that update."""
        with pn.io.hold():
            self._show_page()

    def _show_page(self) -> None:
        page = self._page(self.room)
        # Hidden pages cost the browser on every later update (a room opened after two others
        # took 34 s of Chromium CPU instead of 10), so a page leaves the layout when another is
        # shown; Panel draws it anew when it comes back, its state intact. Not one that holds a
        # VTK pane: vtk.js leaves listeners on a removed render window that throw 'getInteractor'
        # on every mouse move (and a stale canvas stays), so those rooms stay, hidden.
        with_vtk = [self._built[room.slug] for room in self._rooms if room.slug in self._built and "vtk" in room.extensions]
        kept = [p for p in self._content.objects if p is page or p in with_vtk]
        if page not in kept:
            kept.append(page)       # (in place otherwise: a view moved is a view rebuilt)
        if kept != self._content.objects:
            self._content[:] = kept
        for shown in kept:
            shown.visible = shown is page
        self._apply_pending()
        self._write_url()

    def _page(self, slug: str) -> pn.viewable.Viewable:
        if slug == HOME:
            if self._home is None:
                self._home = home_page(self._rooms, self.open_room, all_experiments(), self.open_experiment)
            return self._home
        room = find_room(slug)
        if room is None or room not in self._rooms:
            return not_found_page(slug)
        if slug not in self._built:
            try:
                view = room.load_builder()()
            except Exception as error:  # a broken room must not take the lab down
                notify_error(error)
                return failed_room_page(room, error)
            self._built[slug] = pn.Column(view, css_classes=["room", f"room-{slug}"], sizing_mode="stretch_width")
            self._follow(slug, getattr(view, "model", None))
            self._fold_secondary(self._built[slug])
        return self._built[slug]

    @param.depends("present", watch=True)
    def _present_changed(self) -> None:
        self._presenter.active = self.present
        for built in self._built.values():
            self._fold_secondary(built)
        self._write_url()

    def _fold_secondary(self, view) -> None:
        """In presentation mode, cards a room marks ``secondary`` start folded."""
        for card in view.select(pn.Card):
            if "secondary" in card.css_classes:
                card.collapsed = self.present

    def _follow(self, slug: str, model) -> None:
        """Keep the URL in step with the room's declared parameters."""
        if model is None:
            return
        self._models[slug] = model
        names = list(url_names(model))
        if names:
            model.param.watch(lambda *_: self._write_url() if self.room == slug else None, names)

    def template(self) -> pn.template.BaseTemplate:
        return pn.template.BootstrapTemplate(
            raw_css=[PRESENT_CSS],
            title="Neural Lab",
            sidebar=[self._nav],
            main=[self._content],
            header_background="#2f4f73",
            sidebar_width=220,
        )


COPY_LINK_JS = """
const url = window.location.href;
const done = () => { window.__labCopiedLink = url; };
if (navigator.clipboard) { navigator.clipboard.writeText(url).then(done, done); } else { done(); }
"""


class PageClass(JSComponent):
    """Puts ``css_class`` on the page's <body> while ``active`` (Panel's own panes live in shadow DOM,
    which page-wide rules such as the presentation zoom cannot reach from inside)."""

    active = param.Boolean(default=False)
    css_class = param.String(default="lab-present")

    _esm = """
    export function render({ model }) {
      const apply = () => document.body.classList.toggle(model.css_class, model.active)
      apply()
      model.on("active", apply)
      const holder = document.createElement("span")
      holder.style.display = "none"
      return holder
    }
    """


def extensions() -> list[str]:
    """Panel extensions the registered rooms need, loaded up front so lazily built rooms render."""
    needed: list[str] = []
    for room in registered_rooms():
        needed += [name for name in room.extensions if name not in needed]
    return needed


def session_query() -> str:
    """The query string the page was opened with (empty outside a served session)."""
    arguments = pn.state.session_args or {}
    values = {name: values[-1].decode("utf-8", "replace") for name, values in arguments.items() if values}
    return query_string(values)


def build_app() -> pn.template.BaseTemplate:
    pn.extension(*extensions(), notifications=True, exception_handler=notify_error)
    return LabShell(query=session_query()).template()
