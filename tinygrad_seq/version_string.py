"""ts.__version__: the PyTorch API version this library follows, with the package's own version as
a PEP 440 local label ("2.13.0+tinygradseq.0.1.0"), as a torch.torch_version.TorchVersion: a str
that compares by version with strings and tuples. A program that gates on torch's version
(`if torch.__version__ >= "1.6"`, `int(torch.__version__.split(".")[0]) >= 2`,
`packaging.version.parse(torch.__version__)`) takes its torch-2.13 branch, the API this library
implements; the package's version is `ts.version.package` (and pip's metadata)."""
import re

PACKAGE_VERSION = "0.1.0"
TORCH_API_VERSION = "2.13.0"


def _release(v):
    """The leading release numbers of a version string or tuple: "2.13.0+cpu" -> (2, 13, 0)."""
    if isinstance(v, tuple):
        return tuple(int(x) for x in v)
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(v))
    if m is None:
        raise ValueError(f"{v!r} is not a version (expected a string like '2.1' or a tuple like (2, 1))")
    return tuple(int(x) for x in m.group(1).split("."))


def _padded(a, b):
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


class TorchVersion(str):
    """A str compared by its release numbers (torch's TorchVersion): "2.13.0+x" >= "1.6" and
    >= (2, 1); equality with a str stays string equality."""

    def _cmp(self, other, op):
        if not isinstance(other, (str, tuple)):
            return NotImplemented
        a, b = _padded(_release(self), _release(other))
        return op(a, b)

    def __lt__(self, other): return self._cmp(other, tuple.__lt__)
    def __le__(self, other): return self._cmp(other, tuple.__le__)
    def __gt__(self, other): return self._cmp(other, tuple.__gt__)
    def __ge__(self, other): return self._cmp(other, tuple.__ge__)

    def __eq__(self, other):
        if isinstance(other, tuple):
            return self._cmp(other, tuple.__eq__)
        return str.__eq__(self, other)

    __hash__ = str.__hash__


VERSION = TorchVersion(f"{TORCH_API_VERSION}+tinygradseq.{PACKAGE_VERSION}")
