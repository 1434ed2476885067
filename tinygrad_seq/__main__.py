"""python -m tinygrad_seq: the `tinygrad-seq` command."""
import sys

from tinygrad_seq.cli import main

if __name__ == "__main__":
    sys.exit(main())
