"""Views of the neural fields room: ``build_room()`` is what the lab's shell calls.

room.py        FieldsRoomView: controls, progress, metric line, the task's view, curves
image_view.py  target | reconstruction with kernels | error map, linked zoom
shape_view.py  pyvista scene in Panel's VTK pane: isosurface, ground truth, kernels, slice
curves.py      PSNR / IoU and loss against training time (hv.streams.Buffer)
updates.py     moves snapshot redraws from the training thread onto the session's event loop
"""
from views.fields.room import FieldsRoomView, build_room

__all__ = ["FieldsRoomView", "build_room"]
