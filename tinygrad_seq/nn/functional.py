"""tinygrad_seq.nn.functional is tinygrad_seq.functional itself (the same module object), so
`import tinygrad_seq.nn.functional as F` works as with torch."""
import sys

from tinygrad_seq import functional as _functional

sys.modules[__name__] = _functional
