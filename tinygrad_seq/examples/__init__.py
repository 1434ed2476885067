"""Example training scripts: python -m tinygrad_seq.examples.<name>."""
