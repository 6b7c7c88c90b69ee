"""Views of the neural fields room: ``room.build_room()`` is what the lab's shell calls.

room.py        FieldsRoomView: controls, progress, metric line, the task's view, curves
controls.py    the control cards: one widget per parameter, knobs shown where they apply
image_view.py  target | reconstruction with its units | error map, linked zoom
shape_view.py  pyvista scene in Panel's VTK pane: isosurfaces, ground truth, kernels, slices
curves.py      PSNR / IoU and loss against training time
"""
