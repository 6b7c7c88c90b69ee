"""The simulated worms' shaping parameters as param parameters, built from their one declaration.

engines.worms.simulation_params declares every parameter once (default, bounds, unit, one line);
``SimulationSettings`` turns the ones in ``SHAPING`` (those that move the statistics real
recordings are compared on) into param parameters the room's "Simulated worms" card shows, and
``params()`` gives them back to the engine.
"""
from __future__ import annotations

import param

from engines.worms.simulation_params import SHAPING, ParamSpec, SimulationParams, parameter_specs

SPECS: dict[str, ParamSpec] = {spec.name: spec for spec in parameter_specs() if spec.name in SHAPING}


def label(spec: ParamSpec) -> str:
    """'forward_run_s' -> 'Forward run (s)': the widget's name with the unit."""
    words = spec.name.removesuffix("_s").replace("_", " ").capitalize()
    return f"{words} ({spec.unit})" if spec.unit else words


def _parameter(spec: ParamSpec) -> param.Parameter:
    kind = param.Integer if spec.integer else param.Number
    return kind(default=spec.default, bounds=spec.bounds, label=label(spec), doc=spec.doc)


class SimulationSettings(param.Parameterized):
    """The parameters that shape the simulated worms' statistics (one param each, from SPECS)."""

    def values(self) -> dict:
        return {name: getattr(self, name) for name in SPECS}

    def params(self) -> SimulationParams:
        """The engine's parameters: these settings, the rest at their defaults."""
        return SimulationParams(**self.values())


for _name, _spec in SPECS.items():
    SimulationSettings.param.add_parameter(_name, _parameter(_spec))
