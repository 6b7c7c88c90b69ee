"""Export factors and partitions as NPZ and CSV, and the settings that produced them as JSON,
each written atomically (temp file + os.replace)."""
from __future__ import annotations

import io
import json
import platform
from importlib import metadata
from typing import Mapping

import numpy as np
import pandas as pd

from engines.connectome.ntf import NTFResult
from engines.connectome.tensor import AffinityTensor
from engines.files import atomic_write_bytes

# The distributions whose versions decide what a run computes (recorded beside the results).
LIBRARIES = ("neural-lab", "numpy", "scipy", "pandas", "tensorly", "tensorly-viz", "leidenalg", "igraph")


def factors_npz(path: str, tensor: AffinityTensor, result: NTFResult) -> None:
    """Weights, the three factors and the axes they refer to, in one .npz."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, weights=result.weights, temporal=result.factors[0], worm=result.factors[1],
                        pair=result.factors[2], pairs=tensor.pairs, neurons=np.array(tensor.neurons),
                        worm_names=np.array(tensor.worm_names), window_start_s=tensor.window_start_s,
                        window_s=tensor.window_s, step_s=tensor.step_s, affinity=tensor.affinity)
    atomic_write_bytes(path, buffer.getvalue())


def factors_frames(tensor: AffinityTensor, result: NTFResult) -> dict[str, pd.DataFrame]:
    """Tidy tables of the temporal, worm and pair factors (one column per component)."""
    cols = [f"component_{k}" for k in range(result.rank)]
    temporal = pd.DataFrame(result.factors[0], columns=cols)
    temporal.insert(0, "window_start_s", tensor.window_start_s)
    worm = pd.DataFrame(result.factors[1], columns=cols)
    worm.insert(0, "worm", list(tensor.worm_names))
    pair = pd.DataFrame(result.factors[2], columns=cols)
    pair.insert(0, "neuron_b", [tensor.neurons[j] for j in tensor.pairs[:, 1]])
    pair.insert(0, "neuron_a", [tensor.neurons[i] for i in tensor.pairs[:, 0]])
    return {"temporal": temporal, "worm": worm, "pair": pair}


def factors_csv(prefix: str, tensor: AffinityTensor, result: NTFResult) -> list[str]:
    """``<prefix>_temporal.csv``, ``_worm.csv``, ``_pair.csv``; returns the paths written."""
    paths = []
    for name, frame in factors_frames(tensor, result).items():
        path = f"{prefix}_{name}.csv"
        atomic_write_bytes(path, frame.to_csv(index=False).encode())
        paths.append(path)
    return paths


def partitions_csv(path: str, neurons, partitions: Mapping[str, np.ndarray]) -> None:
    """One row per neuron, one column per partition (e.g. 'component_0/leiden')."""
    frame = pd.DataFrame({"neuron": list(neurons)})
    for name, labels in partitions.items():
        frame[name] = np.asarray(labels, dtype=int)
    atomic_write_bytes(path, frame.to_csv(index=False).encode())


def library_versions() -> dict[str, str]:
    """Python's and each of ``LIBRARIES``' installed version ("not installed" where absent)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def settings_json(path, settings: Mapping, results: Mapping) -> None:
    """The settings that produced a run and a summary of its results, with the library versions."""
    document = {"settings": settings, "results": results, "versions": library_versions()}
    atomic_write_bytes(path, json.dumps(document, indent=2, default=_plain).encode())


def _plain(value):
    """numpy scalars and arrays, tuples as JSON takes them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
