"""The reservoir room's views: ``room.py`` (build_room, ReservoirRoomView) composes the controls
(controls.py), the live plots (live.py), the eigenvalue and task tabs (analysis.py) and the
balance sweep (sweep.py)."""
