"""ts.save / ts.load: torch.save's job without pickle.

A checkpoint is a zip archive (stored, not compressed) that numpy can read too:
  tinygrad_seq.json   the structure: nested dicts (str or int keys), lists and tuples whose leaves
                      are None, bools, ints, floats, strings, or references to arrays
  arrays/<i>.npy      each Tensor or numpy array, in numpy's .npy format (read with
                      allow_pickle=False, so a crafted file cannot run code)
Array entry names are generated, so no key can collide with another or with numpy's names.
Files from the first format (a flat name -> array .npz, as np.savez writes) still load.

To a path, the write is atomic (tinygrad_seq.atomicfile): a crash mid-save leaves the old file.
"""
import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.atomicfile import atomic_write
from tinygrad_seq.state_array import StateArray, state_array
from tinygrad_seq.tensor import Tensor

STRUCTURE = "tinygrad_seq.json"
FORMAT_VERSION = 1
LEAVES = "Tensors, numpy arrays, None, bools, ints, floats and strings"


# ------------------------------------------------------------------ structure <-> JSON
class _Encoder:
    """obj -> JSON-ready tree plus a list of arrays. A tagged dict stands for every container and
    array, so a plain JSON value is always a leaf: {"dict": [[key, value], ...]} (ordered; "od":
    true for an OrderedDict), {"list": [...]}, {"tuple": [...]}, {"tensor": i, "requires_grad": b}
    ("parameter": true for an nn.Parameter), {"array": i} ("state": true for a state_dict()
    value, which loads back as one), {"scalar": i} (a numpy scalar), {"float": "nan"|"inf"|"-inf"}."""

    def __init__(self):
        self.arrays, self._index = [], {}

    def _array(self, arr, where, key):
        if arr.dtype.hasobject:
            raise TypeError(f"save: {where} is not a numeric array (dtype {arr.dtype}); only arrays of "
                            f"numbers, bools or fixed-size strings can be saved without pickle")
        if key not in self._index:   # one object saved twice is stored once and loads as one object
            self._index[key] = len(self.arrays)
            self.arrays.append(arr)
        return self._index[key]

    def encode(self, obj, where="obj"):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic) and not isinstance(obj, np.str_):   # np.float64 is a float too: keep its type
            return {"scalar": self._array(np.asarray(obj), where, ("s", id(obj)))}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if np.isfinite(obj) else {"float": repr(float(obj))}
        if isinstance(obj, Tensor):
            i = self._array(obj.numpy(), where, ("t", id(obj)))
            out = {"tensor": i, "requires_grad": bool(obj.requires_grad)}
            if type(obj).__name__ == "Parameter":
                out["parameter"] = True
            return out
        if isinstance(obj, np.ndarray):
            out = {"array": self._array(obj, where, ("a", id(obj)))}
            if isinstance(obj, StateArray):
                out["state"] = True
            return out
        if isinstance(obj, np.generic):
            return {"scalar": self._array(np.asarray(obj), where, ("s", id(obj)))}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"save: keys must be strings or ints, got {k!r} in {where}")
                items.append([k, self.encode(v, f"{where}[{k!r}]")])
            out = {"dict": items}
            if isinstance(obj, OrderedDict):
                out["od"] = True
            return out
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {kind: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if callable(getattr(obj, "state_dict", None)):
            raise TypeError(f"save: {where} is a whole {type(obj).__name__}; save its state_dict() instead "
                            f"(ts.save(model.state_dict(), f); load with model.load_state_dict(ts.load(f)))")
        raise TypeError(f"save: {where} is a {type(obj).__name__}, which cannot be saved without pickle; "
                        f"a checkpoint holds dicts, lists and tuples of {LEAVES}")


class _Decoder:
    def __init__(self, read_array, device):
        self.read_array, self.device, self._made = read_array, device, {}

    def _get(self, kind, i, requires_grad=False, parameter=False):
        if not isinstance(i, int) or isinstance(i, bool):
            raise ValueError(f"bad array reference {i!r}")
        if (kind, i) not in self._made:
            arr = self.read_array(i)
            if kind == "tensor":
                mapper = self.device if callable(self.device) else None
                made = Tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f", dtype=arr.dtype,
                              device="cpu" if mapper else self.device or "cpu")   # dtype=: int32 stays int32
                if parameter and made.dtype.kind == "f":
                    from tinygrad_seq.nn.parameter import Parameter
                    made = Parameter(made, requires_grad=made.requires_grad)
                if mapper is not None:   # torch's map_location(storage, location); None keeps it
                    moved = mapper(made, "cpu")
                    if moved is not None and not isinstance(moved, Tensor):
                        raise TypeError(f"load: map_location returned {type(moved).__name__}, expected a Tensor")
                    made = made if moved is None else moved
            elif kind == "state":
                made = state_array(arr)
            else:
                made = arr[()] if kind == "scalar" else arr
            self._made[(kind, i)] = made
        return self._made[(kind, i)]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not node:
            raise ValueError(f"unexpected structure entry {node!r:.80}")
        if "dict" in node:
            out = OrderedDict() if node.get("od") else {}
            for pair in node["dict"]:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                    raise ValueError(f"bad dict item {pair!r:.80}")
                out[pair[0]] = self.decode(pair[1])
            return out
        if "list" in node:
            return [self.decode(v) for v in node["list"]]
        if "tuple" in node:
            return tuple(self.decode(v) for v in node["tuple"])
        if "tensor" in node:
            return self._get("tensor", node["tensor"], bool(node.get("requires_grad")), bool(node.get("parameter")))
        if "array" in node:
            return self._get("state" if node.get("state") else "array", node["array"])
        if "scalar" in node:
            return self._get("scalar", node["scalar"])
        if "float" in node and node["float"] in ("nan", "inf", "-inf"):
            return float(node["float"])
        raise ValueError(f"unknown structure entry {node!r:.80}")


