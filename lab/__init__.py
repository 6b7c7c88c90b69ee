"""Neural Lab's room models and the app that ``panel serve lab`` runs (lab/main.py).

Kept light on purpose: Bokeh's directory-app runner imports this package under a synthetic
name, so nothing here may build state. Import modules absolutely (``import lab.tasks``).
"""
