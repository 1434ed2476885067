"""Ctrl-C that lets a trainer finish its step and save: `with CtrlC() as stop:` makes the first
SIGINT only set the threading.Event `stop` (the loop checks it between steps); a second SIGINT
interrupts at once (KeyboardInterrupt). Python delivers signals to the main thread only, so in
another thread it installs nothing and `stop` is set only by the caller."""
import signal
import threading


class CtrlC:
    def __init__(self):
        self.stop, self._old = threading.Event(), None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self.stop

    def _handle(self, signum, frame):
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.stop.set()

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
