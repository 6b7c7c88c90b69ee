"""Loaders for the activity formats people have; ``load(path)`` picks one by extension/content.

Every loader returns engine model objects (``Collection`` of ``Recording``) and raises
``InvalidInputError`` naming the file and the field when a file cannot be used.
"""
from __future__ import annotations

from pathlib import Path

from engines.errors import InvalidInputError
from engines.worms.loaders.flavell_h5 import load_flavell_folder, load_flavell_h5
from engines.worms.loaders.harmonised import (list_worms, load_harmonised_parquet,
                                              load_harmonised_pickle)
from engines.worms.loaders.kato_mat import load_kato_mat
from engines.worms.loaders.nwb import load_nwb
from engines.worms.loaders.plain import load_plain_csv, load_plain_npz, save_plain_npz
from engines.worms.model import Collection, Recording

__all__ = ["load", "load_flavell_h5", "load_flavell_folder", "load_harmonised_parquet",
           "load_harmonised_pickle", "list_worms", "load_kato_mat", "load_nwb",
           "load_plain_csv", "load_plain_npz", "save_plain_npz", "FORMATS"]

FORMATS = {".h5": "Flavell-lab HDF5 (+ labels CSV)", ".hdf5": "Flavell-lab HDF5",
           ".parquet": "harmonised dataset parquet", ".pickle": "harmonised per-worm pickle",
           ".pkl": "harmonised per-worm pickle", ".mat": "Kato-style MATLAB",
           ".nwb": "NWB", ".csv": "plain CSV", ".npz": "plain NPZ"}


def _is_nwb(path: Path) -> bool:
    import h5py
    try:
        with h5py.File(path, "r") as f:
            return "nwb_version" in f.attrs or "acquisition" in f
    except OSError:
        return False


def load(path) -> Collection:
    """Read any supported file (or a folder of Flavell-lab files) into a Collection."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder")
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
        return load_harmonised_pickle(path)
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
