"""ts.profiler (torch.profiler) and the engine of ts.autograd.profiler: profile records the name
and CPU wall time of each record_function region run while it is active, in microseconds as
torch's FunctionEvent; key_averages() groups them by name (count, total, average, self time)
and table() prints them under torch's column names.

    with ts.profiler.profile(activities=[ts.profiler.ProfilerActivity.CPU]) as prof:
        with ts.profiler.record_function("forward"):
            out = model(x)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Only record_function regions are recorded (not each op, as torch's aten:: rows). With no
profile active, record_function costs one list test on enter and exit. A region's self time is
its time less that of the regions opened inside it."""
import enum
import functools
import json
import time
import warnings

from tinygrad_seq.profiler_schedule import (ProfilerAction, TRANSITIONS, always_record,  # noqa: F401
                                            schedule, tensorboard_trace_handler)

_ACTIVE: list = []   # the profiles recording now (nested ones all record)
_OPEN: list = []     # the record_function regions open now, innermost last


_WARNED = set()


def _warn_once(message):
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=4)


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class FunctionEvent:
    """One region run: name, start and end (microseconds since the profile started), thread."""

    def __init__(self, id, name, start_us, end_us, thread=0):
        # a step's region: trace_name "ProfilerStep#N", name and key "ProfilerStep*" (torch's wildcard)
        self.trace_name = name
        name = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.id, self.name, self.key, self.thread = id, name, name, thread
        self.start_us, self.end_us = start_us, end_us
        self.cpu_time_total = end_us - start_us
        self.self_cpu_time_total = self.cpu_time_total   # less its children's, set on close
        self.count, self.cpu_children, self.input_shapes, self.device_type = 1, [], [], ProfilerActivity.CPU

    cpu_time = property(lambda self: self.cpu_time_total)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self.start_us:.3f} end_us={self.end_us:.3f}>")


class FunctionEventAvg:
    """The events of one name: count, cpu_time_total and self_cpu_time_total summed, cpu_time
    their mean."""

    def __init__(self, key):
        self.key, self.count, self.cpu_time_total, self.self_cpu_time_total = key, 0, 0.0, 0.0
        self.input_shapes = []

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        return self

    cpu_time = property(lambda self: self.cpu_time_total / self.count if self.count else 0.0)
    self_cpu_time = property(lambda self: self.self_cpu_time_total / self.count if self.count else 0.0)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)} count={self.count}>")


def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class EventList(list):
    """A list of FunctionEvents (or of their averages) with torch's table()."""

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups = {}
        for e in self:
            groups.setdefault(e.key, FunctionEventAvg(e.key)).add(e)
        return EventList(groups.values())

    def total_average(self):
        total = FunctionEventAvg("Total")
        for e in self:
            total.count += e.count
            total.cpu_time_total += e.cpu_time_total
            total.self_cpu_time_total += e.self_cpu_time_total
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """torch's text table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg,
        # of Calls, rows sorted by the attribute sort_by names (descending), at most row_limit."""
        rows = list(self)
        if sort_by is not None:
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)   # an unknown name: AttributeError
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(e.self_cpu_time_total for e in self) or 1.0
        names = [e.key[:max_name_column_width] for e in rows]
        name_width = max([len("Name")] + [len(n) for n in names]) + 4
        heads = ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls")
        widths = [name_width] + [12] * len(heads)
        line = "".join("-" * w + "  " for w in widths)
        out = [line, "".join(h.rjust(w) + "  " for h, w in zip(("Name",) + heads, widths)), line]
        for name, e in zip(names, rows):
            cells = (name, f"{100 * e.self_cpu_time_total / self_total:.2f}%", _format_time(e.self_cpu_time_total),
                     f"{100 * e.cpu_time_total / self_total:.2f}%", _format_time(e.cpu_time_total),
                     _format_time(e.cpu_time), str(e.count))
            out.append("".join(c.rjust(w) + "  " for c, w in zip(cells, widths)))
        out += [line, f"Self CPU time total: {_format_time(sum(e.self_cpu_time_total for e in self))}", ""]
        return "\n".join(out)


class record_function:
    """A named region (context manager or decorator); recorded by every active profile."""

    def __init__(self, name, args=None):
        if not isinstance(name, str):
            raise TypeError(f"record_function(): argument 'name' must be str, not {type(name).__name__}")
        self.name, self.args, self._region = name, args, None

    def __enter__(self):
        if _ACTIVE:
            self._region = [self.name, time.perf_counter(), 0.0]   # name, start, children's time
            _OPEN.append(self._region)
        return self

    def __exit__(self, *exc):
        region = self._region
        if region is not None:
            self._region = None
            end = time.perf_counter()
            if _OPEN and _OPEN[-1] is region:
                _OPEN.pop()
            elapsed = end - region[1]
            if _OPEN:
                _OPEN[-1][2] += elapsed
            for prof in _ACTIVE:
                prof._record(region[0], region[1], end, region[2])
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return run


