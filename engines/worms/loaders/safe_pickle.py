"""Read the harmonised dataset's pickles without running anything the file names.

A pickle lists the functions that rebuild its objects and ``pickle.load`` calls them: a file
can name ``os.system``. The preprocessing code that writes these files (qsimeon/worm-data-
preprocess, ``NeuralBasePreprocessor.save_data``: ``pickle.dump`` of a dict of worms) stores
dicts, lists, strings, numbers, numpy arrays and scalars, and torch tensors. This unpickler
resolves exactly the names those need and refuses every other one with ``UnsafePickleError``,
before anything is called.

Each allowed name resolves to a checked stand-in, not to the library function itself:
- numpy arrays are rebuilt only from an empty array filled by its own state, so the bytes in
  the file bound the memory an array takes (numpy checks the data matches the shape);
- a torch tensor pickled with plain pickle names ``torch.storage._load_from_bytes``, which runs
  ``torch.load(weights_only=False)``: a second, unrestricted unpickler. Its stand-in loads the
  storage with ``weights_only=True`` instead, and the tensor comes back as a numpy array (torch
  checks that the tensor's size and strides fit its storage).
"""
from __future__ import annotations

import _compat_pickle
import codecs
import collections
import io
import pickle

import numpy as np

from engines.errors import InvalidInputError


class UnsafePickleError(InvalidInputError):
    """The pickle names a function or class that a harmonised dataset file never holds."""


class _Storage:
    """A torch storage read with weights_only=True; only _rebuild_tensor accepts it."""

    def __init__(self, storage):
        self.storage = storage


class _ArrayType:
    """Stands for numpy.ndarray inside the file: accepted by _reconstruct, never called."""


def _reconstruct(subtype, shape, typecode):
    if subtype is not _ArrayType or int(np.prod(shape)) != 0:
        raise pickle.UnpicklingError("an array must be rebuilt from an empty ndarray")
    return np.ndarray((0,), dtype=np.uint8)  # __setstate__ gives its shape, dtype and data


def _dtype(spec, align=False, copy=True):
    return np.dtype(spec, align=bool(align), copy=bool(copy))


def _scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype):
        raise pickle.UnpicklingError("a numpy scalar needs a dtype")
    from numpy._core.multiarray import scalar
    return scalar(dtype, data) if data is not None else scalar(dtype)


def _frombuffer(buffer, dtype, shape, order):
    return np.frombuffer(bytes(buffer), dtype=dtype).reshape(shape, order=order).copy()


def _encode(text, encoding="latin1"):
    """Protocol-2 pickles store bytes as codecs.encode(text, 'latin1'); nothing else is allowed."""
    if codecs.lookup(encoding).name != "iso8859-1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"codec {encoding!r} is not allowed")
    return text.encode("latin1")


def _load_storage(data):
    import torch
    if not isinstance(data, (bytes, bytearray)):
        raise pickle.UnpicklingError("a torch storage must be given as bytes")
    try:
        storage = torch.load(io.BytesIO(bytes(data)), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:  # torch's own allow-list refused what the bytes name
        raise UnsafePickleError("torch.storage._load_from_bytes with bytes that name other "
                                "globals than tensor data") from None
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise UnsafePickleError("torch.storage._load_from_bytes with bytes that hold "
                                f"a {type(storage).__name__}, not a storage")
    return _Storage(storage)


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    import torch
    from torch._utils import _rebuild_tensor as rebuild
    if not isinstance(storage, _Storage) or hooks or metadata:
        raise pickle.UnpicklingError("a tensor must be rebuilt from plain storage, without hooks")
    tensor = rebuild(storage.storage, int(offset), tuple(size), tuple(stride))
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.detach().numpy().copy()


_NUMPY = {"_reconstruct": _reconstruct, "scalar": _scalar}
ALLOWED = {
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "complex"): complex,
    ("_codecs", "encode"): _encode, ("codecs", "encode"): _encode,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("numpy", "ndarray"): _ArrayType, ("numpy", "dtype"): _dtype,
    **{(f"numpy.{core}.multiarray", name): f for core in ("core", "_core") for name, f in _NUMPY.items()},
    ("numpy.core.numeric", "_frombuffer"): _frombuffer, ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
}


class AllowListUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose globals come only from ALLOWED."""

    def find_class(self, module: str, name: str):
        # Python 2 names (__builtin__.set) mapped as pickle.Unpickler's own find_class does
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"{module}.{name}") from None


def load(file, where: str):
    """Unpickle ``file`` (a binary file object) through the allow-list; ``where`` names it in errors."""
    try:
        return AllowListUnpickler(file).load()
    except UnsafePickleError as refused:
        raise UnsafePickleError(
            f"{where}: refused without running it: the pickle asks for {refused}, which a "
            "harmonised dataset file never holds (dicts, lists, numbers, strings, numpy arrays "
            "and torch tensors only). Pickles can run code; this lab does not run it.") from None
    except Exception as exc:  # a truncated, corrupt or inconsistent stream
        raise InvalidInputError(f"{where}: is not a readable harmonised pickle "
                                f"({type(exc).__name__}: {exc})") from None
