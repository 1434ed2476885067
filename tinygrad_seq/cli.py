"""The `tinygrad-seq` command (also `python -m tinygrad_seq`).

    tinygrad-seq charlm train [--text FILE] [--device cuda] ...   character-level LSTM language model
    tinygrad-seq charlm sample --checkpoint out/charlm.npz ...    generate text from a checkpoint
    tinygrad-seq seq2seq ...                                      the dates seq2seq example
    tinygrad-seq compare ...                                      CPU-vs-CUDA comparison run
    tinygrad-seq gradflow ...                                     vanishing / exploding gradients study
    tinygrad-seq study {adding,variants} ...                      the adding problem; Greff et al.'s LSTM variants

Each command is an application module with `add_args(parser)` and `run(args)` (see
tinygrad_seq.examples.cmdline), imported only when its command runs (or for --help). Nothing in
the library imports this module. Expected errors end in one line on stderr and exit status 1 (2
for argument errors), never a traceback.
"""
import importlib
import sys

from tinygrad_seq.examples.cmdline import CliError, OneLineParser, description, explicit_dests, guarded

PROG = "tinygrad-seq"

# command -> (application module, one-line help)
APPS = {
    "charlm": ("tinygrad_seq.examples.charlm.command", "character-level LSTM language model (train, sample)"),
    "seq2seq": ("tinygrad_seq.examples.seq2seq_dates", "train a seq2seq model on the dates task"),
    "compare": ("tinygrad_seq.compare", "CPU-vs-CUDA comparison run (speed and agreement)"),
    "gradflow": ("tinygrad_seq.examples.gradflow", "gradient norms through time: RNN, IRNN, LSTM, GRU and variants"),
    "study": ("tinygrad_seq.examples.study", "studies: the adding problem (`study adding`), LSTM variants (`study variants`)"),
}


def _app(name):
    module_name = APPS[name][0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            raise CliError(f"`{name}` is not available in this installation ({module_name} is missing)") from None
        raise


def build_parser(command=None):
    """The parser; with `command`, only that command's application is imported."""
    p = OneLineParser(prog=PROG, description="Recurrent sequence models (RNN, LSTM, GRU) with PyTorch's "
                      "API on a from-scratch autograd engine with fused Numba CPU and CUDA kernels.",
                      epilog="Run `tinygrad-seq COMMAND --help` for a command's options.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, text) in APPS.items():
        if command is None or name == command:
            app = _app(name)
            sp = sub.add_parser(name, help=text, description=description(app))
            app.add_args(sp)
            sp.set_defaults(app=app)
        else:
            sub.add_parser(name, help=text, add_help=False)
    return p


def _version():
    from tinygrad_seq.version_string import PACKAGE_VERSION, TORCH_API_VERSION
    return f"{PACKAGE_VERSION} (PyTorch {TORCH_API_VERSION} API)"


def _run(argv):
    command = argv[0] if argv and argv[0] in APPS else None
    args = build_parser(command).parse_args(argv)
    args.explicit_flags = explicit_dests(lambda: build_parser(command), argv)   # resume_settings
    return args.app.run(args)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return guarded(_run, argv, prog=PROG)


if __name__ == "__main__":
    sys.exit(main())
