"""Train a QVAE on several machines with ``tf.distribute.MultiWorkerMirroredStrategy``.

Start this script once per worker, each with the same cluster in ``TF_CONFIG`` and its own
``task.index``. On two machines ``host0`` and ``host1``::

    # on host0
    TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]}, "task": {"type": "worker", "index": 0}}' \\
        python examples/multi_worker_training.py --dataset mnist --epochs 10 --out run-worker0
    # on host1: the same with "index": 1 and --out run-worker1

Every worker holds a full copy of the model and trains on its shard of each global batch;
gradients are all-reduced (averaged) after every step, so the weights stay identical on all
workers. The prior's negative phase is not split: each worker draws a whole negative phase
of ``--num-negative-samples`` from its own sampler, with seeds of its own, so one step's
prior gradient averages over ``workers x num_negative_samples`` model samples (a
lower-variance estimate of the same expectation at no extra cost per worker). Persistent
samplers (block Gibbs) keep one set of chains per worker. Worker 0 (the chief) writes the
results; ``--out`` of the others is for their own record.

The same holds for the other kinds of prior:

- ``--conditional`` trains a class-conditional model (``QVAE(num_classes=C)``, ``C`` from the
  training labels) on ``(images, labels)`` batches. Each worker's negative phase samples
  every class in one sampler call, with the label couplings ``U`` all-reduced as any weight.
- ``--hidden FRACTION`` hides that fraction of the prior's units (graph option ``hidden``,
  see docs/hidden.md); ``--hidden-from color`` (default) takes them from a colour class
  (uncoupled hidden units, exact free energy), ``--hidden-from random`` at random (coupled:
  each worker samples ``h | zeta`` in its own training step).

For instance, a conditional model with coupled hidden units::

    python examples/multi_worker_training.py --conditional --hidden 0.5 --hidden-from random

Without ``TF_CONFIG`` the script trains on this machine alone. The checks in
``tests/test_multi_worker.py`` start two workers on localhost with this script. Every worker
writes ``initial.npz`` and ``weights.npz`` (its weights before and after training, keyed by
variable path, e.g. ``qvae/prior/u``) and ``worker.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from qhvae.data import load_dataset  # noqa: E402
from qhvae.training.inputs import num_classes_of  # noqa: E402
from qhvae.vae import QVAE  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--limit", type=int, default=None, help="first N training images")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--global-batch-size", type=int, default=64, help="images per step, all workers together")
    parser.add_argument("--num-negative-samples", type=int, default=200, help="model samples per step and worker")
    parser.add_argument("--sampler", default="gibbs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditional", action="store_true",
                        help="train a class-conditional model (num_classes from the training labels) on "
                             "(images, labels) batches")
    parser.add_argument("--hidden", type=float, default=None, metavar="FRACTION",
                        help="hide this fraction (0 to 1) of the prior's units (graph option hidden)")
    parser.add_argument("--hidden-from", choices=("color", "random"), default="color",
                        help="which units --hidden hides: a colour class first (uncoupled hidden units, the "
                             "default) or a random choice (coupled hidden units)")
    parser.add_argument("--out", default="multi-worker-run")
    args = parser.parse_args(argv)

    # The strategy comes first: it must exist before any other TensorFlow op runs.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    resolver = strategy.cluster_resolver
    worker = resolver.task_id if resolver is not None and resolver.task_type else 0
    keras.utils.set_random_seed(args.seed)  # the same initial weights on every worker

    train = load_dataset(args.dataset, "train")
    if args.limit:
        train = train.take(args.limit)
    num_classes = num_classes_of(train) if args.conditional else 0
    dataset = train.to_tf(args.global_batch_size, seed=args.seed, drop_remainder=True,
                          with_labels=bool(num_classes))
    options = tf.data.Options()
    # Each worker reads the whole (small, in-memory) dataset and keeps its shard of every batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)

    side = train.images.shape[1]
    graph_kwargs = {"m": 1} if side <= 16 else {}
    if args.hidden is not None:
        graph_kwargs.update(hidden=args.hidden, hidden_from=args.hidden_from)
    with strategy.scope():
        model = QVAE((side, side, 1), "chimera", graph_kwargs=graph_kwargs,
                     network="fc", network_options={"hidden": [64, 32]}, sampler=args.sampler,
                     num_negative_samples=args.num_negative_samples, seed=args.seed, num_classes=num_classes)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "initial.npz", **_weights(model))
    history = model.fit(dataset, epochs=args.epochs, verbose=2 if worker == 0 else 0)

    np.savez(out / "weights.npz", **_weights(model))
    (out / "worker.json").write_text(json.dumps({
        "worker": int(worker), "replicas": int(strategy.num_replicas_in_sync),
        "steps": int(model.optimizer.iterations.numpy()), "sampler_calls": int(model.negative_phase.calls),
        "last_seed": model.negative_phase.last_seed,
        "loss": [float(v) for v in history.history["loss"]],
        "num_classes": int(model.num_classes), "num_latent": int(model.graph.num_latent),
        "num_hidden": int(model.graph.num_hidden), "hidden_coupled": bool(model.graph.hidden_coupled),
    }))


def _weights(model) -> dict[str, np.ndarray]:
    """The model's weights by variable path (``qvae/prior/u``: the label couplings of a conditional model)."""
    return {v.path: np.asarray(v) for v in model.weights}


if __name__ == "__main__":
    main()
