"""ts.save / ts.load: torch.save's job without pickle.

A checkpoint is a zip archive (stored, not compressed) that numpy can read too:
  tinygrad_seq.json   the structure: nested dicts (str or int keys), lists and tuples whose leaves
                      are None, bools, ints, floats, strings, or references to arrays; and
                      "tensors", the table of saved tensors: each a view (storage, offset,
                      shape, strides) of a storage, its requires_grad, whether it is a
                      Parameter, and the Python attributes set on it ("attrs")
  storages/<i>.npy    the memory of the tensors, one 1-D array per storage: tensors that view
                      one memory share one storage and share memory again after loading, as
                      torch's (storage_layout.py)
  arrays/<i>.npy      each numpy array or numpy scalar, in numpy's .npy format
Every .npy is read with allow_pickle=False, so a crafted file cannot run code. Entry names are
generated, so no key can collide with another or with numpy's names. Version 1 files (each
tensor one arrays/<i>.npy) and files from the first format (a flat name -> array .npz, as
np.savez writes) still load. Several saves into one stream load back one after another
(zip_extent.py finds where each archive ends).

To a path, the write is atomic (tinygrad_seq.atomicfile): a crash mid-save leaves the old file.
"""
import io
import json
import os
import struct
import warnings
import zipfile
from collections import Counter, OrderedDict, defaultdict

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.atomicfile import atomic_write
from tinygrad_seq.checkpoint_errors import CheckpointError, EmptyCheckpointError, NotAFileError
from tinygrad_seq.state_array import StateArray, state_array
from tinygrad_seq.storage_layout import StoragePlan, view_of_storage
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.zip_extent import Window, archive_end
# torch's weights_only allowlist, recorded (no load here unpickles)
from tinygrad_seq.serialization_safe_globals import (add_safe_globals, clear_safe_globals,  # noqa: F401
                                                     get_safe_globals, safe_globals)

STRUCTURE = "tinygrad_seq.json"
FORMAT_VERSION = 2   # 2: tensors as views of storages (1: each tensor its own array)
LEAVES = "Tensors, numpy arrays, None, bools, ints, floats and strings"


