"""Files are sized before they are read in full: past ``max_bytes`` each format is refused with a
message naming the file, what it would take and the bound; under it the same file loads."""
import io
import zipfile
import zlib
import struct

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from engines.errors import InvalidInputError
from engines.worms import LazyCollection, load
from engines.worms.loaders import estimated_bytes, footprint
from tests.engines.worms.test_worms_formats import _harmonised_rows

REFUSED = r"would take [\d.,]+ [MG]B of memory; this lab reads datasets of up to"


def test_hdf5_is_sized_from_dataset_shapes(flavell_file):
    size = estimated_bytes(flavell_file)
    with h5py.File(flavell_file) as f:
        arrays = f["gcamp/trace_array"].nbytes + f["timing/timestamp_confocal"].nbytes
    assert size >= arrays
    with pytest.raises(InvalidInputError, match=f"w1-data.h5: reading it {REFUSED}"):
        load(flavell_file, max_bytes=arrays // 2)
    assert len(load(flavell_file, max_bytes=size)) == 1


def test_hdf5_shapes_count_even_when_the_file_is_small(tmp_path):
    path = tmp_path / "sparse-data.h5"
    with h5py.File(path, "w") as f:  # chunked and compressed: a few KB on disk, 800 MB in memory
        f.create_dataset("gcamp/trace_array", shape=(100_000, 1_000), dtype="f8",
                         chunks=(1000, 100), compression="gzip", fillvalue=0.0)
        f["timing/timestamp_confocal"] = np.arange(100_000.0)
    assert path.stat().st_size < 2**20
    with pytest.raises(InvalidInputError, match=f"sparse-data.h5: reading it would take 763.7 MB"):
        load(path, max_bytes=100 * 2**20)


def test_npz_is_sized_from_array_headers(tmp_path):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, time=np.arange(50_000.0), traces=np.zeros((50_000, 300)))
    assert path.stat().st_size < 2**20 and estimated_bytes(path) == 50_000 * 301 * 8
    with pytest.raises(InvalidInputError, match=f"zeros.npz: reading it {REFUSED}"):
        load(path, max_bytes=10 * 2**20)


def test_npz_header_claiming_a_huge_array_is_refused_before_allocation(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**5)}
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("traces.npy", member.getvalue())
        archive.writestr("time.npy", member.getvalue())
    with pytest.raises(InvalidInputError, match=r"liar.npz: reading it would take [\d,.]+ GB"):
        load(path, max_bytes=2**31)


def test_parquet_is_sized_from_its_metadata(tmp_path):
    path = tmp_path / "data.parquet"
    _harmonised_rows().to_parquet(path)
    size = estimated_bytes(path)
    with pytest.raises(InvalidInputError, match=f"data.parquet: reading it {REFUSED}"):
        load(path, max_bytes=size - 1)
    assert len(load(path, max_bytes=size)) == 2
    with pytest.raises(InvalidInputError, match=f"data.parquet: listing its worms {REFUSED}"):
        LazyCollection(path, max_bytes=10)


def test_csv_is_sized_from_its_bytes(tmp_path):
    path = tmp_path / "plain.csv"
    pd.DataFrame({"time": np.arange(1000) * 0.5, "AVAL": np.ones(1000)}).to_csv(path, index=False)
    assert estimated_bytes(path) == footprint.CSV_EXPANSION * path.stat().st_size
    with pytest.raises(InvalidInputError, match=f"plain.csv: reading it {REFUSED}"):
        load(path, max_bytes=path.stat().st_size)


def test_mat_v5_compressed_elements_are_counted_without_inflating_them(tmp_path):
    path = tmp_path / "kato.mat"
    savemat(path, {"traces": np.zeros((20_000, 100)), "timeVectorSeconds": np.arange(20_000.0)},
            do_compression=True)
    assert path.stat().st_size < 2**20
    assert footprint.mat_bytes(path) >= 20_000 * 101 * 8
    with pytest.raises(InvalidInputError, match=f"kato.mat: reading it {REFUSED}"):
        load(path, max_bytes=2**20)


def test_a_mat_compression_bomb_stops_counting_at_the_bound(tmp_path):
    bomb = zlib.compress(b"\0" * (64 * 2**20), 9)          # 64 MB of zeros in ~64 KB
    header = b"MATLAB 5.0 MAT-file".ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
    path = tmp_path / "bomb.mat"
    path.write_bytes(header + struct.pack("<II", 15, len(bomb)) + bomb)
    counted = footprint.mat_bytes(path, max_bytes=4 * 2**20)
    assert 4 * 2**20 < counted < 8 * 2**20                 # stopped soon after the bound
    assert footprint.mat_bytes(path) == 64 * 2**20
    with pytest.raises(InvalidInputError, match=f"bomb.mat: reading it {REFUSED}"):
        load(path, max_bytes=4 * 2**20)


def test_a_folder_sums_its_recordings(flavell_file):
    folder = flavell_file.parent
    assert estimated_bytes(folder) == estimated_bytes(flavell_file)
    with pytest.raises(InvalidInputError, match=REFUSED):
        load(folder, max_bytes=100)
