"""What the studies share: argparse types for comma-separated lists, writing a matplotlib figure
to a PNG (skipped with one message when matplotlib is not installed), and the IRNN."""
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



def irnn(input_size, hidden_size, **kw):
    """Le, Jaitly and Hinton 2015's IRNN: nn.RNN(nonlinearity="relu") with W_hh = I (nn.init.eye_)
    and zero biases."""
    from tinygrad_seq import nn
    layer = nn.RNN(input_size, hidden_size, nonlinearity="relu", **kw)
    nn.init.eye_(layer.weight_hh_l0)
    nn.init.zeros_(layer.bias_ih_l0)
    nn.init.zeros_(layer.bias_hh_l0)
    return layer
