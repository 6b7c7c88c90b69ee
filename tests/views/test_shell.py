from dataclasses import replace

import panel as pn

from lab.rooms import EXTRA_ROOMS_VARIABLE, RoomSpec
from tests.browser.demo_room import DEMO_ROOM
from views.shell import LabShell


def broken_builder():
    raise RuntimeError("this room is broken")


DEMO_WITH_VTK = replace(DEMO_ROOM, extensions=("vtk",))   # declares a VTK pane, as fields does
BROKEN = RoomSpec(slug="broken", title="Broken", summary="Fails to build.",
                  builder="tests.views.test_shell:broken_builder")


def markdown_text(viewable):
    return viewable.object if isinstance(viewable, pn.pane.Markdown) else ""


def shown(shell):
    """The one page on show (the others stay in the layout, hidden)."""
    pages = [page for page in shell._content if page.visible]
    assert len(pages) == 1
    return pages[0]


def test_home_is_the_default_page():
    shell = LabShell()
    assert shell.room == ""
    assert "Pick a room to start" in markdown_text(shown(shell)[0])


def test_unknown_room_shows_a_link_home():
    shell = LabShell(room="no-such-room")
    text = markdown_text(shown(shell))
    assert "no-such-room" in text and "Back to the lab's home page" in text


def test_rooms_are_built_once_and_kept(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    shell = LabShell()
    assert "demo" not in shell._built  # nothing is built until opened
    shell.room = "demo"
    first = shown(shell)
    shell._models["demo"].count_to = 7   # state the user set
    shell.room = ""
    # out of the layout while hidden (hidden pages cost the browser on every later update) ...
    assert first not in shell._content.objects
    shell.room = "demo"
    # ... and the same room, with its state, when shown again
    assert shown(shell) is first and shell._models["demo"].count_to == 7
    assert "room-demo" in first.css_classes


def test_a_room_with_a_vtk_pane_stays_in_the_layout_hidden(monkeypatch):
    # vtk.js leaves listeners on a removed render window: 'getInteractor' errors on every mouse move
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.views.test_shell:DEMO_WITH_VTK")
    shell = LabShell(room="demo")
    room = shown(shell)
    shell.room = ""
    assert room in shell._content.objects and not room.visible
    shell.room = "demo"
    assert shell._content.objects == [room] and room.visible   # the home page left; the room in place


def test_a_room_that_fails_to_build_leaves_the_shell_usable(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.views.test_shell:BROKEN")
    shell = LabShell(room="broken")
    assert "this room is broken" in markdown_text(shown(shell))
    shell.room = ""
    assert "Pick a room to start" in markdown_text(shown(shell)[0])


def test_a_link_sets_the_rooms_parameters_and_changes_go_back_into_the_url(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    shell = LabShell(query="?room=demo&count_to=7")
    model = shell._models["demo"]
    assert model.count_to == 7 and shell.url.query == "?room=demo&count_to=7"
    model.count_to = 12
    assert shell.url.query == "?room=demo&count_to=12"
    model.count_to = 40  # the default is left out of the URL
    assert shell.url.query == "?room=demo"


def test_back_restores_the_room_and_its_settings(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    shell = LabShell(query="?room=demo&count_to=9")
    shell.room = ""
    assert shell.url.query == ""
    shell.url.query = "?room=demo&count_to=9"  # what the page sends on Back
    assert shell.room == "demo" and shell._models["demo"].count_to == 9
    shell.url.query = "?room=demo"              # Back once more: the setting before it
    assert shell._models["demo"].count_to == 40


def test_a_bad_value_in_a_link_is_reported_and_the_rest_is_used(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    reported = []
    monkeypatch.setattr("views.shell.notify_error", reported.append)
    shell = LabShell(query="?room=demo&count_to=lots")
    assert shell.room == "demo" and shell._models["demo"].count_to == 40
    assert reported and "Count to" in str(reported[0])


def test_home_page_cards_carry_card_sized_pictures_not_full_screenshots():
    import io

    from PIL import Image

    from lab.rooms import ROOMS
    from views.home import THUMBNAIL_SIZE, room_card
    room = next(r for r in ROOMS if r.thumbnail is not None)
    card = room_card(room, lambda slug: None)
    picture = card.objects[0].object
    with Image.open(io.BytesIO(picture)) as image:
        assert image.format == "JPEG" and image.width <= THUMBNAIL_SIZE[0] and image.height <= THUMBNAIL_SIZE[1]
    assert len(picture) < room.thumbnail.stat().st_size / 2
