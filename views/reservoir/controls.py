"""The reservoir room's controls: Run / Pause / Step / Reset, the network and the live view.

The widgets follow the settings' declared roles (lab/reservoir/settings.py): the network's
structure and live settings in declaration order, then the live view's. The few a demonstration
moves (network, balance, gain, adaptation) stay in view; the network's details and the live
view's settings are cards marked "secondary", which presentation mode folds away. A control
shows only where it applies (the random network's size and wiring are not the connectome's;
one target rate for homogeneous targets, a range otherwise).
"""
from __future__ import annotations

import panel as pn

from lab.reservoir import ReservoirRoom
from lab.reservoir.settings import with_role
from views.widgets import param_widget, show_when

PRIMARY = ("topology", "balance", "gain", "adaptation")   # always in view (a demonstration moves these)
SLIDERS = {"balance": pn.widgets.FloatSlider, "gain": pn.widgets.FloatSlider, "n": pn.widgets.IntSlider}
RANDOM_NETWORK_ONLY = ("n", "frac_excitatory", "in_degree")
APPLIES = {  # setting -> (the settings it depends on, when it applies)
    **{name: (["topology"], lambda topology: topology == "random") for name in RANDOM_NETWORK_ONLY},
    "target_rate": (["targets"], lambda targets: targets == "homogeneous"),
    "target_low": (["targets"], lambda targets: targets != "homogeneous"),
    "target_high": (["targets"], lambda targets: targets != "homogeneous"),
}


def setting_widget(model: ReservoirRoom, name: str) -> pn.widgets.Widget:
    """The widget of one setting; sliders move the network only when released (throttled)."""
    kind = SLIDERS.get(name)
    options = {"throttled": True} if kind is not None else {}
    widget = param_widget(model, name, kind, css_classes=[f"reservoir-{name.replace('_', '-')}"], **options)
    if name in APPLIES:
        show_when(widget, model, *APPLIES[name])
    return widget


def action_buttons(model: ReservoirRoom) -> pn.Row:
    buttons = []
    for label, action, colour in (("Run", model.run, "primary"), ("Pause", model.pause, "warning"),
                                  ("Step", model.step, "light"), ("Reset", model.reset, "light")):
        button = pn.widgets.Button(label=label, color=colour, width=62, margin=(5, 4))
        button.on_click(lambda _event, action=action: action())
        buttons.append(button)
    step = buttons[2]   # stepping by hand waits for a pause
    model.live.param.watch(lambda event: setattr(step, "disabled", event.new == "running"), "state")
    return pn.Row(*buttons)


def controls(model: ReservoirRoom) -> pn.Column:
    network = with_role(type(model), "structure", "live")
    details = [setting_widget(model, name) for name in network if name not in PRIMARY]
    display = [setting_widget(model, name) for name in with_role(type(model), "display")]
    return pn.Column(action_buttons(model), *(setting_widget(model, name) for name in network if name in PRIMARY),
                     secondary_card("Network and targets", details), secondary_card("Live view", display),
                     width=310, css_classes=["reservoir-controls"])


def secondary_card(title: str, widgets: list) -> pn.Card:
    return pn.Card(*widgets, title=title, sizing_mode="stretch_width", margin=(5, 0),
                   css_classes=["secondary", f"reservoir-{title.split()[0].lower()}-card"])
