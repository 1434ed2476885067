"""torch 2.13's _canonical_mask, which multi-head attention and the transformer encoder run their
masks through: a bool mask becomes an additive float mask of the target dtype (-inf where True,
0 elsewhere), a float mask stays as it is, any other dtype is refused; and a key padding mask
whose dtype differs from the attention mask's gives torch's deprecation UserWarning, once at
each place torch checks (nn.MultiheadAttention, F.multi_head_attention_forward,
TransformerEncoderLayer, TransformerEncoder)."""
import warnings

import numpy as np

from tinygrad_seq.tensor import Tensor


def canonical_mask(mask, mask_name, other, other_name, target_dtype, check_other=True):
    """mask (None, or a bool / float Tensor) as an additive float mask. other: the mask it is
    used with (None, or a Tensor whose dtype mask's should match); check_other=False skips the
    check. The warning points at the caller's caller (torch's stacklevel=2 from its forward)."""
    if mask is None:
        return None
    is_bool = mask.dtype == np.bool_
    if not is_bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other is not None and mask.dtype != other.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                      "both instead.", UserWarning, stacklevel=3)
    if not is_bool:
        return mask
    additive = np.where(mask.numpy(), -np.inf, 0.0).astype(np.dtype(target_dtype))
    return Tensor(additive, device=mask.device)
