"""The Ray executor against the local one on one study's smoke budget (issue #13 target: at most 1.5x).

Both executors train the same study from nothing, in this process, one after the other (the
order alternates over ``--repeats``), each into a fresh runs folder; Ray starts a local
instance of ``--cpus`` CPUs (default: this machine's) each time, and its start-up is counted.
Printed: the wall time of each, their ratio, and how far Ray's runs overlapped (the largest
number of runs training at one moment, from the run folders' timestamps).

    python benchmarks/bench_executors.py                        # connectivity, smoke: ~3 min on 2 cores
    python benchmarks/bench_executors.py --study mapping --repeats 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from _common import OtherLoad, machine_info, median, print_header, write_json  # noqa: E402

TARGET = 1.5


def most_at_once(run_dirs) -> int:
    """The largest number of runs whose [config written, last checkpoint] spans overlap."""
    events = []
    for run in run_dirs:
        events.append(((run / "config.json").stat().st_mtime, 1))
        events.append(((run / "checkpoint.keras").stat().st_mtime, -1))
    best = now = 0
    for _, step in sorted(events):
        now += step
        best = max(best, now)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", default="connectivity")
    parser.add_argument("--budget", default="smoke")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray instance")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    from qhvae.experiments import LocalExecutor, RayExecutor, plan_runs, run_experiment

    console = Console()
    info = machine_info()
    print_header(console, f"Ray executor vs local: the {args.study} study, {args.budget} budget", info,
                 {"ray cpus": args.cpus or os.cpu_count()})
    walls = {"local": [], "ray": []}
    overlap = []
    load = OtherLoad()
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for name in (("local", "ray") if rep % 2 == 0 else ("ray", "local")):
                executor = LocalExecutor() if name == "local" else RayExecutor(num_cpus=args.cpus)
                out = Path(tmp) / f"{name}-{rep}"
                start = time.perf_counter()
                run_experiment(args.study, out, budget=args.budget, executor=executor)
                walls[name].append(time.perf_counter() - start)
                if name == "ray":
                    overlap.append(most_at_once([p.run_dir for p in plan_runs(args.study, out, budget=args.budget)]))
                console.print(f"  {name:<5} repeat {rep + 1}: {walls[name][-1]:6.1f} s")
    busy = load.fraction()
    ratio = median(walls["ray"]) / median(walls["local"])
    table = Table(title=f"{args.study} ({args.budget}): Ray executor / local executor")
    for col in ("figure", "value", f"target <= {TARGET}x"):
        table.add_column(col)
    table.add_row("median wall, local (s)", f"{median(walls['local']):.1f}", "")
    table.add_row("median wall, ray (s), start-up included", f"{median(walls['ray']):.1f}", "")
    table.add_row("ray / local", f"{ratio:.2f}x", "met" if ratio <= TARGET else "MISSED")
    table.add_row("runs training at once under ray (most)", str(max(overlap)), "")
    console.print(table)
    if busy is not None:
        console.print(f"other load on the machine during the runs: {busy[0]:.0%} of the CPUs (steal {busy[1]:.0%})")
    if args.json:
        write_json(args.json, {"machine": info, "walls": walls, "ratio": ratio, "overlap": overlap,
                               "other_load": busy})


if __name__ == "__main__":
    main()
