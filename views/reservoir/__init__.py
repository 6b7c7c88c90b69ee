"""The reservoir room: controls on the left, live views, eigenvalues, task and sweep in tabs."""
from __future__ import annotations

import panel as pn

from lab.reservoir import ReservoirRoom
from views.progress import TaskProgress
from views.reservoir.analysis import spectrum_panel, task_panel
from views.reservoir.live import LiveViews
from views.reservoir.sweep import sweep_panel

NETWORK = ["n", "frac_excitatory", "in_degree", "gain", "balance", "input_scale", "topology", "adaptation",
           "targets", "target_rate", "target_low", "target_high", "seed"]
DISPLAY = ["window", "neuron", "speed", "frame_rate"]


def controls(model: ReservoirRoom) -> pn.viewable.Viewable:
    widgets = {"balance": {"type": pn.widgets.FloatSlider, "throttled": True},
               "gain": {"type": pn.widgets.FloatSlider, "throttled": True},
               "n": {"type": pn.widgets.IntSlider, "throttled": True},
               "in_degree": {"type": pn.widgets.IntSlider, "throttled": True},
               "seed": pn.widgets.IntInput}
    network = pn.Param(model, parameters=NETWORK, widgets=widgets, show_name=False, width=290,
                       css_classes=["reservoir-controls"])
    display = pn.Param(model, parameters=DISPLAY, show_name=False, width=290)
    buttons = []
    for label, action, colour in (("Run", model.run, "primary"), ("Pause", model.pause, "warning"),
                                  ("Step", model.step, "light"), ("Reset", model.reset, "light")):
        button = pn.widgets.Button(label=label, color=colour, width=62, margin=(5, 4))
        button.on_click(lambda _event, action=action: action())
        buttons.append(button)
    return pn.Column(pn.Row(*buttons), network, pn.layout.Divider(), "**Live view**", display, width=310)


def build_room() -> pn.viewable.Viewable:
    model = ReservoirRoom()
    pn.state.on_session_destroyed(lambda _context: model.close())
    live = LiveViews(model)
    message = pn.pane.Markdown(model.param.message, margin=(0, 10), styles={"color": "#555"})
    tabs = pn.Tabs(("Live", live), ("Eigenvalues", spectrum_panel(model)), ("Task", task_panel(model)),
                   ("Sweep", sweep_panel(model)), dynamic=False, sizing_mode="stretch_width")
    main = pn.Column(pn.Row(live.badge, TaskProgress(model.live), sizing_mode="stretch_width"), message, tabs,
                     sizing_mode="stretch_width")
    intro = pn.pane.Markdown(
        "## Reservoir: excitation, inhibition and adaptation\n"
        "Rate neurons obeying Dale's law. Move the balance g and watch the regime change; switch adaptation on "
        "mid-run and watch each neuron settle toward its target rate.", sizing_mode="stretch_width")
    model.compute_spectrum()
    return pn.Column(intro, pn.Row(controls(model), main, sizing_mode="stretch_width"), sizing_mode="stretch_width")
