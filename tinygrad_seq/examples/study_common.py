"""What the studies share: argparse types for comma-separated lists and writing a matplotlib
figure to a PNG (skipped with one message when matplotlib is not installed)."""
import argparse
import os


def int_list(text):
    """'100,200,400' -> (100, 200, 400) (argparse type)."""
    try:
        vals = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return vals


def name_list(choices):
    """An argparse type: comma-separated names, each one of `choices`, in the given order."""
    def parse(text):
        names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
        bad = [n for n in names if n not in choices]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"unknown name {bad[0] if bad else text!r}; choose from "
                                             f"{', '.join(choices)}")
        return names
    parse.__name__ = "list of names"
    return parse


def save_figure(draw, path, log=print):
    """draw(pyplot) -> figure, saved as a PNG at `path` (folders made); None, with one message,
    when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log(f"matplotlib is not installed: skipping {os.path.basename(path)} (pip install 'tinygrad-seq[plot]')")
        return None
    fig = draw(plt)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def variant_layer(class_name, cell_name, input_size, hidden_size, **kw):
    """nn.<class_name> (a built-in variant layer); where this installation has the cell's
    description (cell_library) but not yet its layer class, the same layer as nn.Recurrent."""
    from tinygrad_seq import cell_library, nn
    cls = getattr(nn, class_name, None)
    if cls is not None:
        return cls(input_size, hidden_size, **kw)
    return nn.Recurrent(cell_library.get(cell_name), input_size, hidden_size, **kw)


def irnn(input_size, hidden_size, **kw):
    """Le, Jaitly and Hinton 2015's IRNN: nn.RNN(nonlinearity="relu") with W_hh = I (nn.init.eye_)
    and zero biases."""
    from tinygrad_seq import nn
    layer = nn.RNN(input_size, hidden_size, nonlinearity="relu", **kw)
    eye = getattr(nn.init, "eye_", None)
    if eye is not None:
        eye(layer.weight_hh_l0)
    else:   # an installation without nn.init.eye_ (it comes with the cell variants)
        import numpy as np
        from tinygrad_seq import Tensor, no_grad
        with no_grad():
            layer.weight_hh_l0.copy_(Tensor(np.eye(hidden_size, dtype=layer.weight_hh_l0.dtype)))
    nn.init.zeros_(layer.bias_ih_l0)
    nn.init.zeros_(layer.bias_hh_l0)
    return layer
