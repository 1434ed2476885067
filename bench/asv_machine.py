"""The asv machine entry for this computer, from lscpu: a name (slug of CPU model, core count and
vector ISA) and a cpu description that records the instruction set and cache sizes, which asv
keeps with every result.

    python bench/asv_machine.py --name       # prints the machine name (the Makefile's MACHINE)
    python bench/asv_machine.py --register   # runs `asv machine --yes --machine NAME --cpu ...`
"""
import argparse
import os
import platform
import re
import subprocess
import sys


def lscpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def _microarchitecture():
    """The CPU Numba compiles for: NUMBA_CPU_NAME where set (other than "host"), else LLVM's name
    for this one (znver3, znver4, sapphirerapids, ...): lscpu's model name says "AMD EPYC" for Zen
    2, 3 and 4 alike. Empty without llvmlite."""
    forced = os.environ.get("NUMBA_CPU_NAME", "").strip()
    if forced and forced != "host":
        return forced
    try:
        from llvmlite import binding
    except ImportError:
        return ""
    return binding.get_host_cpu_name()


def describe():
    """dict(name, cpu, num_cpu, ram, arch, os) for `asv machine`."""
    info = lscpu()
    model = info.get("Model name") or platform.processor() or platform.machine()
    flags = info.get("Flags", "").split()
    isa = [f for f in ("avx512f", "avx2", "fma", "neon") if f in flags] or ["baseline"]
    caches = ", ".join(f"{level} {info[key]}" for level, key in (("L2", "L2 cache"), ("L3", "L3 cache")) if key in info)
    cpus = os.cpu_count() or 1
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    arch = _microarchitecture()
    # the core's name in it: results of a Zen 2 and a Zen 3 host ("AMD EPYC", AVX2, 2 CPUs both)
    # are kept apart (before 2026-12-06 07:40 UTC they shared amd-epyc-2cpu-avx2)
    name = f"{slug}-{re.sub(r'[^a-z0-9]+', '-', arch.lower()) + '-' if arch else ''}{cpus}cpu-{isa[0]}"
    ram = ""
    try:
        with open("/proc/meminfo") as f:
            ram = f.readline().split(":")[1].strip()
    except (OSError, IndexError):
        pass
    return dict(machine=name, cpu=f"{model} ({arch + '; ' if arch else ''}{' '.join(isa)}; {caches})", num_cpu=str(cpus),
                ram=ram,
                arch=platform.machine(), os=f"{platform.system()} {platform.release()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--name", action="store_true")
    group.add_argument("--register", action="store_true")
    args = parser.parse_args()
    d = describe()
    if args.name:
        print(d["machine"])
        return 0
    cmd = [sys.executable, "-m", "asv", "machine", "--yes"] + [f"--{k}={v}" for k, v in d.items() if v]
    return subprocess.run(cmd, cwd=os.path.dirname(os.path.abspath(__file__))).returncode


if __name__ == "__main__":
    sys.exit(main())
