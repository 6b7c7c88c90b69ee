"""The worm activity room's views: ``room.py`` (build_room, WormsRoomView) composes the side
panel (controls.py), the one time cursor (time_cursor.py) and the tabs: activity (activity.py,
heatmap.py, traces.py), 3D anatomy (anatomy.py on views/anatomy3d.py), the connectome replay and
partners (circuits.py, replay.py) and the worm comparison (compare.py)."""
