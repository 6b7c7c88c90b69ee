"""Panel / HoloViews / pyvista views: each takes a model and renders it, nothing more."""
