"""The worm room's simulated default: deterministic under its settings, so sessions share one copy."""
from __future__ import annotations

import threading

from engines.worms import Collection

SIMULATED = "simulated worms (connectome rate model, default)"

_SIMULATED_CACHE: dict[tuple, Collection] = {}
_CACHE_LOCK = threading.Lock()


def simulation_key(n_worms: int, duration_s: float, dt: float, seed: int,
                   settings: dict | None = None) -> tuple:
    """What a simulation is determined by: its size, seed and shaping parameters."""
    return (int(n_worms), float(duration_s), float(dt), int(seed),
            tuple(sorted((settings or {}).items())))


def cached_simulation(key: tuple) -> Collection | None:
    with _CACHE_LOCK:
        return _SIMULATED_CACHE.get(key)


def remember_simulation(key: tuple, collection: Collection) -> None:
    with _CACHE_LOCK:
        _SIMULATED_CACHE[key] = collection
