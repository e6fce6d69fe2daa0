"""Training-step time with hidden units in the prior, beside the same qubit count all latent.

Issue #24's target: the training step with a 144-hidden-unit prior costs at most 1.2x the
same step without hidden units at the same qubit count. The fully connected MNIST step of
``bench_fc_step.py`` (batch 100, ``K*D = 8``, 1000 negative samples from persistent block
Gibbs on the whole graph), timed in one process for each prior, in alternating rounds:

- ``chimera(6)``: 288 qubits, all latent (the baseline);
- ``chimera(6)+144h``: the same 288 qubits, one colour class hidden (uncoupled hidden
  units: the exact free energy, softplus terms);
- ``chimera(6)+144h random``: 144 hidden units chosen at random (coupled to each other:
  ``h | z`` by 10 sweeps of clamped block Gibbs inside the step);
- ``rbm(144,144)`` all latent against ``rbm(144,144)+144h`` (one layer hidden: the
  classical RBM prior over 144 latents).

The ratios to the all-latent step of the same graph are printed; medians over
``--rounds`` rounds of ``--steps`` steps each.

    python benchmarks/bench_hidden_step.py            # ~2 min on 2 cores
    python benchmarks/bench_hidden_step.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from _common import machine_info, median, print_header, spread, write_json  # noqa: E402
from bench_fc_step import time_steps  # noqa: E402

TARGET_RATIO = 1.2

#: (label, graph family, graph options, the all-latent label it is compared with)
PRIORS = (
    ("chimera(6)", "chimera", {}, None),
    ("chimera(6)+144h", "chimera", {"hidden": 0.5}, "chimera(6)"),
    ("chimera(6)+144h random (coupled)", "chimera", {"hidden": 0.5, "hidden_from": "random"}, "chimera(6)"),
    ("rbm(144,144)", "rbm", {}, None),
    ("rbm(144,144)+144h", "rbm", {"hidden": 0.5}, "rbm(144,144)"),
)


def build(family: str, options: dict, batch_size: int):
    import keras

    from qhvae.topology import by_name
    from qhvae.vae import QVAE

    keras.utils.set_random_seed(0)
    graph = by_name(family, **options)
    model = QVAE((28, 28, 1), graph, sampler="gibbs", num_negative_samples=1000, k=1, d=8, seed=0, network="fc")
    rng = np.random.default_rng(1)
    model.prior.b.assign(rng.uniform(-1, 1, graph.num_nodes).astype(np.float32))
    scale = 1.0 if family == "chimera" else 0.1  # the dense RBM's fields add up over 144 neighbours
    model.prior.w.assign(rng.uniform(-scale, scale, model.prior.w.shape[0]).astype(np.float32))
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.rounds, args.warmup = 3, 1, 1
    import tensorflow as tf

    console = Console(width=130)
    print_header(console, "training step with hidden units in the prior (issue #24)", machine_info())
    rng = np.random.default_rng(0)
    images = (rng.random((args.batch_size * (args.steps + args.warmup), 28, 28, 1)) < 0.13).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(args.batch_size).repeat()
    models = {label: build(family, options, args.batch_size) for label, family, options, _ in PRIORS}
    times: dict[str, list[float]] = {label: [] for label in models}
    for _ in range(args.rounds):
        for label, model in models.items():
            wall, _ = time_steps(model, dataset, args.steps, args.warmup)
            times[label].extend(wall)
    table = Table(title=f"fc MNIST training step, batch {args.batch_size}, K*D = 8, 1000 Gibbs negative samples")
    for column in ("prior", "qubits", "latent", "hidden", "step ms (median)", "range", "vs all latent", "target"):
        table.add_column(column)
    results = {}
    for label, _, _, baseline in PRIORS:
        graph = models[label].graph
        ms = 1e3 * median(times[label])
        low, high = spread(times[label])
        ratio = ms / (1e3 * median(times[baseline])) if baseline else float("nan")
        results[label] = {
            "ms": ms,
            "ratio": ratio,
            "qubits": graph.num_nodes,
            "latent": graph.num_latent,
            "hidden": graph.num_hidden,
            "coupled": graph.hidden_coupled,
        }
        verdict = "" if baseline is None else ("met" if ratio <= TARGET_RATIO else "missed")
        table.add_row(
            label,
            str(graph.num_nodes),
            str(graph.num_latent),
            str(graph.num_hidden),
            f"{ms:.1f}",
            f"{1e3 * low:.1f}-{1e3 * high:.1f}",
            "" if baseline is None else f"{ratio:.2f}x",
            verdict,
        )
    console.print(table)
    if args.json:
        write_json(args.json, {"results": results, "steps": args.steps, "rounds": args.rounds})


if __name__ == "__main__":
    main()