# ------------------------------------------------------------------ structure <-> JSON
class _Encoder:
    """obj -> JSON-ready tree plus a list of arrays. A tagged dict stands for every container and
    array, so a plain JSON value is always a leaf: {"dict": [[key, value], ...]} (ordered; "od":
    true for an OrderedDict), {"list": [...]}, {"tuple": [...]} ("packed": true for a
    PackedSequence, which loads back as one), {"tensor": i} (row i of the
    tensors table), {"array": i} ("state": true for a state_dict() value, which loads back as
    one), {"scalar": i} (a numpy scalar), {"float": "nan"|"inf"|"-inf"}."""

    def __init__(self):
        self.arrays, self._index = [], {}
        self.tensors, self._tensor_index, self._saved = [], {}, []
        self.plan = StoragePlan()

    def _tensor(self, t, where):
        """Row of the tensors table for t (one per tensor object: saved twice, it loads as one)."""
        if id(t) in self._tensor_index:
            return self._tensor_index[id(t)]
        arr = t.numpy()   # a host tensor's own memory, not a copy: its views are found sharing it
        if arr.dtype.hasobject:
            raise TypeError(f"save: {where} is not a numeric tensor (dtype {arr.dtype})")
        row = {"requires_grad": bool(t.requires_grad), "view": self.plan.add(arr)}
        if type(t).__name__ == "Parameter":
            row["parameter"] = True
        i = len(self.tensors)
        self._tensor_index[id(t)] = i
        self.tensors.append(row)
        self._saved.append(t)   # alive until written, so no other object reuses its id
        attrs = self._attrs(t, where)
        if attrs:
            row["attrs"] = attrs
        return i

    def _attrs(self, t, where):
        """The Python attributes set on t (t.foo = ...), as torch.save keeps them; names starting
        with _ are the library's own bookkeeping. A value this format cannot hold (a function, an
        object) is left out with a warning: loading it back would need pickle."""
        out = []
        for name, value in list(getattr(t, "__dict__", {}).items()):
            if name.startswith("_"):
                continue
            try:
                out.append([name, self.encode(value, f"{where}.{name}")])
            except TypeError as e:
                why = str(e).removeprefix("save: ")
                warnings.warn(f"save: the attribute {name!r} of {where} is not saved: {why}", UserWarning,
                              stacklevel=4)
        return out

    def finish(self):
        """The storages to write; each tensors-table row gets its storage, offset, shape, strides."""
        storages, views = self.plan.layout()
        for row in self.tensors:
            row["storage"], row["offset"], row["shape"], row["stride"] = views[row.pop("view")]
        return storages

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
            return {"tensor": self._tensor(obj, where)}
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
            elif isinstance(obj, Counter):   # (torch's pickle gives a Counter back: most_common() works)
                out["counter"] = True
            elif isinstance(obj, defaultdict) and obj.default_factory in _FACTORIES.values():
                out["factory"] = obj.default_factory.__name__
            return out
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            out = {kind: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
            if type(obj).__name__ == "PackedSequence" and hasattr(obj, "batch_sizes"):
                out["packed"] = True   # loads back as a PackedSequence, as torch's pickle gives it
            return out
        if type(obj).__module__.split(".")[0] == "torch" and callable(getattr(obj, "numpy", None)) \
                and callable(getattr(obj, "detach", None)):
            # a PyTorch tensor (a torch model's state dict): saved as a tensor of its values, which
            # ts.load gives back as a Tensor (weights move both ways; torch is not imported here)
            host = np.array(obj.detach().cpu().numpy())
            return {"tensor": self._tensor(Tensor(host), where)}
        if callable(getattr(obj, "state_dict", None)):
            raise TypeError(f"save: {where} is a whole {type(obj).__name__}; save its state_dict() instead "
                            f"(ts.save(model.state_dict(), f); load with model.load_state_dict(ts.load(f)))")
        raise TypeError(f"save: {where} is a {type(obj).__name__}, which cannot be saved without pickle; "
                        f"a checkpoint holds dicts, lists and tuples of {LEAVES}")


# the default factories of a defaultdict that a checkpoint keeps by name (no pickle)
_FACTORIES = {f.__name__: f for f in (int, float, list, dict, set, str, tuple)}


class _Decoder:
    """The structure back into objects. read(folder, i) reads <folder>/<i>.npy; tensors is the
    tensors table (None in a version 1 file, whose {"tensor": i} names arrays/<i>.npy)."""

    def __init__(self, read, tensors, device):
        self.read, self.tensors, self.device, self._made = read, tensors, device, {}

    def _make_tensor(self, arr, requires_grad, parameter):
        mapper = self.device if callable(self.device) else None
        # dtype=: int32 stays int32; on cpu the array itself is kept, so loaded views share memory
        made = Tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f", dtype=arr.dtype,
                      device="cpu" if mapper else self.device or "cpu")
        if parameter:   # an integer Parameter (requires_grad=False) loads as a Parameter too, as torch's
            from tinygrad_seq.nn.parameter import Parameter
            made = Parameter(made, requires_grad=made.requires_grad)
        if mapper is not None:   # torch's map_location(storage, location); None keeps it
            moved = mapper(made, "cpu")
            if moved is not None and not isinstance(moved, Tensor):
                raise TypeError(f"load: map_location returned {type(moved).__name__}, expected a Tensor")
            made = made if moved is None else moved
        return made

    def _table_tensor(self, i):
        """Row i of the tensors table as a Tensor, a view of its (shared) storage."""
        if not 0 <= i < len(self.tensors) or not isinstance(self.tensors[i], dict):
            raise ValueError(f"the structure refers to tensor {i}, which the tensors table lacks")
        row = self.tensors[i]
        s = row.get("storage")
        if not isinstance(s, int) or isinstance(s, bool):
            raise ValueError(f"tensor {i} names no storage")
        if ("storage", s) not in self._made:
            storage = self.read("storages", s)
            if storage.ndim != 1:
                raise ValueError(f"storage {s} is not 1-D (shape {storage.shape})")
            self._made[("storage", s)] = storage
        try:
            arr = view_of_storage(self._made[("storage", s)], row.get("offset"), row.get("shape"), row.get("stride"))
        except ValueError as e:
            raise ValueError(f"tensor {i}: {e}") from None
        made = self._make_tensor(arr, bool(row.get("requires_grad")), bool(row.get("parameter")))
        self._made[("tensor", i)] = made   # before its attributes, which may refer back to it
        for pair in row.get("attrs", ()):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                    and pair[0].isidentifier() and not pair[0].startswith("_") and not hasattr(type(made), pair[0])):
                raise ValueError(f"tensor {i} has a bad attribute entry {pair!r:.80}")
            setattr(made, pair[0], self.decode(pair[1]))
        return made

    def _get(self, kind, i, requires_grad=False, parameter=False):
        if not isinstance(i, int) or isinstance(i, bool):
            raise ValueError(f"bad array reference {i!r}")
        if (kind, i) not in self._made:
            if kind == "tensor" and self.tensors is not None:
                return self._table_tensor(i)
            arr = self.read("arrays", i)
            if kind == "tensor":   # version 1: the tensor's own array
                made = self._make_tensor(arr, requires_grad, parameter)
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
            out = OrderedDict() if node.get("od") else Counter() if node.get("counter") else \
                defaultdict(_FACTORIES[node["factory"]]) if node.get("factory") in _FACTORIES else {}
            for pair in node["dict"]:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                    raise ValueError(f"bad dict item {pair!r:.80}")
                out[pair[0]] = self.decode(pair[1])
            return out
        if "list" in node:
            return [self.decode(v) for v in node["list"]]
        if "tuple" in node:
            items = tuple(self.decode(v) for v in node["tuple"])
            if node.get("packed"):
                from tinygrad_seq.nn.utils.rnn import PackedSequence
                return PackedSequence(*items)
            return items
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
    """-> (the structure as JSON bytes, {folder: its arrays}); raises TypeError for what cannot
    be saved, SameDataAsTwoTypesError for one memory saved as two dtypes."""
    enc = _Encoder()
    root = enc.encode(obj)
    storages = enc.finish()
    head = json.dumps({"format": "tinygrad_seq", "version": FORMAT_VERSION, "root": root, "tensors": enc.tensors},
                      allow_nan=False).encode("utf-8")
    return head, {"arrays": enc.arrays, "storages": storages}


