"""torch's quantized dtypes (torch.qint8, torch.quint8, ...) and quantization schemes
(torch.per_tensor_affine, ...) as names.

tinygrad_seq has no quantized tensors: these name what torch.ao.quantization.quantize_dynamic
takes (dtype=torch.qint8) and what a dynamically quantized module prints
(`dtype=torch.qint8, qscheme=torch.per_tensor_affine`). A tensor of one of these dtypes is
refused with a TypeError (dtypes.as_dtype), as bfloat16's is."""
from tinygrad_seq import dtypes as _dtypes
from tinygrad_seq.dtypes import UnsupportedDtype

qint8 = UnsupportedDtype("qint8", False, False, 1)
quint8 = UnsupportedDtype("quint8", False, False, 1)
qint32 = UnsupportedDtype("qint32", False, False, 4)
quint4x2 = UnsupportedDtype("quint4x2", False, False, 1)
quint2x4 = UnsupportedDtype("quint2x4", False, False, 1)
# pickled by name (UnsupportedDtype.__reduce__ looks them up there): ts.save of a dict naming one
_dtypes.UNSUPPORTED.update({d.name: d for d in (qint8, quint8, qint32, quint4x2, quint2x4)})


class qscheme:
    """torch.qscheme: how a quantized tensor maps integers to reals (one scale per tensor or per
    channel, with or without a zero point). Compared by identity; prints as torch's."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_qscheme, (self.name,))


per_tensor_affine = qscheme("per_tensor_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_affine = qscheme("per_channel_affine")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")
QSCHEMES = {q.name: q for q in (per_tensor_affine, per_tensor_symmetric, per_channel_affine,
                                per_channel_symmetric, per_channel_affine_float_qparams)}


def _qscheme(name):
    return QSCHEMES[name]


__all__ = ["qint8", "quint8", "qint32", "quint4x2", "quint2x4", "qscheme", *QSCHEMES]
