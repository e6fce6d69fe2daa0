"""The qpu path's client-side cost: one negative-phase call on the emulator vs block Gibbs.

A 288-unit Chimera prior (b, W ~ U(-1, 1)), 1000 samples per call, through
``get_sampler("emulator")`` (the real ``QPUSampler`` code path over the noise-injecting
emulator on a Pegasus P16-sized working graph, 5 spin-reversal transforms, the paper's
pause-and-quench schedule) and through ``get_sampler("gibbs")``, in this process. The
emulated device's own time is measured by timing its ``sample`` method (which the
spin-reversal composite calls once per transform); what remains of a call is the client
machinery: spin conversion, scaling by beta_eff, clipping, placement lookup, the
transforms' flips and the read-back. The beta_eff estimate (MPL) is reported apart.
Issue target: client overhead < 5 ms per call beyond the device's own time.

    python benchmarks/bench_qpu.py            # ~1 min
    python benchmarks/bench_qpu.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import qhvae  # noqa: E402
from _common import OtherLoad, machine_info, median, print_header, spread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.calls = 3
    console = Console()
    print_header(console, "qpu path on the emulator vs gibbs: time per negative-phase call", machine_info(),
                 {"graph": "chimera(6)", "samples": args.samples, "calls": args.calls, "device": "emulator P16, low"})
    graph = qhvae.topology.chimera(6)
    rng = np.random.default_rng(0)
    bm = qhvae.BoltzmannMachine.from_arrays(rng.uniform(-1, 1, 288), (graph.edges, rng.uniform(-1, 1, graph.num_edges)))
    qpu = qhvae.get_sampler("emulator", noise_profile="low", topology_type="pegasus", topology_shape=[16],
                            graph=graph, seed=0)
    gibbs = qhvae.get_sampler("gibbs", graph=graph)
    device = qpu.device
    device_time = []
    original = device.sample

    def timed_sample(*a, **k):
        t0 = time.perf_counter()
        out = original(*a, **k)
        device_time.append(time.perf_counter() - t0)
        return out

    device.sample = timed_sample
    qpu.sample_bm(bm, args.samples, seed=0)  # placement (once per graph) and compilation
    gibbs.sample_bm(bm, args.samples, seed=0)
    rows = {"emulator (qpu path)": [], "gibbs (10 sweeps)": []}
    overhead, estimate = [], []
    load = OtherLoad()
    for call in range(args.calls):
        device_time.clear()
        t0 = time.perf_counter()
        result = qpu.sample_bm(bm, args.samples, seed=call + 1)
        total = time.perf_counter() - t0
        rows["emulator (qpu path)"].append(total)
        est = result.info["timing"]["beta_estimate_s"]
        estimate.append(est)
        overhead.append(total - sum(device_time) - est)
        t0 = time.perf_counter()
        gibbs.sample_bm(bm, args.samples, seed=call + 1)
        rows["gibbs (10 sweeps)"].append(time.perf_counter() - t0)
    table = Table(title=f"seconds per call, {args.samples} samples of the 288-unit Chimera prior (median of {args.calls})")
    for col in ("sampler", "s/call", "range"):
        table.add_column(col, justify="right")
    for name, values in rows.items():
        lo, hi = spread(values)
        table.add_row(name, f"{median(values):.4f}", f"{lo:.4f}-{hi:.4f}")
    console.print(table)
    ms = 1000 * median(overhead)
    console.print(f"client overhead beyond the device's own time: median {ms:.2f} ms per call "
                  f"(range {1000 * min(overhead):.2f}-{1000 * max(overhead):.2f} ms); target < 5 ms: "
                  f"{'met' if ms < 5 else 'MISSED'}")
    console.print(f"beta_eff estimate (MPL on {args.samples} x 288 spins): median {1000 * median(estimate):.1f} ms per call")
    console.print(f"beta_eff after {args.calls + 1} calls: {qpu.effective_beta:.3f} "
                  f"(emulator's true value this call: {device.last_call.beta_eff:.3f})")
    other, steal = load.fraction() or (float("nan"), float("nan"))
    console.print(f"CPU taken by other processes during the run: {100 * other:.0f}% of the machine")


if __name__ == "__main__":
    main()