def _write_zip(head, folders, f):
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(STRUCTURE, head)
        for folder, arrays in folders.items():
            for i, arr in enumerate(arrays):
                # streamed into the archive: no second copy of a large array in memory
                with z.open(f"{folder}/{i}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, np.asanyarray(arr), allow_pickle=False)


def _not_a_file(what, f, need):
    return NotAFileError(f"{what}: expected 'f' to be a string, path, or a binary file object with a '{need}' "
                         f"attribute, got {type(f).__name__}" + (
                             "; decode a bytes path to str, or wrap bytes of a checkpoint in io.BytesIO(data)"
                             if isinstance(f, (bytes, bytearray)) else ""))


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write `obj` (a state dict, or nested dicts / lists / tuples of Tensors, numpy arrays,
    None, bools, ints, floats and strings) to `f`: a path, written atomically (the old file stays
    intact until the new one is complete), or a binary file object, written at its position.
    torch's pickle_module / pickle_protocol / _use_new_zipfile_serialization are accepted for its
    signature and change nothing (nothing is pickled). Tensors that share memory (x and x[2:5],
    p and p.data) share it again after loading; Python attributes set on a tensor are kept."""
    if isinstance(f, (str, os.PathLike)):   # bytes are no path, as torch's (_not_a_file)
        path = os.fsdecode(f)
        head, folders = _encode(obj)   # refuse what cannot be saved before touching the file system
        with atomic_write(path, "save") as out:
            _write_zip(head, folders, out)
        return
    if not hasattr(f, "write"):
        raise _not_a_file("save", f, "write")
    if isinstance(f, io.TextIOBase):
        raise TypeError("save: f is a text file; open it in binary mode ('wb')")
    _write_zip(*_encode(obj), f)


# ------------------------------------------------------------------ load
def _bad(name, why):
    return CheckpointError(f"load: {name} is not a valid checkpoint ({why})")


def _read_zip(z, name, device):
    names = z.namelist()
    if STRUCTURE not in names:
        if any(n.endswith("data.pkl") for n in names):
            raise CheckpointError(f"load: {name} was written by torch.save (pickle), which ts.load does not run; "
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
        raise CheckpointError(f"load: {name} has format version {head['version']}; this tinygrad_seq reads "
                         f"up to {FORMAT_VERSION} (upgrade tinygrad_seq)")

    tensors = head.get("tensors") if head.get("version", 0) >= 2 else None
    if tensors is not None and not isinstance(tensors, list):
        raise _bad(name, "its tensors table is not a list")

    def read(folder, i):
        entry = f"{folder}/{i}.npy"
        if entry not in names:
            raise ValueError(f"the structure refers to {folder[:-1]} {i}, which the archive lacks ({entry})")
        with z.open(entry) as e:
            arr = np.lib.format.read_array(e, allow_pickle=False)
            if e.read(1):   # also where zipfile checks the entry's CRC
                raise ValueError(f"{entry} has data after its array")
        return arr
    return _Decoder(read, tensors, device).decode(head["root"])


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
    if isinstance(f, (str, os.PathLike)):   # bytes are no path, as torch's (_not_a_file)
        name = os.fsdecode(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"load: no such file: {name}")
        if os.path.isdir(name):
            raise IsADirectoryError(f"load: {name} is a folder, not a checkpoint file")
        with open(name, "rb") as fh:
            return _load_stream(fh, name, device)
    if not hasattr(f, "read"):
        raise _not_a_file("load", f, "read")
    if isinstance(f, io.TextIOBase):
        raise TypeError("load: f is a text file; open it in binary mode ('rb')")
    name = getattr(f, "name", None) or "the file object"
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load_stream(f, str(name), device)


def _load_stream(fh, name, device):
    """Load the archive that starts at fh's position, and leave fh just past it: a second load
    from the same stream reads the next save (zipfile alone would open the last one)."""
    start = fh.tell()
    magic = fh.read(6)
    fh.seek(start)
    if not magic:
        raise EmptyCheckpointError(f"load: {name} is not a valid checkpoint (it is empty)" if start == 0 else
                                   f"load: {name} is not a valid checkpoint (nothing follows position {start})")
    if magic == b"\x93NUMPY":
        raise _bad(name, "it holds a single array (.npy), not a name -> array archive (.npz)")
    if magic[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        raise _bad(name, "it is a pickle, which ts.load never runs")
    try:
        end = archive_end(fh, start)
    except (OSError, ValueError, struct.error) as e:
        raise _bad(name, f"corrupt or truncated: {e}") from None
    if end is None:
        raise _bad(name, "corrupt or truncated: no complete zip archive starts at position "
                         f"{start}" if magic[:2] == b"PK" else "it is not a zip archive")
    try:
        with zipfile.ZipFile(Window(fh, start, end)) as z:
            out = _read_zip(z, name, device)
        fh.seek(end)
        return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, KeyError, UnicodeDecodeError,
            RecursionError) as e:
        if str(e).startswith("load: "):
            raise
        raise _bad(name, f"corrupt or truncated: {e}") from None
    except OSError as e:
        raise _bad(name, f"corrupt or truncated: {e}") from None
