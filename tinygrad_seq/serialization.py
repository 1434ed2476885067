"""ts.save / ts.load: state dicts as plain .npz (no pickle), written atomically."""
import os
import tempfile
import zipfile

import numpy as np


def save(state_dict, path):
    """Write name -> array to `path` (.npz). The data goes to a temporary file in the same folder
    that is renamed over `path` only once complete, so a crash or an exception mid-save leaves
    the previous file intact."""
    path = os.fspath(path)
    arrays = {}
    for k, v in state_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"save: keys must be strings, got {k!r}")
        arr = v.numpy() if hasattr(v, "numpy") else np.asarray(v)
        if arr.dtype == object:
            raise TypeError(f"save: value of {k!r} is not a numeric array")
        arrays[k] = arr
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would (or the old file's)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode_for(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load(path):
    """Read a file written by save() back into a dict name -> numpy array (no pickle)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array (.npy), not a name -> array archive (.npz)")
        with z:
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as e:
        raise ValueError(f"load: {path} is not a valid checkpoint (corrupt or truncated .npz): {e}") from None
