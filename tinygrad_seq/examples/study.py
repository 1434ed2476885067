"""`tinygrad-seq study {adding,variants}`: the studies that show what each part of a recurrent
cell is for. Each subcommand is an application module (add_args / run, see examples/cmdline.py):
examples/study_adding.py and examples/study_variants.py."""
import importlib

DESCRIPTION = "Studies: the adding problem across cells, Greff et al.'s LSTM variants on the char-LM."

# subcommand -> application module
STUDIES = {"adding": "tinygrad_seq.examples.study_adding", "variants": "tinygrad_seq.examples.study_variants"}


def add_args(p):
    sub = p.add_subparsers(dest="study", metavar="{" + ",".join(STUDIES) + "}", required=True)
    for name, module in STUDIES.items():
        app = importlib.import_module(module)
        sp = sub.add_parser(name, help=app.DESCRIPTION, description=app.DESCRIPTION)
        app.add_args(sp).set_defaults(study_app=app)
    return p


def run(args):
    return args.study_app.run(args)
