import panel as pn

from lab.rooms import EXTRA_ROOMS_VARIABLE, RoomSpec
from views.shell import LabShell


def broken_builder():
    raise RuntimeError("this room is broken")


BROKEN = RoomSpec(slug="broken", title="Broken", summary="Fails to build.",
                  builder="tests.views.test_shell:broken_builder")


def markdown_text(viewable):
    return viewable.object if isinstance(viewable, pn.pane.Markdown) else ""


def test_home_is_the_default_page():
    shell = LabShell()
    assert shell.room == ""
    assert "Pick a room to start" in markdown_text(shell._content[0][0])


def test_unknown_room_shows_a_link_home():
    shell = LabShell(room="no-such-room")
    text = markdown_text(shell._content[0])
    assert "no-such-room" in text and "Back to the lab's home page" in text


def test_rooms_are_built_once_and_kept(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    shell = LabShell()
    assert "demo" not in shell._built  # nothing is built until opened
    shell.room = "demo"
    first = shell._content[0]
    shell.room = ""
    shell.room = "demo"
    assert shell._content[0] is first
    assert "room-demo" in first.css_classes


def test_a_room_that_fails_to_build_leaves_the_shell_usable(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.views.test_shell:BROKEN")
    shell = LabShell(room="broken")
    assert "this room is broken" in markdown_text(shell._content[0])
    shell.room = ""
    assert "Pick a room to start" in markdown_text(shell._content[0][0])
