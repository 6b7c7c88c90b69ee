"""The dynamic-connectome room's views; ``build_room()`` is what the shell calls."""
from views.connectome.room import ConnectomeView, build_room

__all__ = ["ConnectomeView", "build_room"]
