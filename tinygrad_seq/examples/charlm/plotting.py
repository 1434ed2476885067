"""The loss-curve PNG of a char-LM run (matplotlib optional)."""
import os

import numpy as np


def plot_curve(hist, baseline, path, log=print):
    """Training loss (smoothed), validation loss and the unigram baseline -> PNG at `path`.
    Returns the path, or None (with one message) when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: skipping the loss-curve PNG (pip install 'tinygrad-seq[plot]')")
        return None
    loss = np.asarray(hist["loss"])
    w = max(1, len(loss) // 50)
    smooth = np.convolve(loss, np.ones(w) / w, mode="valid") if len(loss) >= w else loss
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(np.arange(len(smooth)) + w, smooth, label=f"training loss (mean of {w} steps)")
    if hist["val_loss"]:
        ax.plot(hist["val_step"], hist["val_loss"], "o-", label="validation loss")
    ax.axhline(baseline, color="gray", ls="--", label=f"unigram baseline {baseline:.3f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.set_title("char-level LSTM language model")
    ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
