"""Where a build's recordings come from, decided and checked before any long work starts.

A build reads recordings already in memory (an upload, or a source read before), simulates
worms, or reads a path in the data folder. Server paths exist only where the operator named a
data folder (``lab.settings``: NEURAL_LAB_DATA); without one the room offers simulated worms
and uploads only, and says how to switch paths on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from engines.errors import EngineError, InvalidInputError
from engines.worms import CANONICAL_NEURONS, WormSimulator
from lab.connectome import aligned
from lab.connectome.checks import check_plan, check_recordings
from lab.recordings import data_folder_recordings, open_uploads, server_path
from lab.settings import DATA_FOLDER, current

SIMULATED, DATA_FOLDER_SOURCE, UPLOAD = "simulated", "data folder", "upload"
SIMULATION_CHUNK = 50     # samples simulated per step
PATHS_OFF = (f"Recordings on the server are off here. The operator switches them on by naming a data "
             f"folder when serving the lab: `{DATA_FOLDER}=/path/to/recordings panel serve lab` "
             "(README, *Serving a class*).")


def source_choices() -> list[str]:
    """Simulated and upload always; the data folder only where the operator named one."""
    folder = [DATA_FOLDER_SOURCE] if current().data_folder is not None else []
    return [SIMULATED, *folder, UPLOAD]


def data_folder_choices() -> list[str]:
    """The data folder's folders of Flavell-lab recordings, as paths relative to it."""
    folder = current().data_folder
    return [str(path.relative_to(folder)) for path in data_folder_recordings().values()] if folder else []


def read_upload(files: list[tuple[str, bytes]]) -> aligned.Recordings:
    """Uploaded (filename, bytes) pairs as the room's recordings, or a message saying why not."""
    names = ", ".join(name for name, _ in files)
    try:
        return aligned.from_collection(open_uploads(files), names)
    except EngineError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise InvalidInputError(f"'{names}' could not be read as recordings ({err}).") from err


@dataclass
class Plan:
    """What the build will read, and how many steps that takes."""
    key: tuple                                  # the source as the recordings cache knows it
    n_worms: int
    recordings: aligned.Recordings | None = None   # already in memory
    simulator: WormSimulator | None = None         # worms to simulate
    path: str | None = None                        # a path in the data folder, read in the task

    @property
    def read_steps(self) -> int:
        if self.simulator is not None:
            return math.ceil(self.simulator.n_time / SIMULATION_CHUNK)
        return 1 if self.path is not None else 0


def source_key(settings: dict, uploaded: aligned.Recordings | None) -> tuple:
    if settings["source"] == SIMULATED:
        return (SIMULATED, settings["n_worms"], float(settings["duration_s"]), settings["simulation_seed"])
    if settings["source"] == DATA_FOLDER_SOURCE:
        return (DATA_FOLDER_SOURCE, settings["path"])
    return (UPLOAD, id(uploaded))


def tensor_checks(settings: dict) -> dict:
    """The settings the engine's checks take (the rank only when the build factorises too, the
    lag tolerance only with the kernel affinity, which alone has one)."""
    rank = settings["rank"] if settings["factorise_after_build"] else None
    lag = settings["kernel_lag_s"] if settings["affinity"] == "kernel" else 0.0
    return {"window_s": settings["window_s"], "step_s": settings["step_s"], "affinity": settings["affinity"],
            "rank": rank, "min_worm_fraction": settings["min_worm_fraction"], "kernel_lag_s": lag}


def plan_recordings(settings: dict, cache: dict, uploaded: aligned.Recordings | None) -> Plan:
    """The plan for ``settings``; raises the engine's typed errors if it cannot work."""
    key = source_key(settings, uploaded)
    known = uploaded if settings["source"] == UPLOAD else cache.get(key)
    if settings["source"] == UPLOAD and uploaded is None:
        raise InvalidInputError("Upload a recording file first, or choose another source.")
    if known is not None:
        check_recordings(known.traces, known.neuron_names, known.dts, **tensor_checks(settings))
        return Plan(key, known.n_worms, recordings=known)
    if settings["source"] == SIMULATED:
        simulator = aligned.new_simulator(settings["n_worms"], settings["duration_s"], settings["simulation_seed"])
        n_worms = settings["n_worms"]
        check_plan(aligned.simulated_presence(simulator), [simulator.n_time] * n_worms,
                   [simulator.dt] * n_worms, CANONICAL_NEURONS, **tensor_checks(settings))
        return Plan(key, n_worms, simulator=simulator)
    if settings["source"] != DATA_FOLDER_SOURCE or current().data_folder is None:
        raise InvalidInputError(PATHS_OFF)
    server_path(settings["path"])  # outside the data folder or missing: said now
    return Plan(key, 1, path=settings["path"])