# ------------------------------------------------------------------ save
def _encode(obj):
    """-> (the structure as JSON bytes, the arrays); raises TypeError for what cannot be saved."""
    enc = _Encoder()
    root = enc.encode(obj)
    head = json.dumps({"format": "tinygrad_seq", "version": FORMAT_VERSION, "root": root},
                      allow_nan=False).encode("utf-8")
    return head, enc.arrays


def _write_zip(head, arrays, f):
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(STRUCTURE, head)
        for i, arr in enumerate(arrays):
            # streamed into the archive: no second copy of a large array in memory
            with z.open(f"arrays/{i}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(arr), allow_pickle=False)


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write `obj` (a state dict, or nested dicts / lists / tuples of Tensors, numpy arrays,
    None, bools, ints, floats and strings) to `f`: a path, written atomically (the old file stays
    intact until the new one is complete), or a binary file object, written at its position.
    torch's pickle_module / pickle_protocol / _use_new_zipfile_serialization are accepted for its
    signature and change nothing (nothing is pickled)."""
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        head, arrays = _encode(obj)   # refuse what cannot be saved before touching the file system
        with atomic_write(path, "save") as out:
            _write_zip(head, arrays, out)
        return
    if not hasattr(f, "write"):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    if isinstance(f, io.TextIOBase):
        raise TypeError("save: f is a text file; open it in binary mode ('wb')")
    _write_zip(*_encode(obj), f)


# ------------------------------------------------------------------ load
def _bad(name, why):
    return ValueError(f"load: {name} is not a valid checkpoint ({why})")


def _read_zip(z, name, device):
    names = z.namelist()
    if STRUCTURE not in names:
        if any(n.endswith("data.pkl") for n in names):
            raise ValueError(f"load: {name} was written by torch.save (pickle), which ts.load does not run; "
                             f"in PyTorch, save the state dict's tensors as numpy arrays (np.savez) instead")
        if not names or not all(n.endswith(".npy") for n in names):
            raise _bad(name, "no tinygrad_seq.json and not a name -> array .npz")
        # the first format: a flat name -> array .npz
        out = {}
        for n in names:
            with z.open(n) as e:
                out[n[:-4]] = np.lib.format.read_array(e, allow_pickle=False)
        return out
    head = json.loads(z.read(STRUCTURE).decode("utf-8"))
    if not isinstance(head, dict) or head.get("format") != "tinygrad_seq" or "root" not in head:
        raise _bad(name, "its tinygrad_seq.json has no format/root")
    if head.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"load: {name} has format version {head['version']}; this tinygrad_seq reads "
                         f"up to {FORMAT_VERSION} (upgrade tinygrad_seq)")

    def read_array(i):
        entry = f"arrays/{i}.npy"
        if entry not in names:
            raise ValueError(f"the structure refers to array {i}, which the archive lacks")
        with z.open(entry) as e:
            arr = np.lib.format.read_array(e, allow_pickle=False)
            if e.read(1):
                raise ValueError(f"{entry} has data after its array")
        return arr
    return _Decoder(read_array, device).decode(head["root"])


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **kwargs):
    """Read what save() wrote (a path or a binary file object) back into the same structure:
    Tensors as Tensors (on `map_location`, default cpu), arrays as arrays, tuples as tuples.
    Never unpickles: `pickle_module`, `weights_only`, `mmap` and pickle's `encoding` are accepted
    for PyTorch's signature; loading is always safe."""
    kwargs.pop("encoding", None)
    if kwargs:
        raise TypeError(f"load: unexpected argument(s) {', '.join(kwargs)}")
    device = None
    # a checkpoint's tensors were written from the host: their saved location is "cpu", which a
    # map_location dict maps (other keys, "cuda:0" for one, have nothing to map) and a callable
    # gets as (tensor, "cpu"), as torch calls it with a storage
    if isinstance(map_location, dict):
        map_location = map_location.get("cpu")
    if callable(map_location) and not isinstance(map_location, str):
        device = map_location
    elif map_location is not None:
        device = _device.canonical(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        name = os.fsdecode(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"load: no such file: {name}")
        if os.path.isdir(name):
            raise IsADirectoryError(f"load: {name} is a folder, not a checkpoint file")
        with open(name, "rb") as fh:
            return _load_stream(fh, name, device)
    if not hasattr(f, "read"):
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    if isinstance(f, io.TextIOBase):
        raise TypeError("load: f is a text file; open it in binary mode ('rb')")
    name = getattr(f, "name", None) or "the file object"
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load_stream(f, str(name), device)


def _load_stream(fh, name, device):
    start = fh.tell()
    magic = fh.read(6)
    fh.seek(start)
    if magic == b"\x93NUMPY":
        raise _bad(name, "it holds a single array (.npy), not a name -> array archive (.npz)")
    if magic[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        raise _bad(name, "it is a pickle, which ts.load never runs")
    try:
        with zipfile.ZipFile(fh) as z:
            return _read_zip(z, name, device)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, KeyError, UnicodeDecodeError,
            RecursionError) as e:
        if str(e).startswith("load: "):
            raise
        raise _bad(name, f"corrupt or truncated: {e}") from None
    except OSError as e:
        raise _bad(name, f"corrupt or truncated: {e}") from None
