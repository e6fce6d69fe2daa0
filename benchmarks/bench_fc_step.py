"""Training-step time of the fully connected QVAE, beside the paper's convolutional one.

One ``model.fit`` training step, batch 100 of 28x28 binary images, ``K*D = 8`` (the first
stage of the paper's (K, D) schedule, ``k=1, d=8``: 800 decoder passes per step), the
288-unit Chimera prior ``chimera(6)`` and 1000 negative samples per step from persistent
block Gibbs. The fully connected model (``network="fc"``, 784-512-256 and back, tanh) is
timed over ``--steps`` steps after a warm-up, the convolutional one (``network="conv"``,
``base_filters=32``, ``hidden=512``) over a few (each takes seconds on a small CPU); the
medians and their ratio are reported. Issue #11 target: at most 50 ms per fc step on 2 cores.

    python benchmarks/bench_fc_step.py              # ~1 min on 2 cores
    python benchmarks/bench_fc_step.py --quick      # smoke run
    python benchmarks/bench_fc_step.py --json fc.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from _common import OtherLoad, machine_info, median, print_header, spread, write_json  # noqa: E402

TARGET_MS = 50.0


def step_timer():
    """A Keras callback recording the wall and process CPU time of every training batch."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.wall: list[float] = []
            self.cpu: list[float] = []

        def on_train_batch_begin(self, batch, logs=None):
            self._t, self._c = time.perf_counter(), time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            self.wall.append(time.perf_counter() - self._t)
            self.cpu.append(time.process_time() - self._c)

    return StepTimer()


def build(network: str, batch_size: int):
    """The model to time: Chimera(6) prior with trained-like parameters, Gibbs negative phase."""
    import keras

    from qhvae.vae import QVAE

    keras.utils.set_random_seed(0)
    model = QVAE((28, 28, 1), "chimera", graph_kwargs={"m": 6}, sampler="gibbs", num_negative_samples=1000,
                 k=1, d=8, seed=0, network=network)
    # b, W ~ U(-1, 1) as in bench_training.py: the sampler sees a prior like a trained one.
    rng = np.random.default_rng(1)
    model.prior.b.assign(rng.uniform(-1, 1, model.graph.num_nodes).astype(np.float32))
    model.prior.w.assign(rng.uniform(-1, 1, model.graph.num_edges).astype(np.float32))
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    return model


def time_steps(model, dataset, steps: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``steps`` training steps after ``warmup`` untimed ones (tracing included)."""
    model.fit(dataset.take(warmup), epochs=1, verbose=0)
    timer = step_timer()
    model.fit(dataset.take(steps), epochs=1, verbose=0, callbacks=[timer])
    return timer.wall, timer.cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed fc steps")
    parser.add_argument("--conv-steps", type=int, default=4, help="timed conv steps (0: skip the conv model)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (tracing, sampler compile)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 fc steps, 1 conv step")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.conv_steps, args.warmup = 5, 1, 2

    import tensorflow as tf

    console = Console()
    info = machine_info()
    info["tensorflow"] = tf.__version__
    print_header(console, "QVAE training step: fully connected vs convolutional networks", info,
                 {"batch": args.batch_size, "K*D": 8, "image": "28x28", "prior": "chimera(6)",
                  "negative phase": "gibbs, 1000 samples", "fc steps": args.steps, "conv steps": args.conv_steps})
    rng = np.random.default_rng(0)
    # Timing does not depend on the pixels: random binary images of MNIST's size and density.
    count = args.batch_size * (max(args.steps, args.conv_steps) + args.warmup)
    x = (rng.random((count, 28, 28, 1)) < 0.13).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(args.batch_size, drop_remainder=True).cache()

    load = OtherLoad()
    results = {}
    for network, steps in (("fc", args.steps), ("conv", args.conv_steps)):
        if steps <= 0:
            continue
        model = build(network, args.batch_size)
        wall, cpu = time_steps(model, dataset, steps, args.warmup)
        model.negative_phase.close()
        results[network] = {"steps": len(wall), "median_s": median(wall), "range_s": spread(wall),
                            "cpu_median_s": median(cpu), "parameters": int(model.count_params())}
    other, steal = load.fraction() or (float("nan"), float("nan"))

    table = Table(title=f"median seconds per training step (batch {args.batch_size} x K*D 8)")
    for col in ("network", "parameters", "steps", "ms/step", "range ms", "CPU ms/step", "target"):
        table.add_column(col, justify="right")
    for network, r in results.items():
        lo, hi = r["range_s"]
        target = ""
        if network == "fc":
            target = f"<= {TARGET_MS:.0f} ms " + ("met" if 1000 * r["median_s"] <= TARGET_MS else "MISSED")
        table.add_row(network, f"{r['parameters']:,}", str(r["steps"]), f"{1000 * r['median_s']:.1f}",
                      f"{1000 * lo:.1f}-{1000 * hi:.1f}", f"{1000 * r['cpu_median_s']:.1f}", target)
    console.print(table)
    if "fc" in results and "conv" in results:
        ratio = results["conv"]["median_s"] / results["fc"]["median_s"]
        results["conv_over_fc"] = ratio
        console.print(f"conv / fc step time: {ratio:.1f}x")
    console.print(f"CPU taken by other processes during the run: {100 * other:.0f}% of the machine "
                  f"(of which hypervisor steal {100 * steal:.0f}%)")
    if args.json:
        write_json(args.json, {"machine": info, "other_load": other, "steal": steal, "results": results})


if __name__ == "__main__":
    main()
