"""Ctrl-C (and SIGTERM, as batch schedulers and `kill` send) that lets a trainer finish its step and
save: `with CtrlC() as stop:` makes the first such signal only set the threading.Event `stop` (the
loop checks it between steps) and record it in `stop.signum`; a second one interrupts at once
(KeyboardInterrupt). The trainer then exits with exit_status(stop): 128 + the signal's number, as
a shell reports a process ended by it (130 for SIGINT). Python delivers signals to the main
thread only, so in another thread it installs nothing and `stop` is set only by the caller."""
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_status(stop):
    return 128 + int(getattr(stop, "signum", None) or signal.SIGINT)


class CtrlC:
    def __init__(self):
        self.stop, self._old = threading.Event(), {}
        self.stop.signum = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                self._old[s] = signal.signal(s, self._handle)
        return self.stop

    def _handle(self, signum, frame):
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.stop.signum = signum
        self.stop.set()

    def __exit__(self, *exc):
        for s, old in self._old.items():
            signal.signal(s, old)
