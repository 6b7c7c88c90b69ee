"""How much memory a file takes once read, found without reading it: HDF5 dataset shapes, parquet
row-group metadata, NPZ array headers, a MATLAB file's element sizes, a CSV's bytes.

``check(path, nbytes, max_bytes)`` refuses a file whose read would take more than ``max_bytes``
(``None``: no bound) with an ``InvalidInputError`` that names the file, the size and the bound.
These are estimates of what the loaders allocate, on the high side, and they are cheap: nothing
here holds more than one chunk of a file in memory at once.
"""
from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from engines.errors import InvalidInputError

CSV_EXPANSION = 4        # "0.1," is 4 bytes of text and 8 of float64 once parsed: up to 4x
PYTHON_STRING_BYTES = 64 # a short label as a Python object in a pandas column
_CHUNK = 1 << 20


def megabytes(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.1f} MB" if nbytes < 2**30 else f"{nbytes / 2**30:,.1f} GB"


def check(path, nbytes: int, max_bytes: int | None, what: str = "reading it") -> None:
    if max_bytes is not None and nbytes > max_bytes:
        raise InvalidInputError(f"{Path(path).name}: {what} would take {megabytes(nbytes)} of memory; "
                                f"this lab reads datasets of up to {megabytes(max_bytes)}")


def hdf5_bytes(path) -> int:
    """Sum of shape x item size over every dataset (what reading all of them would take)."""
    import h5py
    total = 0

    def add(_name, item):
        nonlocal total
        if isinstance(item, h5py.Dataset) and item.shape is not None:
            total += int(np.prod(item.shape, dtype=np.float64)) * max(item.dtype.itemsize, 1)
    try:
        with h5py.File(path, "r") as f:
            f.visititems(add)
    except OSError:
        return os.path.getsize(path)  # not HDF5: the loader says so; the bytes bound it here
    return total


def npz_bytes(path) -> int:
    """Sum of the arrays' sizes from their .npy headers (zip members' own sizes otherwise)."""
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    total += _npy_bytes(member, info.file_size)
    except (zipfile.BadZipFile, OSError):
        return os.path.getsize(path)
    return total


def _npy_bytes(member, stated: int) -> int:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(member)
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _fortran, dtype = read(member)
    except ValueError:
        return stated
    return int(np.prod(shape, dtype=np.float64)) * max(dtype.itemsize, 1)


def parquet_bytes(path, columns, largest_row_group: bool = False) -> int:
    """Uncompressed size of ``columns`` (plus Python strings' overhead per row) from the metadata.

    ``largest_row_group``: the most one row group takes (what a filtered read holds at once).
    """
    import pyarrow.parquet as pq
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:
        return os.path.getsize(path)
    wanted = set(columns)
    sizes = []
    for index in range(meta.num_row_groups):
        group = meta.row_group(index)
        size = group.num_rows * PYTHON_STRING_BYTES * len(wanted)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if chunk.path_in_schema.split(".")[0] in wanted:
                size += chunk.total_uncompressed_size
        sizes.append(size)
    if not sizes:
        return 0
    return max(sizes) if largest_row_group else sum(sizes)


def mat_bytes(path, max_bytes: int | None = None) -> int:
    """A MATLAB file's data once decompressed: v7.3 files are HDF5; v5 files are a sequence of
    elements, some zlib-compressed, whose output is counted chunk by chunk (and the count stops
    past ``max_bytes``: a compression bomb is never inflated)."""
    with open(path, "rb") as f:
        header = f.read(128)
        if len(header) < 128:
            return os.path.getsize(path)
        if header.startswith(b"MATLAB 7.3") or _is_hdf5(path):
            return hdf5_bytes(path)
        order = "<" if header[126:128] == b"IM" else ">"
        total = 0
        while max_bytes is None or total <= max_bytes:
            tag = f.read(8)
            if len(tag) < 8:
                break
            kind, nbytes = struct.unpack(order + "II", tag)
            if kind >> 16:      # a small element: its data sits in the tag
                continue
            if kind == 15:      # miCOMPRESSED
                total += _inflated_size(f, nbytes, None if max_bytes is None else max_bytes - total)
            else:
                total += nbytes
                f.seek(nbytes + (-nbytes % 8), os.SEEK_CUR)
        return total


def _inflated_size(f, nbytes: int, budget: int | None) -> int:
    inflater, produced, left = zlib.decompressobj(), 0, nbytes
    try:
        while left > 0 and (budget is None or produced <= budget):
            data = f.read(min(left, _CHUNK))
            if not data:
                break
            left -= len(data)
            produced += len(inflater.decompress(data, _CHUNK))
            while inflater.unconsumed_tail and (budget is None or produced <= budget):
                produced += len(inflater.decompress(inflater.unconsumed_tail, _CHUNK))
    except zlib.error:
        pass  # a corrupt stream: the loader reports it
    f.seek(left, os.SEEK_CUR)
    return produced


def _is_hdf5(path) -> bool:
    with open(path, "rb") as f:
        f.seek(512)
        return f.read(8) == b"\x89HDF\r\n\x1a\n"


def csv_bytes(path) -> int:
    return os.path.getsize(path) * CSV_EXPANSION
