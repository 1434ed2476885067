"""The factored matmul gradients and in-place node sums (tinygrad_seq/outer_grad.py) on and off,
alternating in one process, on bench/train_steps_vs_torch.py's steps (medians of ratios).

    python bench/factored_grads_ab.py [attention|lm] [rounds]

"off" computes every matmul gradient at once and sums node gradients into new arrays (the
engine before 2026-12-06).
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tinygrad_seq as ts  # noqa: E402
from tinygrad_seq import outer_grad  # noqa: E402

import train_steps_vs_torch  # noqa: E402

ON = outer_grad.product, outer_grad.SlotSums.add


def _product_off(b, left, right):
    return b.matmul(left, right)


def _add_off(self, b, slot, i, grad, node_id):
    if type(grad) in outer_grad.DEFERRED:
        self.factored.add(node_id)
    slot[i] = grad if slot[i] is None else outer_grad.add(b, slot[i], grad)


def use(on):
    outer_grad.product, outer_grad.SlotSums.add = ON if on else (_product_off, _add_off)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "attention"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    lm, attention = train_steps_vs_torch.build(ts)
    step = attention if which == "attention" else lm
    for on in (False, True):
        use(on)
        step()
        step()
    times = {False: [], True: []}
    for r in range(rounds):
        for on in ((False, True) if r % 2 == 0 else (True, False)):
            use(on)
            start = time.perf_counter()
            for _ in range(3):
                step()
            times[on].append((time.perf_counter() - start) / 3)
    use(True)
    off, on = np.array(times[False]), np.array(times[True])
    print(f"{which}: off {np.median(off) * 1e3:.1f} ms, on {np.median(on) * 1e3:.1f} ms a step; on/off median of "
          f"ratios {np.median(on / off):.3f} (min {np.min(on / off):.3f}, max {np.max(on / off):.3f}); "
          f"load {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
