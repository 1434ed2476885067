"""The attention heatmap PNG of the seq2seq dates example (matplotlib optional)."""


def attention_heatmap(model, task, pairs, path):
    """A PNG of the attention weights of a few examples; returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    b = task.batch(pairs)
    res = model.greedy_decode(b["src"], b["src_lengths"], max_len=task.max_len)
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 4.2), squeeze=False)
    for ax, (src, _), toks, att, n, slen in zip(axes[0], pairs, res.tokens, res.attention, res.lengths,
                                               b["src_lengths"]):
        out = [task.tgt_vocab.itos[t] for t in toks[:n]]
        ax.imshow(att[:n, :slen], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(slen))
        ax.set_xticklabels(list(src), fontsize=7, rotation=90 if task.name == "reverse" else 0)
        ax.set_yticks(range(n))
        ax.set_yticklabels(["<eos>" if t == "<eos>" else t for t in out], fontsize=8)
        ax.set_title(("".join(src) if task.join == "" else " ".join(src))[:32], fontsize=9)
        ax.set_xlabel("source")
    axes[0][0].set_ylabel("output")
    fig.suptitle("attention weights (greedy decoding)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
