"""Harmonised-dataset pickles load through an allow-list: the schema's types come back, and a file
that names anything else is refused before it runs (the marker file is never written)."""
import builtins
import importlib
import io
import os
import pickle
import subprocess
import zipfile

import numpy as np
import pytest
import torch

from engines.errors import InvalidInputError
from engines.worms import CANONICAL_NEURONS, NEURON_INDEX, load, load_harmonised_pickle
from engines.worms.loaders.safe_pickle import UnsafePickleError


def worm_dict(as_tensors: bool) -> dict:
    """One worm as the preprocessing code writes it (worm-data-preprocess README's fields)."""
    slots = len(CANONICAL_NEURONS)
    data = np.zeros((6, slots), dtype=np.float32)
    data[:, NEURON_INDEX["AVAL"]] = np.arange(6)
    mask = np.zeros(slots, dtype=bool)
    mask[NEURON_INDEX["AVAL"]] = True
    time = (np.arange(6) * 0.5).reshape(-1, 1)
    convert = torch.from_numpy if as_tensors else (lambda a: a)
    return {"calcium_data": convert(data), "time_in_seconds": convert(time), "dt": convert(np.full(6, 0.5)),
            "labeled_neurons_mask": convert(mask), "slot_to_neuron": dict(enumerate(CANONICAL_NEURONS)),
            "source_dataset": "Flavell2023", "worm": "worm0", "median_dt": np.float64(0.5),
            "max_timesteps": 6, "num_neurons": np.int64(1), "smooth_method": "none",
            "extra_info": {"notes": ["a", "b"], "tags": {"x", "y"}}}


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("as_tensors", [False, True], ids=["numpy", "torch"])
def test_the_schema_loads(tmp_path, protocol, as_tensors):
    path = tmp_path / "Flavell2023.pickle"
    path.write_bytes(pickle.dumps({"worm0": worm_dict(as_tensors)}, protocol=protocol))
    recording = load(path)["Flavell2023/worm0"]
    assert recording.labels == ["AVAL"]
    np.testing.assert_array_equal(recording.trace("AVAL"), np.arange(6))
    np.testing.assert_allclose(recording.time, np.arange(6) * 0.5)


def test_a_torch_view_keeps_its_offset_and_strides(tmp_path):
    worm = worm_dict(as_tensors=True)
    wide = torch.arange(24, dtype=torch.float32).reshape(6, 4)
    worm["calcium_data"] = torch.zeros(6, len(CANONICAL_NEURONS))
    worm["calcium_data"][:, NEURON_INDEX["AVAL"]] = wide[:, 2]  # a copy of a strided column
    worm["original_calcium_data"] = wide[1:, 1:3]               # a view: offset and strides
    path = tmp_path / "w.pkl"
    path.write_bytes(pickle.dumps(worm))
    assert load(path)[0].trace("AVAL").tolist() == [2.0, 6.0, 10.0, 14.0, 18.0, 22.0]
    recording = load_harmonised_pickle(path, trace_key="calcium_data")
    assert recording[0].n_time == 6


class Reduce:
    """Pickles as a call to ``function(*args)``: what a hostile file asks pickle.load to do."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def hostile_payloads(marker):
    command = f"touch {marker}"
    return {
        "os.system": Reduce(os.system, command),
        "subprocess.Popen": Reduce(subprocess.Popen, ["touch", str(marker)]),
        "eval": Reduce(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        "builtins.exec": Reduce(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "nested in a worm": {"worm0": {**worm_dict(False), "extra_info": {"x": [Reduce(os.system, command)]}}},
        "nested globals": Reduce(getattr, Reduce(importlib.import_module, "os"), "system"),
        "torch.load": Reduce(torch.load, str(marker)),
        "torch-like global": Reduce(torch.serialization.add_safe_globals, [os.system]),
    }


@pytest.mark.parametrize("case", list(hostile_payloads("m")))
def test_hostile_pickles_are_refused_without_running(tmp_path, case):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(hostile_payloads(marker)[case], protocol=2))
    with pytest.raises(UnsafePickleError, match=r"evil.pkl: refused without running it: the pickle asks "
                                                r"for [\w.]+, which a harmonised dataset file never holds"):
        load(path)
    assert not marker.exists()
    if case in ("os.system", "eval", "builtins.exec"):  # the payload is real: plain pickle runs it
        pickle.loads(path.read_bytes())
        assert marker.exists()


def torch_storage_bytes_naming(function, *args) -> bytes:
    """A torch.save zip whose data.pkl calls ``function(*args)``: what torch.load(weights_only=False) runs."""
    buffer = io.BytesIO()
    torch.save(torch.zeros(2), buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data.pkl"):
                data = pickle.dumps(Reduce(function, *args), protocol=2)
            target.writestr(info, data)
    return out.getvalue()


def test_a_tensor_whose_storage_bytes_run_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    storage_bytes = torch_storage_bytes_naming(os.system, f"touch {marker}")
    torch.load(io.BytesIO(storage_bytes), weights_only=False)  # what plain pickle.load would do
    assert marker.exists()
    marker.unlink()
    from torch.storage import _load_from_bytes
    path = tmp_path / "tensor.pkl"
    path.write_bytes(pickle.dumps({"worm0": {"calcium_data": Reduce(_load_from_bytes, storage_bytes)}}))
    with pytest.raises(UnsafePickleError, match="torch.storage._load_from_bytes with bytes that name other globals"):
        load(path)
    assert not marker.exists()


def test_arrays_cannot_claim_more_memory_than_the_file_holds(tmp_path):
    from numpy._core.multiarray import _reconstruct
    path = tmp_path / "huge.pkl"
    path.write_bytes(pickle.dumps(Reduce(_reconstruct, np.ndarray, (10**12,), b"b")))
    with pytest.raises(InvalidInputError, match="huge.pkl: is not a readable harmonised pickle"):
        load(path)


def test_one_array_referred_to_by_many_worms_counts_each_time(tmp_path):
    worm = worm_dict(False)
    many = {f"worm{k}": worm for k in range(50)}  # pickle stores the arrays once
    path = tmp_path / "many.pkl"
    path.write_bytes(pickle.dumps(many))
    one_worm = worm["calcium_data"].nbytes
    assert path.stat().st_size < 10 * one_worm
    with pytest.raises(InvalidInputError, match="many.pkl: its worms' traces would take .* this lab reads datasets of up to"):
        load(path, max_bytes=10 * one_worm)
    assert len(load(path, max_bytes=60 * one_worm)) == 50


def test_truncated_pickle_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"worm0": worm_dict(False)})[:100])
    with pytest.raises(InvalidInputError, match="cut.pkl: is not a readable harmonised pickle"):
        load(path)
