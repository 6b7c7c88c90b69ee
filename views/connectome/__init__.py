"""The dynamic-connectome room's views; ``views.connectome.room:build_room()`` is what the shell calls."""
