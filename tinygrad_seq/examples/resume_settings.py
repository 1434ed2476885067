"""A resumed run's settings: those that make the model (and its data) come from the checkpoint.
A flag left out takes the checkpoint's value; a flag set to another value than the checkpoint's
is an error naming both, where before it was silently ignored (the weights only fit the model
they were trained as). Typed at its default value counts as set (cmdline.explicit_dests): a
`--hidden 128` that met a checkpoint of 8 trained 8 silently."""
import os


def settle(settings, saved, defaults, names, path, flag=None):
    """For each name: settings.<name> = saved[name] unless it was set to something else, which
    raises ValueError. settings: the run's namespace (argparse args or a dataclass), saved: the
    checkpoint's values by name, defaults: the flags' defaults by name, flag(name): how the
    command line spells it (default --name with - for _). Names the checkpoint lacks are left.
    settings.explicit_flags, where there is one, names the flags the command line set (else a
    value other than the default counts as set). A file path compares as the file it names."""
    flag = flag or (lambda name: "--" + name.replace("_", "-"))
    explicit = getattr(settings, "explicit_flags", None)
    for name in names:
        if name not in saved:
            continue
        given, kept = getattr(settings, name), saved[name]
        was_set = name in explicit if explicit is not None else given != defaults.get(name)
        if was_set and not _same(name, given, kept):
            raise ValueError(f"{flag(name)} {given!r} differs from {kept!r}, which the checkpoint {path} "
                             f"was trained with; a resumed run keeps the checkpoint's (leave {flag(name)} out)")
        setattr(settings, name, given if was_set else kept)


def _same(name, given, kept):
    """Whether a setting typed on resume equals the checkpoint's: --text as the same file however
    it is spelled (relative to another folder, ./, absolute)."""
    if name == "text" and isinstance(given, str) and isinstance(kept, str):
        return os.path.realpath(given) == os.path.realpath(kept)
    return given == kept


def take_left_out(settings, saved, names):
    """settings.<name> = saved[name] for each name the command line left out (settings.explicit_flags;
    without it, nothing is taken): settings a resumed run may change but should not lose."""
    explicit = getattr(settings, "explicit_flags", None)
    if explicit is None:
        return
    for name in names:
        if name in saved and name not in explicit:
            setattr(settings, name, saved[name])
