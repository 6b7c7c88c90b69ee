"""The worm activity room's model (headless): ``WormRoom`` and the dataset catalogue.

    room = WormRoom()                 # starts simulating the default dataset in the background
    room.task                         # its BackgroundTask (progress, pause, stop)
    room.dataset / room.worm          # pick what is on show; room.recording is preprocessed
    room.add_neuron("ava")            # stack a trace (search by name or class)
    room.heatmap_rows(), room.traces(names), room.behaviour(), room.events()
    room.positions(), room.activity_at(t), room.partners(), room.partner_traces()
    room.comparison()                 # shared neurons of room.compare_worms
    room.load_path(path), room.load_upload([(filename, bytes), ...])
"""
from lab.worms.model import WormRoom

__all__ = ["WormRoom"]
