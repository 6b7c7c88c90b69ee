"""Loaders for the activity formats people have; ``load(path)`` picks one by extension/content.

Every loader returns engine model objects (``Collection`` of ``Recording``) and raises
``InvalidInputError`` naming the file and the field when a file cannot be used.

No file runs code when read (pickles go through an allow-list unpickler, NPZ files are read with
``allow_pickle=False``), and ``load(path, max_bytes)`` refuses a file whose read would take more
memory than ``max_bytes``, estimated from its shapes, headers and metadata before it is read.
"""
from __future__ import annotations

from pathlib import Path

from engines.errors import InvalidInputError
from engines.worms.loaders import footprint
from engines.worms.loaders.flavell_h5 import (flavell_files, labels_path_for, load_flavell_folder,
                                              load_flavell_h5)
from engines.worms.loaders.harmonised import (REQUIRED_COLUMNS, list_worms,
                                              load_harmonised_parquet, load_harmonised_pickle)
from engines.worms.loaders.kato_mat import load_kato_mat
from engines.worms.loaders.nwb import load_nwb
from engines.worms.loaders.plain import load_plain_csv, load_plain_npz, save_plain_npz
from engines.worms.model import Collection, Recording

__all__ = ["load", "load_flavell_h5", "load_flavell_folder", "load_harmonised_parquet",
           "load_harmonised_pickle", "list_worms", "load_kato_mat", "load_nwb",
           "load_plain_csv", "load_plain_npz", "save_plain_npz", "FORMATS", "COMPANION_SUFFIXES",
           "estimated_bytes"]

# The one list of formats: the loaders dispatch on it and the lab's upload widgets accept it.
FORMATS = {".h5": "Flavell-lab HDF5 (+ labels CSV)", ".hdf5": "Flavell-lab HDF5",
           ".parquet": "harmonised dataset parquet", ".pickle": "harmonised per-worm pickle",
           ".pkl": "harmonised per-worm pickle", ".mat": "Kato-style MATLAB",
           ".nwb": "NWB", ".csv": "plain CSV", ".npz": "plain NPZ"}
# Files that go with a recording rather than being one: a Flavell file's NeuroPAL label table,
# a plain CSV's events table.
COMPANION_SUFFIXES = ("-labels.csv", "-events.csv")


def _is_nwb(path: Path) -> bool:
    import h5py
    try:
        with h5py.File(path, "r") as f:
            return "nwb_version" in f.attrs or "acquisition" in f
    except OSError:
        return False


def estimated_bytes(path, max_bytes: int | None = None) -> int:
    """What ``load(path)`` would take in memory, from shapes, headers and metadata (see footprint)."""
    path = Path(path)
    if path.is_dir():
        return sum(estimated_bytes(f, max_bytes) for f in flavell_files(path))
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".nwb"):
        labels = labels_path_for(path)
        return footprint.hdf5_bytes(path) + (footprint.csv_bytes(labels) if labels.exists() else 0)
    if suffix == ".parquet":
        return footprint.parquet_bytes(path, REQUIRED_COLUMNS)
    if suffix == ".mat":
        return footprint.mat_bytes(path, max_bytes)
    if suffix == ".npz":
        return footprint.npz_bytes(path)
    if suffix == ".csv":
        events = path.with_name(f"{path.stem}-events.csv")
        return footprint.csv_bytes(path) + (footprint.csv_bytes(events) if events.exists() else 0)
    return path.stat().st_size  # pickles: checked again once unpickled, per reference


def load(path, max_bytes: int | None = None) -> Collection:
    """Read any supported file (or a folder of Flavell-lab files) into a Collection.

    ``max_bytes`` (None: no bound) refuses, before reading, a file that would take more memory.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder")
    footprint.check(path, estimated_bytes(path, max_bytes), max_bytes)
    if path.is_dir():
        return load_flavell_folder(path)
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        if _is_nwb(path):
            return load_nwb(path)
        return _single(path, load_flavell_h5(path))
    if suffix == ".nwb":
        return load_nwb(path)
    if suffix == ".parquet":
        return load_harmonised_parquet(path)
    if suffix in (".pickle", ".pkl"):
        return load_harmonised_pickle(path, max_bytes=max_bytes)
    if suffix == ".mat":
        return load_kato_mat(path)
    if suffix == ".csv":
        return _single(path, load_plain_csv(path))
    if suffix == ".npz":
        return _single(path, load_plain_npz(path))
    raise InvalidInputError(f"{path.name}: unknown format {suffix or '(no extension)'}; "
                            f"supported: {', '.join(sorted(FORMATS))}")


def _single(path: Path, recording: Recording) -> Collection:
    return Collection(name=path.stem, recordings=[recording])
