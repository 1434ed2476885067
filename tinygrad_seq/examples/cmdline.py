"""What every command-line application shares: one-line errors, exit codes, and the add_args /
run convention by which an application registers with the `tinygrad-seq` command.

An application module has `add_args(parser)` (its options; subcommands are sub-parsers with a
`func` default) and `run(args)` (returns the exit status or None for 0); DESCRIPTION, if set, is
its one-line help. run_app() runs one as `python -m <module>`; tinygrad_seq.cli gathers them all.
Expected errors (bad arguments, missing files, no GPU) end in one line on stderr and exit status 1
(2 for argument errors), never a traceback; Ctrl-C that reaches here is status 130.
"""
import argparse
import math
import sys

from tinygrad_seq.distributed import abort_on_error

EXPECTED_ERRORS = (FileNotFoundError, IsADirectoryError, PermissionError, ValueError, RuntimeError,
                   TypeError, KeyError, ImportError, OSError)


class CliError(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (with a pointer to --help)."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def guarded(fn, *args, prog="tinygrad-seq"):
    """fn(*args) with the command line's error handling: an expected error is one line on stderr
    (`prog: error: ...`) and exit status 1, Ctrl-C is status 130. In an MPI job an error escaping
    on one process ends the whole job first (examples/mpi.py), so no process waits forever."""
    try:
        with abort_on_error():
            rc = fn(*args)
        return rc if isinstance(rc, int) else 0
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except MemoryError:
        sys.stderr.write(f"{prog}: error: out of memory (the sizes asked for are too large for this machine)\n")
        return 1
    except (CliError,) + EXPECTED_ERRORS as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, FileNotFoundError) and getattr(e, "filename", None) and e.filename not in msg:
            msg = f"{msg}: {e.filename}"
        sys.stderr.write(f"{prog}: error: {msg}\n")
        return 1


def description(app):
    return getattr(app, "DESCRIPTION", None) or (app.__doc__ or "").strip().split("\n")[0]


def run_app(app, argv=None, prog=None):
    """`python -m <app>`: parse argv with the app's options and run it, with one-line errors."""
    prog = prog or f"python -m {app.__name__}"
    parser = OneLineParser(prog=prog, description=description(app))
    app.add_args(parser)
    argv = list(sys.argv[1:] if argv is None else argv)

    def build():
        p = OneLineParser(prog=prog)
        app.add_args(p)
        return p

    def parsed():
        args = parser.parse_args(argv)
        args.explicit_flags = explicit_dests(build, argv)   # resume_settings
        return app.run(args)
    return guarded(parsed, prog=prog)


def explicit_dests(build, argv):
    """The option names (argparse dests) that argv sets itself, a frozenset: a resumed run tells
    a flag typed at its default value (which must then match the checkpoint's) from one left out
    (which takes the checkpoint's). build() makes a fresh parser, whose defaults are suppressed."""
    probe = build()
    _suppress_defaults(probe)
    namespace, _ = probe.parse_known_args(argv)
    return frozenset(vars(namespace))


def _suppress_defaults(parser):
    parser._defaults = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _suppress_defaults(sub)
        action.default = argparse.SUPPRESS


# ------------------------------------------------------------------ argparse types
def _number(kind, low, low_ok, what):
    def parse(s):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r} is not {'an integer' if kind is int else 'a number'}") from None
        if kind is float and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{s!r} is not a finite number")
        if v < low or (v == low and not low_ok):
            raise argparse.ArgumentTypeError(f"{s!r} must be {what}")
        return v
    parse.__name__ = what   # argparse names the type in its messages
    return parse


positive_int = _number(int, 1, True, "a positive integer")
nonnegative_int = _number(int, 0, True, "zero or a positive integer")
positive_float = _number(float, 0.0, False, "a positive number")
nonnegative_float = _number(float, 0.0, True, "zero or a positive number")


def fraction(s):
    """A number strictly between 0 and 1 (argparse type)."""
    v = _number(float, 0.0, False, "between 0 and 1")(s)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be between 0 and 1")
    return v


def dropout_rate(s):
    """A number in [0, 1) (argparse type)."""
    v = nonnegative_float(s)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be in [0, 1)")
    return v


def unit_interval(s):
    """A number in [0, 1] (argparse type)."""
    v = nonnegative_float(s)
    if v > 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be between 0 and 1")
    return v
