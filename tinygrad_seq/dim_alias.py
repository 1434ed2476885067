"""numpy's axis= as a second name for torch's dim=. torch's argument parser maps axis= (and
keepdims=) onto dim= for every native function that takes a dim, so `Y.argmax(axis=1)` and
`torch.max(Y, axis=1)` run under torch; python-level torch functions (F.softmax, Tensor.split,
Tensor.norm, ...) do not, and neither do ours. Call sites test `axis is not None` first, so a
dim= call pays one comparison and no call."""

import functools


def dim_from_axis(dim, axis, fname, default=None):
    """The dim a call meant when it passed axis=: axis, unless dim= was given too (torch refuses
    both with a TypeError). default: the function's own default for dim (an explicit dim equal to
    it cannot be told apart from an omitted one, so that pair is let through)."""
    if dim is not default and (default is None or dim != default):
        raise TypeError(f"{fname}() got both dim={dim!r} and its numpy alias axis={axis!r}; pass only one")
    return axis


def required_dim(dim, axis, fname, **required):
    """The dim of a function whose dim torch requires: from dim= or axis=, exactly one of them
    (for call sites that give dim the default None so that axis= alone can stand in for it, and
    so also the arguments after it: `required`, which must not be None)."""
    for name, value in required.items():
        if value is None:
            raise TypeError(f"{fname}() missing 1 required argument: '{name}'")
    if axis is None:
        if dim is None:
            raise TypeError(f"{fname}() missing 1 required argument: 'dim' (or its numpy alias 'axis')")
        return dim
    return dim_from_axis(dim, axis, fname)


def takes_axis(fn):
    """fn with axis= as a keyword alias of its dim= (for functions whose dim is positional or
    required: scatter, index_add, renorm, cross, the linalg norms, ...). Passing both raises."""
    fname = fn.__name__

    @functools.wraps(fn)
    def with_axis(*args, **kwargs):
        if "axis" in kwargs:
            axis = kwargs.pop("axis")
            if "dim" in kwargs:
                raise TypeError(f"{fname}() got both dim={kwargs['dim']!r} and its numpy alias axis={axis!r}; "
                                "pass only one")
            kwargs["dim"] = axis
        return fn(*args, **kwargs)
    return with_axis