class profile:
    """torch.profiler.profile: records the record_function regions run while its schedule says
    RECORD (profiler_schedule.py; without a schedule, from start() / entering the with-block to
    stop()). on_trace_ready(prof) runs at the end of each recorded cycle, and events() /
    key_averages() give that cycle's events. With a schedule each step is a region named
    "ProfilerStep#N", as torch's."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        activities = [ProfilerActivity.CPU] if activities is None else list(activities)
        for a in activities:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile(activities=...): expected ProfilerActivity values, got {type(a).__name__}")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"profile(schedule=...): expected a callable step -> ProfilerAction, got "
                            f"{type(schedule).__name__}")
        self.activities, self.on_trace_ready, self.record_shapes = set(activities), on_trace_ready, record_shapes
        self.profile_memory, self.with_stack, self.with_flops = profile_memory, with_stack, with_flops
        self.schedule = always_record if schedule is None else schedule
        self.record_steps = schedule is not None
        self._events, self._origin, self._running, self.step_num = EventList(), None, False, 0
        self.current_action, self._step_region, self.acc_events, self._cycles = self.schedule(0), None, acc_events, 0

    # the steps of a change of action (profiler_schedule.TRANSITIONS)
    def _prepare(self):
        """A new cycle: its events replace the last cycle's (acc_events=True: added to them)."""
        self._cycles += 1
        if self._cycles > 1 and not self.acc_events:
            _warn_once("Warning: Profiler clears events at the end of each cycle. Only events from the current "
                       "cycle will be reported. To keep events across cycles, set acc_events=True.")
        if self._cycles == 1 or not self.acc_events:
            self._events, self._origin = EventList(), time.perf_counter()

    def _start_recording(self):
        if not self._running:
            self._running = True
            _ACTIVE.append(self)

    def _stop_recording(self):
        if self._running:
            self._running = False
            _ACTIVE.remove(self)

    def _ready(self):
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit(self, previous, current):
        steps = {"prepare": self._prepare, "start": self._start_recording, "stop": self._stop_recording,
                 "ready": self._ready}
        for step in TRANSITIONS[(previous, current)]:
            steps[step]() if isinstance(step, str) else step(self)

    def _enter_step_region(self):
        if self.record_steps:
            self._step_region = record_function("ProfilerStep#" + str(self.step_num))
            self._step_region.__enter__()

    def _exit_step_region(self):
        if self._step_region is not None:
            self._step_region.__exit__(None, None, None)
            self._step_region = None

    def start(self):
        self._transit(ProfilerAction.NONE, self.current_action)
        self._enter_step_region()

    def stop(self):
        self._exit_step_region()
        self._transit(self.current_action, None)
        self.current_action = self.schedule(self.step_num)

    def step(self):
        """The next step starts: the schedule's action for it takes effect."""
        self._exit_step_region()
        action = self.schedule(self.step_num + 1)
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler and must not be "
                             "returned by a user-provided schedule")
        previous, self.step_num, self.current_action = self.current_action, self.step_num + 1, action
        self._transit(previous, self.current_action)
        self._enter_step_region()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _record(self, name, start, end, children):
        to_us = 1e6
        e = FunctionEvent(len(self._events) + 1, name, (start - self._origin) * to_us, (end - self._origin) * to_us)
        e.self_cpu_time_total = max(e.cpu_time_total - children * to_us, 0.0)
        self._events.append(e)

    def events(self):
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        return self._events.key_averages()

    def export_chrome_trace(self, path):
        """The events as Chrome trace JSON ("X" events, microseconds), as torch writes."""
        trace = {"traceEvents": [{"name": e.trace_name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total,
                                  "pid": 0, "tid": e.thread, "cat": "user_annotation"} for e in self._events]}
        with open(path, "w") as f:
            json.dump(trace, f)


class LegacyProfile(profile):
    """torch.autograd.profiler.profile(enabled=True, *, use_cuda=False, record_shapes=False, ...):
    the same recording; enabled=False records nothing."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops)
        self.enabled = enabled

    def start(self):
        if self.enabled:
            super().start()

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)

    function_events = property(lambda self: self._events)
