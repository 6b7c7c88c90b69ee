import pytest

from lab.rooms import EXTRA_ROOMS_VARIABLE, ROOMS, find_room, registered_rooms


def test_slugs_are_unique_and_url_safe():
    slugs = [room.slug for room in ROOMS]
    assert len(slugs) == len(set(slugs))
    assert all(slug.isidentifier() or slug.replace("-", "").isalnum() for slug in slugs)


@pytest.mark.parametrize("room", ROOMS, ids=[room.slug for room in ROOMS])
def test_every_registered_room_has_a_builder_and_a_summary(room):
    assert callable(room.load_builder())
    assert room.summary and "\n" not in room.summary


def test_extra_rooms_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(EXTRA_ROOMS_VARIABLE, "tests.browser.demo_room:DEMO_ROOM")
    assert [room.slug for room in registered_rooms()][-1] == "demo"
    assert find_room("demo").title == "Demo room"
    assert find_room("no-such-room") is None
