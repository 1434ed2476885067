"""The `tinygrad-seq` command (also `python -m tinygrad_seq`).

    tinygrad-seq charlm train [--text FILE] [--device cuda] ...   character-level LSTM language model
    tinygrad-seq charlm sample --checkpoint out/charlm.npz ...    generate text from a checkpoint
    tinygrad-seq seq2seq ...                                      the dates seq2seq example
    tinygrad-seq compare ...                                      CPU-vs-CUDA comparison run
    tinygrad-seq gradflow ...                                     vanishing / exploding gradients study

Expected errors (bad arguments, missing files, no GPU) end in one line on stderr and exit status 1
(2 for argument errors), never a traceback.
"""
import argparse
import importlib
import inspect
import sys

PROG = "tinygrad-seq"

# subcommands that hand their arguments to another module's main(argv); imported on use
DELEGATED = {
    "seq2seq": ("tinygrad_seq.examples.seq2seq_dates", "train a seq2seq model on the dates task"),
    "compare": ("tinygrad_seq.compare", "CPU-vs-CUDA comparison run (speed and agreement)"),
}
EXPECTED_ERRORS = (FileNotFoundError, IsADirectoryError, PermissionError, ValueError, RuntimeError,
                   TypeError, KeyError, ImportError, OSError)


class CliError(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (with a pointer to --help)."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def build_parser():
    from tinygrad_seq.examples import charlm, gradflow
    p = OneLineParser(prog=PROG, description="Recurrent sequence models (RNN, LSTM, GRU) with PyTorch's "
                      "API on a from-scratch autograd engine with fused Numba CPU and CUDA kernels.",
                      epilog="Run `tinygrad-seq COMMAND --help` for a command's options.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    c = sub.add_parser("charlm", help="character-level LSTM language model (train, sample)",
                       description="Character-level LSTM language model: `train` or `sample`.")
    charlm.build_parser(c)
    g = sub.add_parser("gradflow", help="gradient norms through time: tanh RNN vs LSTM vs GRU",
                       description=gradflow.__doc__.split("\n\n")[0])
    gradflow.add_args(g).set_defaults(func=gradflow.run)
    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def _version():
    from tinygrad_seq import __version__
    return __version__


def _delegate(name, argv):
    module_name = DELEGATED[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            raise CliError(f"`{name}` is not available in this installation ({module_name} is missing)") from None
        raise
    # the usage line shows the command as typed here, not the module's own `python -m` name
    if "prog" in inspect.signature(module.main).parameters:
        rc = module.main(argv, prog=f"{PROG} {name}")
    else:
        rc = module.main(argv)
    return rc if isinstance(rc, int) else 0


def _run(argv):
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    rc = args.func(args)
    return rc if isinstance(rc, int) else 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return guarded(_run, argv)


def guarded(fn, *args, prog=PROG):
    """fn(*args) with the command line's error handling: an expected error is one line on stderr
    (`prog: error: ...`) and exit status 1, Ctrl-C is status 130. Examples run as modules use it
    with their own prog."""
    try:
        return fn(*args)
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except (CliError,) + EXPECTED_ERRORS as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, FileNotFoundError) and getattr(e, "filename", None) and e.filename not in msg:
            msg = f"{msg}: {e.filename}"
        sys.stderr.write(f"{prog}: error: {msg}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
