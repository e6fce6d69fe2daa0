"""Train a QVAE with plain Keras: ``model.fit``, the paper's schedules, evaluation, save and reload.

No qhvae-specific training loop: the model is a ``keras.Model`` whose ``train_step``
draws the Boltzmann prior's negative phase from the chosen sampler.

    python examples/train_with_model_fit.py                 # 8x8 digits, about a minute on a laptop CPU
    python examples/train_with_model_fit.py --dataset mnist --data-dir ../shared/data --epochs 20

``qhvae train`` does the same with checkpoints, resume and plots (see
``examples/train_from_command_line.sh``).
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from qhvae.data import load_dataset  # noqa: E402
from qhvae.evaluate import evaluate_model  # noqa: E402
from qhvae.training.monitors import RichProgress, StopOnNaN  # noqa: E402
from qhvae.vae import QVAE  # noqa: E402
from qhvae.vae.training_schedules import KLAnnealing, paper_schedules  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits", help="digits, mnist, binarized_mnist, fashion_mnist")
    parser.add_argument("--data-dir", help="where the dataset files are (e.g. ../shared/data)")
    parser.add_argument("--limit", type=int, help="train on the first N training images only (a quick try)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sampler", default="gibbs", help="negative-phase sampler (`qhvae samplers`)")
    parser.add_argument("--chimera-m", type=int, help="Chimera size m (2m^2 cells of 8 units); default 2 for "
                                                      "8x8 digits, 6 (the paper's 288 units) otherwise")
    parser.add_argument("--kl-anneal-fraction", type=float, default=0.1,
                        help="KL warm-up as a fraction of the epochs (paper: 0.1; short runs do better with 0.5)")
    parser.add_argument("--eval-images", type=int, default=300)
    parser.add_argument("--eval-samples", type=int, default=1000)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "qvae.keras"))
    args = parser.parse_args()

    # Data: float32 (N, H, W, 1) grey levels in [0, 1]; to_tf binarizes them afresh every epoch.
    train = load_dataset(args.dataset, "train", data_dir=args.data_dir, limit=args.limit)
    test = load_dataset(args.dataset, "test", data_dir=args.data_dir)
    test_images = (test if test.binarized else test.binarize(seed=0)).images[: args.eval_images]
    small = train.image_shape[0] <= 16
    m = args.chimera_m or (2 if small else 6)

    model = QVAE(
        train.image_shape,
        "chimera", graph_kwargs={"m": m},
        sampler=args.sampler,
        num_negative_samples=500 if small else 1000,
        base_filters=16 if small else 32,
        hidden=128 if small else 512,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    print(f"{train.name}: {len(train)} training images {train.image_shape}; prior {model.graph.name} "
          f"({model.graph.num_nodes} units, {model.graph.num_edges} couplings), sampler {model.sampler.name}")

    # The paper's schedules (KL warm-up, (K, D) annealing, learning-rate decay) scaled to the budget.
    schedules = paper_schedules(args.epochs)
    if args.kl_anneal_fraction != 0.1:
        schedules[0] = KLAnnealing(epochs=args.kl_anneal_fraction * args.epochs)
    stop = StopOnNaN()
    history = model.fit(train.to_tf(args.batch_size, seed=0), epochs=args.epochs,
                        callbacks=[*schedules, stop, RichProgress()], verbose=0)
    if stop.message:
        raise SystemExit(stop.message)
    print("last epoch:", {k: round(float(v[-1]), 4) for k, v in history.history.items()})

    results = evaluate_model(model, test_images, num_samples=args.eval_samples)
    print(f"test log-likelihood {results['log_likelihood']:.3f} ± {results['log_likelihood_stderr']:.3f} nats "
          f"(K={results['num_samples']}, {results['num_images']} images), ELBO {results['elbo']:.3f}, "
          f"active units {results['active_units']}/{model.graph.num_nodes}, "
          f"log Z {results['log_z']:.3f} ({results['log_z_method']})")

    # Save and reload: weights, optimizer state and configuration travel in the .keras file.
    # A persistent sampler's chains (Gibbs/PCD) do not; carry them with get_state/set_state.
    model.save(args.out)
    reloaded = keras.models.load_model(args.out)
    reloaded.negative_phase.set_state(model.negative_phase.get_state())
    x = test_images[:16]
    assert np.array_equal(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))
    assert int(reloaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    images, z = reloaded.generate(16, seed=0)
    print(f"saved to {args.out} and reloaded: identical reconstructions; generated {images.shape[0]} images "
          f"{images.shape[1:]} from {z.shape[1]}-unit prior samples")


if __name__ == "__main__":
    main()
