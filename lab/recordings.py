"""Where a room's recordings come from: a path on the server, an upload, or the data folder.

The worm and connectome rooms both open recordings here, under one set of rules:
- Server paths are off unless the operator names a data folder (NEURAL_LAB_DATA, lab.settings).
  A path is read relative to that folder (an absolute path inside it works too); one that
  resolves outside it (``..``, a symbolic link pointing out, in the path or beside the file) is
  refused with a message.
- The data folder's own recordings (it or its sub-folders holding Flavell-lab files) are offered
  by name. This is also how a developer gets the shared recordings that lie beside the checkout:
  NEURAL_LAB_DATA=../shared/data; nothing is looked for outside the data folder.
- An upload is one or more files, together at most the lab's upload limit: recordings in any of
  FORMATS, a Flavell-lab ``<uid>-data.h5`` with its ``<uid>-labels.csv``, a plain CSV with its
  ``-events.csv``.
- Every read is bounded by the dataset limit (NEURAL_LAB_DATASET_MB), checked before the file
  is read in full, and no file runs code (pickles go through an allow-list unpickler).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from engines.errors import InvalidInputError
from engines.worms import Collection, LazyCollection, load
from engines.worms.loaders import COMPANION_SUFFIXES, FORMATS, flavell_files
from lab.settings import DATA_FOLDER, current
from lab.uploads import check_size

ACCEPT = ",".join(FORMATS)   # the upload widgets' accept filter
FORMATS_TEXT = ("Flavell-lab HDF5 (with its <uid>-labels.csv), harmonised parquet or pickle, "
                "Kato .mat, NWB, plain CSV or NPZ")


def data_folder() -> Path:
    """The operator's data folder, or a message saying server paths are off."""
    folder = current().data_folder
    if folder is None:
        raise InvalidInputError("Opening files on the server is switched off: the operator has "
                                f"not named a data folder ({DATA_FOLDER}). Upload your files instead.")
    return folder


def server_path(text) -> Path:
    """The file or folder ``text`` names inside the data folder, resolved; refused outside it."""
    folder = data_folder()
    text = str(text or "").strip()
    if not text:
        raise InvalidInputError(f"Type the path of a file or folder inside the data folder {folder}.")
    candidate = Path(text).expanduser()
    resolved = (candidate if candidate.is_absolute() else folder / candidate).resolve()
    if not _inside(resolved, folder):
        raise InvalidInputError(f"'{text}' lies outside the lab's data folder; only files and "
                                f"folders inside {folder} can be opened.")
    if not resolved.exists():
        raise InvalidInputError(f"There is no file or folder '{text}' in the data folder {folder}.")
    for neighbour in _read_with(resolved):
        if not _inside(neighbour.resolve(), folder):
            raise InvalidInputError(f"'{neighbour.name}' beside '{text}' links outside the lab's "
                                    "data folder; it is not opened.")
    return resolved


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read_with(path: Path) -> list[Path]:
    """The other files a read of ``path`` may open: a folder's files, a file's companions."""
    if path.is_dir():
        return list(path.iterdir())
    stem = path.name[:-len("-data.h5")] if path.name.endswith("-data.h5") else path.stem
    return [path.with_name(stem + suffix) for suffix in COMPANION_SUFFIXES
            if path.with_name(stem + suffix).exists()]


def open_path(text, lazy: bool = True):
    """A dataset from a server path: folders and parquet files as a LazyCollection (each
    recording read when shown) unless ``lazy`` is False, other files read at once."""
    path = server_path(text)
    max_bytes = current().dataset_limit_bytes
    if lazy and (path.is_dir() or path.suffix.lower() == ".parquet"):
        dataset = LazyCollection(path, max_bytes=max_bytes)
    else:
        dataset = load(path, max_bytes=max_bytes)
    if len(dataset) == 0:
        raise InvalidInputError(f"{path.name}: no recordings found there (formats: {FORMATS_TEXT}).")
    return dataset


def open_uploads(files: list[tuple[str, bytes]]) -> Collection:
    """Recordings from uploaded (filename, bytes) pairs, read from a private temporary folder
    that is removed afterwards (each recording says which upload it came from)."""
    if not files:
        raise InvalidInputError("No file was uploaded.")
    check_size(files)
    max_bytes = current().dataset_limit_bytes
    with tempfile.TemporaryDirectory(prefix="lab-upload-") as folder:
        paths = [_write_upload(Path(folder), name, data) for name, data in files]
        recording_files = [p for p in paths if not p.name.endswith(COMPANION_SUFFIXES)]
        if not recording_files:
            raise InvalidInputError("Only label or events tables were uploaded: upload the recording "
                                    "file together with them.")
        recordings = []
        for path in recording_files:
            for recording in load(path, max_bytes=max_bytes):
                recording.provenance["file"] = f"upload: {path.name}"
                recordings.append(recording)
    if not recordings:
        raise InvalidInputError(f"{', '.join(p.name for p in recording_files)}: the upload holds no "
                                "recordings.")
    return Collection(name=", ".join(p.stem for p in recording_files), recordings=recordings)


def _write_upload(folder: Path, filename: str, data: bytes) -> Path:
    name = Path(str(filename).replace("\\", "/")).name  # an upload never writes outside its folder
    if name in ("", ".", ".."):
        raise InvalidInputError(f"An upload has no usable file name: {filename!r}.")
    if not data:
        raise InvalidInputError(f"The upload '{name}' is empty.")
    path = folder / name
    path.write_bytes(data)
    return path


def data_folder_recordings() -> dict[str, Path]:
    """Folders of Flavell-lab recordings in the data folder (it and its sub-folders), by label;
    empty when no data folder is named."""
    folder = current().data_folder
    if folder is None:
        return {}
    offered = {}
    for candidate in [folder, *sorted(p for p in folder.iterdir() if p.is_dir())]:
        files = [f for f in flavell_files(candidate) if f.name.endswith("-data.h5")]
        if files and _inside(candidate.resolve(), folder):
            offered[f"{candidate.name}: {len(files)} Flavell-lab recordings (data folder)"] = candidate
    return offered
