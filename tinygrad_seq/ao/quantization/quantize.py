"""torch.ao.quantization.quantize_dynamic and the eager-mode steps it runs: propagate_qconfig_
(each submodule gets the qconfig of its type or name, or its parent's), convert (each child
whose type has a dynamic counterpart in the mapping, and carries a qconfig, is replaced by
Counterpart.from_float(child)), swap_module."""
import copy
import itertools

from tinygrad_seq.dtypes import float16
from tinygrad_seq.quantized_dtypes import qint8, quint4x2, quint8
from tinygrad_seq.ao.quantization.qconfig import default_dynamic_qconfig, float16_dynamic_qconfig


def get_default_dynamic_quant_module_mappings():
    """{float module type: dynamic quantized type}, as torch's DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS
    for the types supported here."""
    from tinygrad_seq import nn
    from tinygrad_seq.nn.multihead import NonDynamicallyQuantizableLinear
    from tinygrad_seq.ao.nn.quantized import dynamic as nnqd
    return {nn.Linear: nnqd.Linear, NonDynamicallyQuantizableLinear: nnqd.Linear, nn.LSTM: nnqd.LSTM,
            nn.GRU: nnqd.GRU}


def _default_types():
    """The float types quantize_dynamic(qconfig_spec=None) covers: torch's list (the cells too)."""
    from tinygrad_seq import nn
    return (nn.Linear, nn.LSTM, nn.GRU, nn.LSTMCell, nn.RNNCell, nn.GRUCell)


def _unsupported_dtype(dtype):
    if dtype is quint8 or dtype is quint4x2:
        return NotImplementedError(f"quantize_dynamic with dtype={dtype} (weight-only quantization of "
                                   "nn.Embedding / nn.EmbeddingBag) is not supported by tinygrad_seq; "
                                   "use torch.qint8 or torch.float16")
    return None


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """torch.ao.quantization.quantize_dynamic: a copy of `model` (the model itself with
    inplace=True) in eval mode whose chosen submodules are replaced by dynamically quantized ones.

    qconfig_spec: None (every nn.Linear / nn.LSTM / nn.GRU, at `dtype`); a set of submodule
    types and / or names (dotted, as named_modules gives them) quantized at `dtype`; or a dict
    from types / names to a QConfig (dtype then ignored). dtype: torch.qint8 (int8 weights,
    uint8 activations chosen per call) or torch.float16 (float16 weights)."""
    if qconfig_spec is None:
        if dtype is qint8 or dtype is float16 or dtype == float16:
            qconfig = default_dynamic_qconfig if dtype is qint8 else float16_dynamic_qconfig
            qconfig_spec = dict.fromkeys(_default_types(), qconfig)
        elif _unsupported_dtype(dtype) is not None:
            raise _unsupported_dtype(dtype)
        else:
            raise ValueError(f"Don't know how to quantize with default settings for {dtype}. "
                             "Provide full qconfig please")
    elif isinstance(qconfig_spec, (set, frozenset)):
        if dtype is qint8:
            qconfig = default_dynamic_qconfig
        elif dtype is float16 or dtype == float16:
            qconfig = float16_dynamic_qconfig
        elif _unsupported_dtype(dtype) is not None:
            raise _unsupported_dtype(dtype)
        else:
            raise RuntimeError(f"Unknown dtype specified for quantize_dynamic: {dtype}")
        qconfig_spec = dict(zip(qconfig_spec, itertools.repeat(qconfig)))
    elif not isinstance(qconfig_spec, dict):
        raise TypeError("quantize_dynamic: qconfig_spec must be None, a set of module types / names, or a dict "
                        f"mapping them to QConfigs, got {type(qconfig_spec).__name__}")
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    convert(model, mapping, inplace=True)
    return model


def _propagate_qconfig_helper(module, qconfig_dict, qconfig_parent=None, prefix=""):
    qconfig = qconfig_dict.get(type(module), qconfig_parent)
    qconfig = qconfig_dict.get(prefix, qconfig)
    qconfig = getattr(module, "qconfig", qconfig)
    module.qconfig = qconfig
    for name, child in module.named_children():
        _propagate_qconfig_helper(child, qconfig_dict, qconfig, prefix + "." + name if prefix else name)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None):
    """Sets `qconfig` on every submodule: its own if it has one, else that of its dotted name in
    qconfig_dict, else that of its type, else its parent's."""
    _propagate_qconfig_helper(module, qconfig_dict or {})


def _remove_qconfig(module):
    for child in module.children():
        _remove_qconfig(child)
    if "qconfig" in module.__dict__:
        del module.__dict__["qconfig"]


def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """Replaces each submodule (never `module` itself) whose type is in `mapping` and that
    carries a qconfig by mapping[type].from_float(submodule); removes the qconfigs after."""
    if is_reference:
        raise NotImplementedError("convert(is_reference=True): reference quantized modules are not supported")
    if mapping is None:
        raise NotImplementedError("convert without a mapping (static quantization) is not supported: "
                                  "pass get_default_dynamic_quant_module_mappings()")
    if not inplace:
        module = copy.deepcopy(module)
    _convert(module, mapping)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def _convert(module, mapping):
    reassign = {}
    for name, child in module.named_children():
        _convert(child, mapping)
        reassign[name] = swap_module(child, mapping, {})
    for name, new in reassign.items():
        if new is not module._modules[name]:
            module._modules[name] = new


def swap_module(mod, mapping, custom_module_class_mapping=None, use_precomputed_fake_quant=False):
    """mapping[type(mod)].from_float(mod) when mod has a qconfig and its type is mapped (its
    forward pre-hooks and hooks carried over), else mod itself."""
    if getattr(mod, "qconfig", None) is None:
        return mod
    if type(mod) not in mapping:
        if type(mod) in _default_types() and mapping is not None:
            raise NotImplementedError(f"quantize_dynamic: {type(mod).__name__} has no dynamically quantized "
                                      "form in tinygrad_seq (supported: nn.Linear, nn.LSTM, nn.GRU); leave it out "
                                      "of qconfig_spec")
        return mod
    new = mapping[type(mod)].from_float(mod)
    for hook in mod._forward_pre_hooks.values():
        new.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        new.register_forward_hook(hook)
    return new
