"""What the room will train: each run's field, recipe and parameter count, from the room's settings.

The model trains with the room's knobs (the declared defaults unless the user changed them).
A compared model trains with its own family's declared defaults and tuned recipe: one shared
learning rate would favour one of them (SIREN learns nothing at GNF's rate). With a parameter
budget, each family's size knob is fitted to it (``registry.knob_for_budget``), the other knobs
kept, so the two compare at an equal budget.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from lab.fields import knobs
from lab.fields.config import FieldConfig
from lab.fields.training import RunPlan

_LOCK = threading.Lock()   # parameter counting builds fields on torch's meta device: one at a time


@dataclass(frozen=True)
class Planned:
    """A run the room will build, with what the page says about it."""
    plan: RunPlan
    parameters: int
    name: str                    # the family's short label
    size_knob: str
    fitted: bool                 # its size knob was fitted to a parameter budget

    @property
    def size(self):
        return self.plan.config.knobs.get(self.size_knob)


@dataclass(frozen=True)
class Settings:
    """The room's settings that decide its runs (plain values: hashable, safe to pass to a thread)."""
    task: str
    model: str
    knob_values: tuple            # ((name, value), ...) of the model's knobs
    compare_model: str            # "none" for no comparison
    seed: int
    in_dim: int
    out_dim: int
    budget: int | None            # a parameter budget both runs are fitted to, or None


def _planned(model: str, values: dict, s: Settings, learning_rate, batch_size) -> Planned:
    if s.budget is not None:
        values = knobs.fit_to_budget(model, s.in_dim, s.out_dim, s.budget, values)
    count = knobs.parameter_count(model, s.in_dim, s.out_dim, values)
    config = FieldConfig(model, seed=s.seed, **{k: v for k, v in values.items() if knobs.applies(k, model, s.task)})
    return Planned(RunPlan(config, learning_rate, batch_size), count, knobs.short_label(model),
                   knobs.size_knob(model), s.budget is not None)


def plan_runs(s: Settings) -> list[Planned]:
    """The model's run and, when comparing, the compared model's (its own declared defaults)."""
    with _LOCK:
        values = dict(s.knob_values)
        runs = [_planned(s.model, values, s, values.get("learning_rate"), values.get("batch_size"))]
        if s.compare_model != "none":
            runs.append(_planned(s.compare_model, knobs.taken(s.compare_model, s.task), s, None, None))
    return runs
