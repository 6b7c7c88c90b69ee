"""The datasets the worm room can offer: the simulated default, the shared real recordings when
they are on disk, and whatever a user uploads or points to.

A dataset is anything with ``names()`` and ``[name]`` giving engine ``Recording`` objects: an
in-memory ``Collection`` or a ``LazyCollection`` that reads a recording only when it is shown.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from engines.errors import InvalidInputError
from engines.worms import Collection, LazyCollection, load

REPO = Path(__file__).resolve().parents[2]
SHARED_FLAVELL = REPO.parent / "shared" / "data" / "flavell2023"

SIMULATED = "simulated worms (connectome rate model, default)"
SHARED_LABEL = "Flavell lab 2023: 2 real NeuroPAL recordings (shared folder)"

# The simulated default is deterministic under its settings, so sessions share one copy.
_SIMULATED_CACHE: dict[tuple, Collection] = {}
_CACHE_LOCK = threading.Lock()


def simulation_key(n_worms: int, duration_s: float, dt: float, seed: int) -> tuple:
    return (int(n_worms), float(duration_s), float(dt), int(seed))


def cached_simulation(key: tuple) -> Collection | None:
    with _CACHE_LOCK:
        return _SIMULATED_CACHE.get(key)


def remember_simulation(key: tuple, collection: Collection) -> None:
    with _CACHE_LOCK:
        _SIMULATED_CACHE[key] = collection


def shared_datasets() -> dict[str, Path]:
    """The real recordings beside the repository, offered only when they are present."""
    if SHARED_FLAVELL.is_dir() and any(SHARED_FLAVELL.glob("*-data.h5")):
        return {SHARED_LABEL: SHARED_FLAVELL}
    return {}


def open_path(path) -> object:
    """A dataset from a file or folder: folders and parquet files lazily, other files at once."""
    path = Path(str(path)).expanduser()
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder")
    if path.is_dir() or path.suffix.lower() == ".parquet":
        dataset = LazyCollection(path)
        if len(dataset) == 0:
            raise InvalidInputError(f"{path}: no recordings found in this folder")
        return dataset
    dataset = load(path)
    if len(dataset) == 0:
        raise InvalidInputError(f"{path.name}: the file holds no recordings")
    return dataset


def open_uploads(files: list[tuple[str, bytes]]) -> Collection:
    """A dataset from uploaded files (a recording file, plus its labels CSV for Flavell HDF5).

    The files are written to a temporary folder, read into memory, and the folder removed.
    """
    if not files:
        raise InvalidInputError("no file was uploaded")
    folder = Path(tempfile.mkdtemp(prefix="worm-upload-"))
    try:
        for filename, data in files:
            name = Path(filename).name  # never let an upload write outside its folder
            if not name:
                raise InvalidInputError(f"upload has no usable file name: {filename!r}")
            (folder / name).write_bytes(data)
        recordings_files = [folder / Path(f).name for f, _ in files
                            if not Path(f).name.endswith("-labels.csv")]
        if len(recordings_files) != 1:
            names = ", ".join(Path(f).name for f, _ in files)
            raise InvalidInputError(f"upload one recording file at a time (with its labels CSV "
                                    f"for Flavell HDF5); got {names}")
        dataset = load(recordings_files[0])
        if len(dataset) == 0:
            raise InvalidInputError(f"{recordings_files[0].name}: the file holds no recordings")
        for rec in dataset:  # the temporary file is gone once loaded: say where it came from
            rec.provenance["file"] = f"upload: {Path(rec.provenance.get('file') or recordings_files[0]).name}"
        return dataset
    finally:
        shutil.rmtree(folder, ignore_errors=True)
