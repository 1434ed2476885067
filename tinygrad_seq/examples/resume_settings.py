"""A resumed run's settings: those that make the model (and its data) come from the checkpoint.
A flag left at its default takes the checkpoint's value; a flag set to another value than the
checkpoint's is an error naming both, where before it was silently ignored (the weights only fit
the model they were trained as)."""


def settle(settings, saved, defaults, names, path, flag=None):
    """For each name: settings.<name> = saved[name] unless it was set to something else, which
    raises ValueError. settings: the run's namespace (argparse args or a dataclass), saved: the
    checkpoint's values by name, defaults: the flags' defaults by name, flag(name): how the
    command line spells it (default --name with - for _). Names the checkpoint lacks are left."""
    flag = flag or (lambda name: "--" + name.replace("_", "-"))
    for name in names:
        if name not in saved:
            continue
        given, kept = getattr(settings, name), saved[name]
        if given != kept and given != defaults.get(name):
            raise ValueError(f"{flag(name)} {given!r} differs from {kept!r}, which the checkpoint {path} "
                             f"was trained with; a resumed run keeps the checkpoint's (leave {flag(name)} out)")
        setattr(settings, name, kept)
