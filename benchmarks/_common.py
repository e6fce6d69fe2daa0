"""Helpers shared by the benchmark scripts: machine description, graphs, statistics.

Not part of the ``qhvae`` package; the scripts import it from their own folder.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from importlib import metadata

import numpy as np

__all__ = [
    "machine_info",
    "OtherLoad",
    "busy_fraction",
    "print_header",
    "benchmark_graph",
    "random_bm_arrays",
    "median",
    "spread",
    "timed",
    "write_json",
]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_times() -> tuple[int, int, int] | None:
    """``(total, idle, steal)`` CPU ticks since boot, all CPUs together (Linux only)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    fields += [0] * (8 - len(fields))
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]), idle, fields[7]


def busy_fraction(seconds: float = 0.5) -> float | None:
    """Fraction of all CPUs busy over ``seconds`` while this process sleeps (Linux only).

    Measured before a benchmark starts, it is the load of other processes: anything
    well above 0 means the timings will be low and noisy.
    """
    a = _cpu_times()
    if a is None:
        return None
    time.sleep(seconds)
    b = _cpu_times()
    total = b[0] - a[0]
    return None if total <= 0 else round(1.0 - (b[1] - a[1]) / total, 3)


class OtherLoad:
    """CPU used by other processes between construction and :meth:`fraction` (Linux only).

    The system's busy CPU time (including time stolen by the hypervisor of a virtual
    machine) minus this process's own, as a fraction of all CPUs over the wall time:
    0 on a quiet machine, 0.5 when others took one core of two.
    """

    def __init__(self):
        self.start = _cpu_times()
        self.own = sum(os.times()[:2])
        self.t0 = time.perf_counter()

    def fraction(self) -> tuple[float, float] | None:
        """``(others, steal)``: CPU taken by other processes (steal included) and by the
        hypervisor (steal) alone, each as a fraction of all CPUs over the wall time."""
        end = _cpu_times()
        wall = time.perf_counter() - self.t0
        if self.start is None or end is None or wall <= 0:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        busy = ((end[0] - end[1]) - (self.start[0] - self.start[1])) / ticks
        steal = (end[2] - self.start[2]) / ticks
        own = sum(os.times()[:2]) - self.own
        scale = wall * (os.cpu_count() or 1)
        return round(max(0.0, busy - own) / scale, 3), round(steal / scale, 3)


def machine_info(measure_busy: bool = True) -> dict:
    """Date, host, CPU, thread settings and library versions, as a flat dict."""
    import numba

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel function has run yet
        layer = "(not yet initialised)"
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": _cpu_model(),
        "nproc": usable,
        "os_cpu_count": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "busy_by_others": busy_fraction() if measure_busy else None,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": layer,
        "python": platform.python_version(),
        "qhvae": _version("qhvae"),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "dwave-samplers": _version("dwave-samplers"),
        "dimod": _version("dimod"),
    }


def print_header(console, title: str, info: dict, extra: dict | None = None) -> None:
    """Print the machine description (and the run's settings) before the tables."""
    console.rule(title)
    console.print(f"date: {info['date']}   host: {info['host']}")
    busy = info.get("busy_by_others")
    console.print(
        f"cpu: {info['cpu']}   nproc: {info['nproc']}   load average (1 min): {info['loadavg_1m']}   "
        f"CPU busy before start (other processes): {'n/a' if busy is None else f'{100 * busy:.0f}%'}"
    )
    console.print(
        f"numba threads: {info['numba_threads']}   python {info['python']}   qhvae {info['qhvae']}   "
        f"numpy {info['numpy']}   numba {info['numba']}   dwave-samplers {info['dwave-samplers']}   "
        f"dimod {info['dimod']}"
    )
    if extra:
        console.print("settings: " + "   ".join(f"{k}={v}" for k, v in extra.items()))
    if busy is not None and busy > 0.1:
        console.print(
            f"[bold yellow]warning:[/] {100 * busy:.0f}% of the CPUs were busy with other processes just before "
            "the start: timings will be low and noisy"
        )


def benchmark_graph(name: str):
    """One of the benchmark graphs: ``chimera`` (chimera(6)), ``pegasus`` (pegasus()) or ``rbm`` (rbm(144, 144))."""
    import qhvae

    graphs = {
        "chimera": lambda: qhvae.topology.chimera(6),
        "pegasus": lambda: qhvae.topology.pegasus(),
        "rbm": lambda: qhvae.topology.rbm(144, 144),
    }
    if name not in graphs:
        raise ValueError(f"unknown benchmark graph {name!r}; choose one of {sorted(graphs)}")
    return graphs[name]()


def random_bm_arrays(graph, seed: int, bias_scale: float = 1.0, coupling_scale: float = 1.0):
    """Biases ``b ~ U[-bias_scale, bias_scale]`` and couplings ``w ~ U[-coupling_scale, coupling_scale]``."""
    rng = np.random.default_rng(seed)
    b = rng.uniform(-bias_scale, bias_scale, graph.num_nodes)
    w = rng.uniform(-coupling_scale, coupling_scale, graph.num_edges)
    return b, w


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def spread(values: Iterable[float]) -> tuple[float, float]:
    """``(min, max)`` of the values."""
    values = list(values)
    return float(min(values)), float(max(values))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time of one call and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def write_json(path: str, payload: dict) -> None:
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2, default=float)
        fh.write("\n")
