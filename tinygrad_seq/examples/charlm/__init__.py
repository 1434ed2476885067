"""Character-level LSTM language model: Embedding -> nn.LSTM (fused kernels) -> Linear.

    python -m tinygrad_seq charlm train                  # `make demo`: the stdlib's own source
    python -m tinygrad_seq charlm train --text book.txt  # any UTF-8 file
    python -m tinygrad_seq charlm train --resume out/charlm.npz   # continue a run
    python -m tinygrad_seq charlm sample --checkpoint out/charlm.npz --prime "def " --length 300
    mpiexec -n 4 python -m tinygrad_seq charlm train     # data-parallel over 4 processes

The default corpus needs no download: the Python standard library's own .py files, found through
sysconfig, read in sorted order up to --max-chars characters. The text is split into a training
and a validation part; training walks the training stream with truncated backpropagation through
time (ts.data.tbptt_chunks), carrying the LSTM state across chunks detached from the graph, clips
the gradient norm and steps Adam. It prints the validation loss next to the unigram baseline (the
entropy of the validation text's character distribution: the best loss a model that ignores
context can reach), and keeps a checkpoint (one file, no pickle: written every --save-every steps,
every --save-minutes, on Ctrl-C and at the end) and a loss-curve PNG.

One job per file: corpus (text, vocabulary), model, evaluation (loss, sampling), checkpoint,
config (settings and their checks), training (the loop), runner (a whole run, single or MPI),
plotting, command (the command line's options).
"""
from tinygrad_seq.examples.charlm.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint  # noqa: F401
from tinygrad_seq.examples.charlm.config import Config, check_config, config_from_args  # noqa: F401
from tinygrad_seq.examples.charlm.corpus import UNKNOWN, Vocab, load_corpus, stdlib_files, unigram_entropy  # noqa: F401
from tinygrad_seq.examples.charlm.evaluation import evaluate, sample  # noqa: F401
from tinygrad_seq.examples.charlm.model import CharLM, lm_loss  # noqa: F401
from tinygrad_seq.examples.charlm.plotting import plot_curve  # noqa: F401
from tinygrad_seq.examples.charlm.runner import TrainingDiverged, train  # noqa: F401
from tinygrad_seq.examples.charlm.training import build_training, check_device, train_loop  # noqa: F401


def main(argv=None, prog="python -m tinygrad_seq.examples.charlm"):
    """`python -m tinygrad_seq.examples.charlm {train,sample} ...`: the same as `tinygrad-seq
    charlm`, with this usage line."""
    from tinygrad_seq.examples import cmdline
    from tinygrad_seq.examples.charlm import command
    return cmdline.run_app(command, argv, prog)
