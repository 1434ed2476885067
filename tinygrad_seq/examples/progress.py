"""A one-line progress bar for training loops, on stderr, with no dependency.

On a terminal the line is redrawn in place (at most 10 times a second); when stderr is a file or a
pipe (CI logs, `make demo | tee`), a plain line is printed every `log_every` seconds instead, so the
log stays readable.
"""
import sys
import time


def format_seconds(s):
    s = max(0, int(round(s)))
    return f"{s // 60:d}:{s % 60:02d}"


class ProgressBar:
    def __init__(self, total_steps, time_budget=None, stream=None, width=24, log_every=10.0,
                 unit="char"):
        self.total, self.budget = max(1, int(total_steps)), time_budget
        self.stream = sys.stderr if stream is None else stream
        self.width, self.log_every, self.unit = width, log_every, unit
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.items = 0
        self._last_draw = -1e9
        self._drawn = False

    def elapsed(self):
        return time.perf_counter() - self.t0

    def fraction(self, step):
        """Progress in [0, 1]: steps done, or budget used, whichever is further along."""
        f = step / self.total
        if self.budget:
            f = max(f, self.elapsed() / self.budget)
        return min(1.0, f)

    def update(self, step, items, **metrics):
        """step: steps done so far; items: units processed in this step (e.g. characters)."""
        self.items += items
        now = self.elapsed()
        if now - self._last_draw < (0.1 if self.tty else self.log_every) and step < self.total:
            return
        self._last_draw = now
        frac = self.fraction(step)
        rate = self.items / now if now > 0 else 0.0
        left = now * (1 - frac) / frac if frac > 0 else 0.0
        fill = int(round(self.width * frac))
        bar = "#" * fill + "-" * (self.width - fill)
        extra = " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())
        line = (f"[{bar}] {100 * frac:3.0f}% step {step}/{self.total} {extra} "
                f"{rate:,.0f} {self.unit}/s {format_seconds(now)} elapsed, {format_seconds(left)} left")
        if self.tty:
            self.stream.write("\r" + line + "\033[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self):
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
