"""The worm activity room's model (headless): ``WormRoom``.

    room = WormRoom()                 # declares only: nothing is read or simulated yet
    room.start()                      # data folder listed, simulated default shown (background)
    room.task                         # the simulation's BackgroundTask (progress, pause, stop)
    room.dataset / room.worm          # pick what is on show; room.recording is preprocessed
    room.add_neuron("ava"), room.pick("AVAL"), room.pick_at((x, y, z), radius)
    room.heatmap_rows(), room.traces(names), room.behaviour(), room.events()
    room.positions(), room.activity_at(t), room.partners(), room.partner_traces()
    room.replay(), room.correlations(), room.find_paths(), room.comparison()
    room.load_path(path), room.load_upload([(filename, bytes), ...])
"""
from lab.worms.room import WormRoom

__all__ = ["WormRoom", "simulate_default"]


def simulate_default() -> None:
    """The simulated worms a new room shows, computed once into the cache sessions share."""
    WormRoom().simulate_into_cache()
