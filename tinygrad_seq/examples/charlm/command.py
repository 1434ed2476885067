"""`tinygrad-seq charlm {train,sample}`: the options and what each subcommand runs (the add_args /
run convention of tinygrad_seq.examples.cmdline)."""
import os

from tinygrad_seq.examples.charlm.checkpoint import load_checkpoint
from tinygrad_seq.examples.charlm.config import Config, config_from_args
from tinygrad_seq.examples.cmdline import (dropout_rate, fraction, nonnegative_float, nonnegative_int,
                                           positive_float, positive_int)
from tinygrad_seq.examples.charlm.evaluation import fallback_prime, sample
from tinygrad_seq.examples.charlm.runner import train
from tinygrad_seq.examples.charlm.training import check_device

SAMPLE_PRIME = "def "   # sample's --prime default (train's: Config.prime)

DESCRIPTION = "Character-level LSTM language model: `train` or `sample`."


def add_train_args(p):
    d = Config()
    p.add_argument("--text", metavar="FILE", help="UTF-8 text file to train on (default: the Python "
                   "standard library's own source files)")
    p.add_argument("--max-chars", type=positive_int, default=d.max_chars,
                   help="read at most this many characters (%(default)s)")
    p.add_argument("--val-fraction", type=fraction, default=d.val_fraction,
                   help="share of the text held out (%(default)s)")
    p.add_argument("--embed-dim", type=positive_int, default=d.embed_dim, help="%(default)s")
    p.add_argument("--hidden-size", type=positive_int, default=d.hidden_size, help="%(default)s")
    p.add_argument("--num-layers", type=positive_int, default=d.num_layers, help="%(default)s")
    p.add_argument("--dropout", type=dropout_rate, default=d.dropout, help="%(default)s")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="parallel streams (%(default)s)")
    p.add_argument("--bptt", type=positive_int, default=d.bptt,
                   help="truncated-BPTT chunk length in steps (%(default)s)")
    p.add_argument("--lr", type=positive_float, default=d.lr, help="Adam learning rate (%(default)s)")
    p.add_argument("--clip", type=positive_float, default=d.clip,
                   help="gradient-norm clipping threshold (%(default)s)")
    p.add_argument("--steps", type=positive_int, default=d.steps,
                   help="train up to this many optimizer steps in all (%(default)s)")
    p.add_argument("--time-budget", type=nonnegative_float, default=d.time_budget, metavar="SECONDS",
                   help="stop training after this many seconds, counted from the first step (kernel "
                        "compilation is not counted), 0 for no limit (%(default)s)")
    p.add_argument("--eval-every", type=nonnegative_int, default=d.eval_every,
                   help="validation every N steps, 0: only at the end (%(default)s)")
    p.add_argument("--device", default=d.device, help="cpu or cuda (%(default)s)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed, help="%(default)s")
    p.add_argument("--sample-length", type=nonnegative_int, default=d.sample_length,
                   help="characters sampled before and after training (%(default)s)")
    p.add_argument("--temperature", type=positive_float, default=d.temperature, help="%(default)s")
    p.add_argument("--prime", default=d.prime, help="text the samples start from (%(default)r)")
    p.add_argument("--out", default=d.out, help="folder for the checkpoint and the plot (%(default)s)")
    p.add_argument("--checkpoint", help="checkpoint path (default: OUT/charlm.npz); checked for "
                   "writability before training starts")
    p.add_argument("--save-every", type=nonnegative_int, default=d.save_every, metavar="STEPS",
                   help="write the checkpoint every this many steps, 0: not by steps (%(default)s)")
    p.add_argument("--save-minutes", type=nonnegative_float, default=d.save_minutes, metavar="MINUTES",
                   help="and every this many minutes, 0: not by time (%(default)s); Ctrl-C or SIGTERM "
                        "also writes it (then exits with status 130 or 143)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue from a checkpoint written by train: weights, optimizer state, step, "
                        "stream position and random state (the LSTM state restarts from zero)")
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write the loss-curve PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI ranks (needs the 'distributed' extra); on by itself "
                        "when started by mpiexec with more than one process")
    return p


def add_sample_args(p):
    p.add_argument("--checkpoint", default=os.path.join("out", "charlm.npz"), help="%(default)s")
    p.add_argument("--length", type=nonnegative_int, default=500, help="characters to generate (%(default)s)")
    p.add_argument("--temperature", type=positive_float, default=0.8, help="%(default)s")
    p.add_argument("--prime", default=SAMPLE_PRIME, help="text to start from (%(default)r; left out, a character "
                   "the model knows where it lacks one of these)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="%(default)s")
    p.add_argument("--device", default="cpu", help="cpu or cuda (%(default)s)")
    return p


def run_train(a):
    res = train(config_from_args(a))
    return res["exit_status"]   # 130 after Ctrl-C, 143 after SIGTERM


def run_sample(a):
    if not os.path.isfile(a.checkpoint):
        raise FileNotFoundError(f"--checkpoint: no such file: {a.checkpoint} (train one with "
                                f"`tinygrad-seq charlm train`)")
    device = check_device(a.device)
    model, vocab, _ = load_checkpoint(a.checkpoint, device)
    prime, explicit = a.prime, getattr(a, "explicit_flags", None)
    if "prime" not in explicit if explicit is not None else prime == SAMPLE_PRIME:   # left out: one the model knows
        prime = fallback_prime(prime, vocab)
    text = sample(model, vocab, a.length, prime, a.temperature, a.seed, device)
    print(text)
    return 0


def add_args(p):
    sub = p.add_subparsers(dest="charlm_command", metavar="{train,sample}", required=True)
    t = sub.add_parser("train", help="train a character-level LSTM language model",
                       description="Train a character-level LSTM language model (Embedding -> LSTM -> Linear) "
                                   "with truncated BPTT, gradient clipping and Adam.")
    add_train_args(t).set_defaults(func=run_train)
    s = sub.add_parser("sample", help="generate text from a checkpoint",
                       description="Generate text from a char-LM checkpoint written by `charlm train`.")
    add_sample_args(s).set_defaults(func=run_sample)
    return p


def run(args):
    return args.func(args)
