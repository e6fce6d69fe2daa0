"""Training-step time of the QVAE: Chimera prior with 1000 negative samples vs a Bernoulli prior.

The same networks (the paper's 28x28 encoder/decoder, batch 100, K*D = 8) are trained
with a 288-unit Bernoulli prior (sampled exactly) and with the 288-unit Chimera prior,
whose negative phase (1000 samples per step) comes from population annealing or from
persistent block Gibbs, with and without prefetching (sampling for the next step while
the current one trains). Every configuration runs in this process, interleaved over
rounds; the medians of the per-step times are compared. Issue target: Chimera overhead
<= 15% over Bernoulli.

    python benchmarks/bench_training.py            # default, a few minutes
    python benchmarks/bench_training.py --quick    # smoke run
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

from _common import OtherLoad, machine_info, median, print_header, spread  # noqa: E402


class StepTimer:
    """Keras callback recording the wall time of every training batch."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times: list[float] = []

            def on_train_batch_begin(self, batch, logs=None):
                self._t = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.times.append(time.perf_counter() - self._t)

        return _Timer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="timed steps per configuration and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.rounds = 3, 1

    import keras
    import tensorflow as tf

    from qhvae.vae import QVAE

    console = Console()
    info = machine_info()
    info["tensorflow"] = tf.__version__
    print_header(console, "QVAE training step: Chimera(6) + 1000 negative samples vs Bernoulli(288)", info,
                 {"batch": args.batch_size, "K*D": 8, "image": "28x28", "steps": args.steps, "rounds": args.rounds})
    rng = np.random.default_rng(0)
    # Timing does not depend on the pixels: random binary images of MNIST's size and density.
    x = (rng.random((args.batch_size * (args.steps + 2), 28, 28, 1)) < 0.13).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(args.batch_size, drop_remainder=True)

    configs = {
        "bernoulli(288), exact": dict(graph="bernoulli", graph_kwargs={"num_nodes": 288}, sampler="exact"),
        "chimera(6), pa": dict(graph="chimera", sampler="pa"),
        "chimera(6), pa, prefetch": dict(graph="chimera", sampler="pa", prefetch=True),
        "chimera(6), gibbs": dict(graph="chimera", sampler="gibbs"),
        "chimera(6), gibbs, prefetch": dict(graph="chimera", sampler="gibbs", prefetch=True),
    }
    models = {}
    for name, cfg in configs.items():
        keras.utils.set_random_seed(0)
        model = QVAE((28, 28, 1), num_negative_samples=1000, seed=0, **cfg)
        # A trained prior, not the all-zero initial one: couplings and biases ~ U(-1, 1)
        # give the samplers the work they do in a real run (PA needs ~30 steps, not 1).
        prior_rng = np.random.default_rng(1)
        model.prior.b.assign(prior_rng.uniform(-1, 1, model.graph.num_nodes).astype(np.float32))
        if model.graph.num_edges:
            model.prior.w.assign(prior_rng.uniform(-1, 1, model.graph.num_edges).astype(np.float32))
        model.compile(optimizer=keras.optimizers.Adam(1e-4))
        model.fit(dataset.take(2), epochs=1, verbose=0)  # trace and warm up
        models[name] = model
    times = {name: [] for name in configs}
    sampler_times = {name: [] for name in configs}
    load = OtherLoad()
    for _ in range(args.rounds):
        for name, model in models.items():
            timer = StepTimer()
            phase = model.negative_phase
            original = phase._draw

            def timed_draw(b, w, call, original=original, bucket=sampler_times[name]):
                t0 = time.perf_counter()
                out = original(b, w, call)
                bucket.append(time.perf_counter() - t0)
                return out

            phase._draw = timed_draw
            model.fit(dataset.take(args.steps), epochs=1, verbose=0, callbacks=[timer])
            phase._draw = original
            times[name].extend(timer.times)
    base = median(times["bernoulli(288), exact"])
    table = Table(title="median seconds per training step (batch 100 x K*D 8 = 800 decoder passes)")
    for col in ("configuration", "step s", "range", "sampler s/call", "overhead vs Bernoulli", "target"):
        table.add_column(col, justify="right")
    for name in configs:
        step = median(times[name])
        lo, hi = spread(times[name])
        over = step / base - 1
        target = "" if name.startswith("bernoulli") else ("<= 15% met" if over <= 0.15 else "<= 15% MISSED")
        table.add_row(name, f"{step:.3f}", f"{lo:.3f}-{hi:.3f}", f"{median(sampler_times[name]):.4f}",
                      "-" if name.startswith("bernoulli") else f"{100 * over:+.1f}%", target)
    console.print(table)
    other, steal = load.fraction() or (float('nan'), float('nan'))
    console.print(f"CPU taken by other processes during the run: {100 * other:.0f}% of the machine "
                  f"(of which hypervisor steal {100 * steal:.0f}%)")
    console.print("prefetch: each step uses negative samples drawn for the previous step's parameters (one step "
                  "stale); the sampler runs in a background thread while TensorFlow computes the step.")
    for model in models.values():
        model.negative_phase.close()


if __name__ == "__main__":
    main()
