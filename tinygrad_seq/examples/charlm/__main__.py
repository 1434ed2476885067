"""python -m tinygrad_seq.examples.charlm"""
import sys

from tinygrad_seq.examples.charlm import main

if __name__ == "__main__":
    sys.exit(main())
