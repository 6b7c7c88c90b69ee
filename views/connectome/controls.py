"""The room's controls column: where the recordings come from, the tensor, the factorisation,
the rank sweep and the communities; each control shown only where it applies."""
from __future__ import annotations

from typing import Callable

import panel as pn

from lab.connectome.plan import DATA_FOLDER_SOURCE, PATHS_OFF, SIMULATED, UPLOAD, data_folder_choices
from lab.recordings import ACCEPT, FORMATS_TEXT
from lab.uploads import limit_text
from views.widgets import param_widgets, show_when

CONTROL_WIDTH = 300
SMALL_TEXT = {"font-size": "0.85em", "color": "#555"}


def button(label: str, action: Callable[[], None], kind: str = "primary", **options) -> pn.widgets.Button:
    widget = pn.widgets.Button(label=label, button_type=kind, margin=(8, 10), **options)
    widget.on_click(lambda _event: action())
    return widget


def _widgets(model) -> dict:
    """A widget for every setting of the room (the settings it keeps in the URL)."""
    return param_widgets(model, model.url_parameters, {"tol": pn.widgets.FloatInput})


def _data_folder(model, path: pn.widgets.Widget) -> pn.Column:
    """The path, typed or picked among the data folder's folders of recordings."""
    found = pn.widgets.Select(name="Recordings found in the data folder", options=["", *data_folder_choices()],
                              sizing_mode="stretch_width", css_classes=["connectome-found"])
    found.param.watch(lambda event: setattr(model, "path", event.new) if event.new else None, "value")
    return pn.Column(found, path, sizing_mode="stretch_width")


def _for_source(model, source: str, viewable):
    return show_when(viewable, model, ["source"], lambda chosen: chosen == source)


def _recordings(model, widgets: dict, upload: pn.widgets.FileInput) -> list:
    paths_off = DATA_FOLDER_SOURCE not in model.param.source.objects
    simulated = pn.Column(widgets["n_worms"], widgets["duration_s"], widgets["simulation_seed"],
                          sizing_mode="stretch_width")
    uploaded = pn.Column(upload, pn.pane.Markdown(f"{FORMATS_TEXT}; several files at once, {limit_text()}",
                                                  styles=SMALL_TEXT), sizing_mode="stretch_width")
    return [widgets["source"],
            pn.pane.Markdown(PATHS_OFF, styles=SMALL_TEXT, css_classes=["connectome-paths-off"], visible=paths_off),
            _for_source(model, SIMULATED, simulated),
            _for_source(model, DATA_FOLDER_SOURCE, _data_folder(model, widgets["path"])),
            _for_source(model, UPLOAD, uploaded)]


def controls(model, actions: dict[str, Callable[[], None]], upload: pn.widgets.FileInput) -> pn.Column:
    """``actions``: build, factorise, sweep, use_recommended_rank (the view wraps them to report errors)."""
    w = _widgets(model)
    no_tensor = lambda tensor: tensor is None  # noqa: E731
    factorise = button("Factorise", actions["factorise"], disabled=pn.bind(no_tensor, model.param.tensor))
    sweep = button("Sweep ranks", actions["sweep"], disabled=pn.bind(no_tensor, model.param.tensor))
    recommended = show_when(button("Use recommended rank and refit", actions["use_recommended_rank"], "light"),
                            model, ["recommended_rank"], lambda rank: rank is not None)
    return pn.Column(
        "### Recordings", *_recordings(model, w, upload),
        "### Affinity tensor", w["affinity"],
        show_when(w["kernel_lag_s"], model, ["affinity"], lambda affinity: affinity == "kernel"),
        w["window_s"], w["step_s"], w["min_worm_fraction"],
        w["factorise_after_build"], button("Build tensor", actions["build"]),
        "### Factorisation", w["rank"], w["max_iter"], w["tol"], w["ntf_seed"], factorise,
        "### Rank sweep", w["sweep_from"], w["sweep_to"], w["n_restarts"], w["executor"], sweep, recommended,
        "### Communities", w["community_method"],
        show_when(w["resolution"], model, ["community_method"], lambda method: method == "leiden"),
        show_when(w["max_blocks"], model, ["community_method"], lambda method: method == "sbm"),
        w["n_shuffles"],
        width=CONTROL_WIDTH, css_classes=["connectome-controls"])


def upload_widget() -> pn.widgets.FileInput:
    return pn.widgets.FileInput(accept=ACCEPT, multiple=True, sizing_mode="stretch_width")
