"""Where experiments are found: each room names its declaration module in lab/rooms.py."""
from __future__ import annotations

import importlib

from lab.experiments.spec import Experiment
from lab.rooms import registered_rooms


def all_experiments() -> list[Experiment]:
    """Every room's experiments, room by room in the order the lab lists its rooms."""
    found = []
    for room in registered_rooms():
        if room.experiments:
            found += list(importlib.import_module(room.experiments).EXPERIMENTS)
    return found


def room_experiments(slug: str) -> list[Experiment]:
    return [e for e in all_experiments() if e.room == slug]


def find_experiment(experiment_id: str) -> Experiment:
    experiments = {e.id: e for e in all_experiments()}
    if experiment_id not in experiments:
        raise KeyError(f"no experiment {experiment_id!r}; the lab has: {', '.join(experiments)}")
    return experiments[experiment_id]
