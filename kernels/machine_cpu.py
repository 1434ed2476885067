"""What this process runs on, read by the kernels at call time: its environment (getenv), its
CPUs (process_cpus: the affinity; cpu_quota: a container's cgroup quota; usable_cores: both,
shared with the node's other MPI ranks) and the machine a tuning decision depends on (machine:
CPU model, the instruction set Numba compiles for, thread count; machine_key names its wisdom
file). kernels/tuning.py re-exports these. Imports only the standard library (numba when the
machine is first read).
"""
import os
import platform
import re
import threading

_env_keys = {}


def getenv(name):
    """getenv(name) at a dict look-up's cost (the kernels read their settings per call):
    CPython's os.environ keeps its encoded items in ``_data``, which os.environ[...] = ... and
    monkeypatch.setenv update; elsewhere os.environ.get. An empty value counts as unset (None),
    as `VAR= command` means in a shell."""
    data = getattr(os.environ, "_data", None)
    if data is None or os.name != "posix":
        return os.environ.get(name) or None
    key = _env_keys.get(name)
    if key is None:
        key = _env_keys[name] = os.environ.encodekey(name)
    raw = data.get(key)
    return os.environ.decodevalue(raw) if raw else None


# the main thread's own affinity while workers_cpu.Workers.run pins it to one CPU (a spinning run)
_main_thread_cpus = []


def process_cpus():
    """The process's CPUs (the main thread's affinity: a pinned kernel worker's own is one CPU;
    while a spinning kernel call pins the main thread, the affinity it had before), sorted, or
    None where affinity calls do not exist."""
    saved = _main_thread_cpus[-1:]  # one read: the main thread may pop meanwhile
    if saved:
        return sorted(saved[0])
    try:
        return sorted(os.sched_getaffinity(os.getpid()))
    except (AttributeError, OSError):
        return None


_quota = []


def cpu_quota(path="/sys/fs/cgroup/cpu.max"):
    """The CPUs a container's cgroup (v2) quota allows, rounded down (at least 1), or None without
    a quota: `docker run --cpus=1` on a 16-core machine leaves the affinity at 16 CPUs, and threads
    that spin would spend the quota. Read once per process."""
    if not _quota:
        value = None
        try:
            with open(path) as f:
                quota, period = f.read().split()[:2]
            if quota != "max":
                value = max(1, int(quota) // int(period))
        except (OSError, ValueError):
            pass  # no cgroup v2 quota file (or an unreadable one): no quota
        _quota.append(value)
    return _quota[0]


_scope = threading.local()


class cores_scope:
    """``with cores_scope():`` usable_cores() is read once for the block (a kernel call asks it at
    every hand-off to its threads: an affinity system call and three environment reads, ~1.9 us
    each time, 5-7 times a call); a scope inside another keeps the outer one's answer."""

    def __enter__(self):
        self.outer = getattr(_scope, "open", False)
        if not self.outer:
            _scope.open, _scope.cores = True, None   # read at the first ask (a one-chunk call never asks)
        return self

    def __exit__(self, *exc):
        if not self.outer:
            _scope.open, _scope.cores = False, None
        return False


def cpu_seconds():
    """(busy CPU seconds of the whole machine since boot, this process's CPU seconds): the
    difference of two readings is what other processes (and the hypervisor's steal) took
    meanwhile. None where /proc/stat cannot be read (not Linux)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(v) for v in fields[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)   # idle + iowait
    own = os.times()
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK"), own.user + own.system


def usable_cores():
    """This process's cores: its CPU affinity, shared with the other MPI ranks on this node (Open
    MPI, MPICH and MVAPICH say how many run there). Threads that spin (kernels/workers_cpu.py,
    spin_cpu.py) or a background compile need a core each. Inside a cores_scope, the scope's."""
    if not getattr(_scope, "open", False):
        return _usable_cores_now()
    cores = _scope.cores
    if cores is None:
        cores = _scope.cores = _usable_cores_now()
    return cores


def _usable_cores_now():
    cpus = process_cpus()
    cores = len(cpus) if cpus else (os.cpu_count() or 1)
    cores = min(cores, cpu_quota() or cores)
    for name in ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE"):
        ranks = getenv(name) or ""
        if ranks.isdigit() and int(ranks) > 1:
            return max(1, cores // int(ranks))
    return cores


# -- the machine (what a decision depends on) --------------------------------------------------------------------------------

_machine = {}


def machine():
    """CPU model, the instruction set Numba compiles for, its vector extensions and Numba's
    thread count: what a decision depends on (read once per process)."""
    if not _machine:
        _machine.update(_read_machine())
    return dict(_machine)


def _read_machine():
    # /proc/cpuinfo first: platform.processor() runs `uname -p` in a subprocess, whose
    # warnings.catch_warnings clears every module's warning registry (a program's "once"
    # warnings then repeated after the first LSTM call)
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass   # no /proc/cpuinfo (not Linux): platform's name
    model = model or platform.machine()
    import numba
    from llvmlite import binding as llvm  # numba's own dependency
    cpu = numba.config.CPU_NAME or llvm.get_host_cpu_name()
    features = numba.config.CPU_FEATURES or llvm.get_host_cpu_features().flatten()
    isa = [f for f in ("avx512f", "avx2", "fma", "avx", "sse4.2", "neon") if "+" + f in features.split(",")]
    return dict(cpu_model=model, cpu_name=cpu, isa=isa, threads=numba.config.NUMBA_NUM_THREADS)


def machine_key(info=None):
    info = info or machine()
    text = f"{info['cpu_model']}-{info['cpu_name']}-{'+'.join(info['isa']) or 'base'}-{info['threads']}t"
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_")
