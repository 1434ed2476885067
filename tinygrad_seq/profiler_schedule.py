"""torch.profiler's step schedule: ProfilerAction, schedule(wait, warmup, active, repeat,
skip_first, skip_first_wait) and the table of what a profile does when its action changes from
one step to the next (torch's action_map), plus tensorboard_trace_handler.

A profile with a schedule records the steps its schedule marks RECORD / RECORD_AND_SAVE; at the
end of each RECORD_AND_SAVE step (and at stop() while recording) the cycle's events are ready and
on_trace_ready(prof) runs; the next cycle starts with no events. Without a schedule a profile
records from start() to stop(), as torch's default schedule (always RECORD)."""
import enum
import os
import socket
import time
import warnings


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4   # torch sets it when a device's collection stops early; never a schedule's answer


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """The action of each step (a callable step -> ProfilerAction): skip the first `skip_first`
    steps, then cycles of `wait` idle, `warmup` and `active` steps (the last active step
    RECORD_AND_SAVE), `repeat` cycles (0: no end); skip_first_wait != 0 drops the first wait."""
    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    return schedule_fn


def always_record(step):
    """The schedule of a profile given none: record every step (torch's default)."""
    return ProfilerAction.RECORD


def _warn(message):
    return lambda prof: warnings.warn(message, stacklevel=4)


_N, _W, _R, _S = ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE
# (previous action, next action; None: the profile stops) -> the steps, by name, of torch's table:
# "prepare" starts a new cycle (no events yet), "start" / "stop" begin and end recording,
# "ready" hands the cycle's events to on_trace_ready
TRANSITIONS = {
    (_N, _N): (), (_N, _W): ("prepare",), (_N, _R): ("prepare", "start"), (_N, _S): ("prepare", "start"),
    (_W, _N): (_warn("Incorrect schedule: WARMUP followed by NONE"), "start", "stop"),
    (_W, _W): (), (_W, _R): ("start",), (_W, _S): ("start",),
    (_R, _N): (_warn("Incorrect schedule: RECORD followed by NONE"), "stop"),
    (_R, _W): (_warn("Incorrect schedule: RECORD followed by WARMUP"), "stop"),
    (_R, _R): (), (_R, _S): (),
    (_S, _N): ("stop", "ready"), (_S, _W): ("stop", "ready", "prepare"),
    (_S, _R): ("stop", "ready", "prepare", "start"), (_S, _S): ("stop", "ready", "prepare", "start"),
    (_W, None): ("start", "stop"), (_R, None): ("stop", "ready"), (_S, None): ("stop", "ready"),
    (_N, None): (),
}


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False, use_python_export=False):
    """An on_trace_ready that writes each cycle's Chrome trace into dir_name as
    `{worker_name}.{time_ns}.pt.trace.json` (worker_name: host_pid), as torch's."""
    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        path = os.path.join(dir_name, file_name + (".gz" if use_gzip else ""))
        if use_gzip:
            import gzip
            plain = path[:-3]
            prof.export_chrome_trace(plain)
            with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
                dst.write(src.read())
            os.remove(plain)
        else:
            prof.export_chrome_trace(path)
    return handler_fn
