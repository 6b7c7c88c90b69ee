"""The server's start hook warms every room's imports once, before it serves (issue 19)."""
import logging
import sys
import threading

from lab import server_lifecycle
from lab.rooms import ROOMS


def test_every_rooms_builder_is_imported_and_said_so(caplog):
    with caplog.at_level(logging.INFO, logger="bokeh.server.lab"):
        server_lifecycle.warm_room_imports()
    warmed = [record.getMessage().split()[0] for record in caplog.records if "imports warmed" in record.getMessage()]
    assert warmed == [room.slug for room in ROOMS]
    for room in ROOMS:
        assert room.builder.partition(":")[0] in sys.modules
    # then each room's first work: a new worm room shows the simulated default at once
    assert [r.getMessage().split()[0] for r in caplog.records if "first work warmed" in r.getMessage()] == ["worms"]
    from lab.worms import WormRoom
    room = WormRoom()
    room.start()
    assert room.recording is not None and not room.task.is_alive


def test_the_hook_warms_once_for_all_routes_before_it_returns(monkeypatch):
    warmed = []
    monkeypatch.setattr(server_lifecycle, "_started", False)
    monkeypatch.setattr(server_lifecycle, "warm_room_imports", lambda: warmed.append(threading.current_thread().name))
    server_lifecycle.on_server_loaded(None)     # Panel serves "/" and "/lab": the hook runs twice
    assert warmed == [threading.current_thread().name]   # done before the server answers a page
    server_lifecycle.on_server_loaded(None)
    assert len(warmed) == 1
