"""Pure computation for the lab's rooms: no panel, holoviews, bokeh or pyvista imports here."""
