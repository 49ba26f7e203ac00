"""Structures of arrays to bytes and back, without pickle.

What crosses a process boundary in a fit (collective frames between ranks, a rank's messages
to the driver, checkpoint files) is numpy arrays, CSR matrices and small scalars nested in
tuples, lists and dicts. Unpickling such data from a socket or a file would run whatever code
the sender chose, so it travels as a JSON description of the structure (with each array's
dtype and shape) followed by the arrays' raw bytes; decoding builds only those types.
"""
from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import scipy.sparse as sp

_LENGTH = struct.Struct(">Q")
_ALIGN = 8  # array offsets in a payload, so the decoded arrays are aligned views
_KINDS = frozenset("biufc")  # bool, integers, floats, complex: never object arrays


class WireError(ValueError):
    """What was given cannot be encoded, or bytes received do not decode."""


def encode(obj: Any) -> tuple[dict, list[np.ndarray]]:
    """(JSON-able description, arrays it refers to by position)."""
    arrays: list[np.ndarray] = []
    return _describe(obj, arrays), arrays


def decode(description: Any, arrays: list[np.ndarray]) -> Any:
    return _build(description, arrays)


def to_buffers(obj: Any) -> list:
    """``obj`` as a list of byte buffers whose concatenation ``from_buffer`` reads back."""
    description, arrays = encode(obj)
    meta = json.dumps({"d": description, "a": [(a.dtype.str, a.shape) for a in arrays]},
                      separators=(",", ":")).encode()
    buffers: list = [_LENGTH.pack(len(meta)), meta]
    offset = _LENGTH.size + len(meta)
    for a in arrays:
        pad = -offset % _ALIGN
        if pad:
            buffers.append(b"\0" * pad)
        buffers.append(memoryview(a).cast("B") if a.size else b"")
        offset += pad + a.nbytes
    return buffers


def from_buffer(buf: np.ndarray) -> Any:
    """Decode a uint8 array made of ``to_buffers``' output; the arrays are views into it."""
    try:
        (length,) = _LENGTH.unpack(buf[:_LENGTH.size].tobytes())
        end = _LENGTH.size + length
        if end > buf.size:
            raise WireError("a frame's description runs past its end")
        meta = json.loads(buf[_LENGTH.size:end].tobytes())
        arrays, offset = [], end
        for dtype_str, shape in meta["a"]:
            dtype = np.dtype(dtype_str)
            if dtype.kind not in _KINDS:
                raise WireError(f"arrays of dtype {dtype_str!r} are not accepted")
            offset += -offset % _ALIGN
            count = int(np.prod(shape, dtype=np.int64))
            nbytes = count * dtype.itemsize
            if count < 0 or offset + nbytes > buf.size:
                raise WireError("an array runs past the end of its frame")
            arrays.append(buf[offset:offset + nbytes].view(dtype).reshape(tuple(shape)))
            offset += nbytes
        return decode(meta["d"], arrays)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        if isinstance(e, WireError):
            raise
        raise WireError(f"a frame does not decode: {type(e).__name__}: {e}") from None


def to_bytes(obj: Any) -> bytes:
    return b"".join(bytes(b) for b in to_buffers(obj))


def from_bytes(data: bytes) -> Any:
    return from_buffer(np.frombuffer(bytearray(data), dtype=np.uint8))


# --- the structure ----------------------------------------------------------------------------

def _array_ref(a: np.ndarray, arrays: list) -> int:
    if a.dtype.kind not in _KINDS:
        raise WireError(f"cannot send an array of dtype {a.dtype} (only numeric and bool)")
    arrays.append(a if a.flags.c_contiguous else a.copy(order="C"))  # 0-d stays 0-d
    return len(arrays) - 1


def _describe(obj: Any, arrays: list) -> Any:
    if isinstance(obj, np.generic):  # before float: np.float64 is one, and keeps its type
        return {"s": _array_ref(np.asarray(obj), arrays)}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and not isinstance(obj, np.integer):
        return obj
    if isinstance(obj, float):
        return {"f": repr(obj)} if not np.isfinite(obj) else obj
    if isinstance(obj, np.ndarray):
        return {"a": _array_ref(obj, arrays)}
    if isinstance(obj, (bytes, bytearray)):
        return {"b": _array_ref(np.frombuffer(bytes(obj), dtype=np.uint8), arrays)}
    if isinstance(obj, tuple):
        return {"t": [_describe(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return {"l": [_describe(v, arrays) for v in obj]}
    if isinstance(obj, dict):
        return {"m": [[_describe(k, arrays), _describe(v, arrays)] for k, v in obj.items()]}
    if sp.issparse(obj) and obj.format == "csr":
        return {"csr": [_array_ref(obj.data, arrays), _array_ref(obj.indices, arrays),
                        _array_ref(obj.indptr, arrays)], "shape": list(obj.shape)}
    raise WireError(f"cannot send a {type(obj).__name__}: a fit's messages hold arrays, CSR "
                    "matrices, numbers, strings and tuples/lists/dicts of those")


def _build(d: Any, arrays: list) -> Any:
    if d is None or isinstance(d, (bool, int, float, str)):
        return d
    if not isinstance(d, dict) or len(d) not in (1, 2):
        raise WireError("a frame's description is malformed")
    if "a" in d:
        return arrays[d["a"]]
    if "s" in d:
        return arrays[d["s"]][()]
    if "b" in d:
        return arrays[d["b"]].tobytes()
    if "f" in d:
        return float(d["f"])
    if "t" in d:
        return tuple(_build(v, arrays) for v in d["t"])
    if "l" in d:
        return [_build(v, arrays) for v in d["l"]]
    if "m" in d:
        return {_build(k, arrays): _build(v, arrays) for k, v in d["m"]}
    if "csr" in d:
        data, indices, indptr = (arrays[i] for i in d["csr"])
        return sp.csr_matrix((data, indices, indptr), shape=tuple(d["shape"]))
    raise WireError("a frame's description is malformed")
