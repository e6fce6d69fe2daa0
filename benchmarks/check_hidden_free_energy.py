"""How loose is the evaluation's free energy for coupled hidden units? A check against PA.

With hidden units coupled to each other, ``F(z) = -log sum_h exp(-E(z, h))`` has no closed
form, and the evaluation estimates ``exp(-F(z))`` by importance sampling from the mean-field
proposal ``r(h | z)`` with ``M`` draws (``qhvae evaluate --hidden-samples M``). The log of that
estimate is ``-F(z)`` less a gap (Jensen's), which loosens the reported log-likelihood. This
script measures the gap on a trained run against a reference: for latents ``z`` drawn from
the encoder on test images, ``-F(z) = -E_v(z) + log Z_h(z)``, where ``log Z_h(z)`` is the
log partition function of the hidden units' own machine (biases ``b_h + z W_vh``, couplings
``W_hh``), estimated by population annealing with many replicas. Unlike more draws of the
same proposal, the reference sees a peak of ``p(h | z)`` that the mean field missed.

For every ``M`` it prints the mean gap ``-F(z) - E[log estimate_M]`` over the latents (an
upper bound on what the hidden units' estimator costs the log-likelihood: the
importance-weighted average over ``K`` latents shrinks it further), with its error. It also
prints how far ``E(z, h)`` at the training step's Gibbs draws of ``h`` lies above ``F(z)``, and
how much it scatters: why the step weighs its importance samples by the estimate instead.

    python benchmarks/check_hidden_free_energy.py RUN                 # ~2 min on 2 cores
    python benchmarks/check_hidden_free_energy.py RUN --num-latents 8 --replicas 2000   # quicker
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

from _common import machine_info, print_header, write_json  # noqa: E402


def hidden_machine(model, z: np.ndarray, labels=None):
    """``(E_v(z), biases (H,), edges (E, 2), weights (E,))`` of the hidden units' machine given ``z`` ``(L_v,)``."""
    import tensorflow as tf

    energy, field, w_hh = model.prior._latent_parts(tf.constant(z[None], tf.float32), labels)
    w_hh = w_hh.numpy().astype(np.float64)
    rows, cols = np.nonzero(np.triu(w_hh, 1))
    return float(energy.numpy()[0]), field.numpy()[0].astype(np.float64), np.stack([rows, cols], 1), w_hh[rows, cols]


def log_estimates(model, z: np.ndarray, hidden_samples: int, repeats: int, labels=None) -> np.ndarray:
    """``repeats`` independent draws of the evaluation's log estimate of ``exp(-F(z))`` (``hidden_samples`` h each)."""
    import tensorflow as tf

    batch = tf.constant(np.repeat(z[None], repeats, axis=0), tf.float32)
    label = None if labels is None else tf.repeat(tf.constant(labels), repeats)
    terms = model._prior_energy(batch, label, relaxed=False, hidden_samples=hidden_samples)
    return -terms.numpy().astype(np.float64)


def joint_at_gibbs_draws(model, z: np.ndarray, repeats: int, labels=None) -> np.ndarray:
    """``repeats`` draws of ``E(z, h)`` with ``h ~ p(h | z)`` by the training step's clamped Gibbs: the
    prior term whose gradient the step takes (and, until 2026-12-07, whose value weighed the samples)."""
    import tensorflow as tf

    batch = tf.constant(np.repeat(z[None], repeats, axis=0), tf.float32)
    label = None if labels is None else tf.repeat(tf.constant(labels), repeats)
    h = model.prior.sample_hidden(batch, label, sweeps=model.hidden_sweeps)
    return model.prior.joint_energy(batch, h, label).numpy().astype(np.float64)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a trained run whose prior has coupled hidden units")
    parser.add_argument("--num-latents", type=int, default=20, help="latents z, one per test image (default 20)")
    parser.add_argument("--replicas", type=int, default=10000, help="PA replicas of the reference (default 10000)")
    parser.add_argument("--hidden-samples", default="1,10,100", help="the M to check (default 1,10,100)")
    parser.add_argument("--repeats", type=int, default=400, help="draws of each estimate per latent (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    console = Console()
    info = machine_info(measure_busy=False)
    print_header(console, "free energy of coupled hidden units: mean-field estimate against PA", info)

    import keras

    from qhvae.evaluate import log_partition
    from qhvae.training.inputs import load_test_data
    from qhvae.training.run_evaluation import load_run

    model, config, _ = load_run(args.run, console)
    if model.graph.hidden is None or not model.graph.hidden_coupled:
        console.print(f"[red]{args.run}: its prior has no hidden units coupled to each other; nothing to check[/red]")
        return 2
    keras.utils.set_random_seed(args.seed)
    images, labels = load_test_data(config, args.num_latents, seed=args.seed)
    if not getattr(model, "num_classes", 0):
        labels = None
    zeta, _, _ = model.posterior(images, 1, False, relaxed=False, labels=labels)
    zs = zeta.numpy()
    ms = [int(m) for m in args.hidden_samples.split(",")]
    gaps: dict[int, list[float]] = {m: [] for m in ms}
    reference_errors = []
    excess_mean: list[float] = []
    excess_std: list[float] = []
    for i, z in enumerate(zs):
        label = None if labels is None else labels[i : i + 1]
        e_v, biases, edges, weights = hidden_machine(model, z, label)
        reference = log_partition(biases, (edges, weights), method="pa", num_replicas=args.replicas, seed=args.seed + i)
        minus_free = reference.value - e_v
        reference_errors.append(reference.stderr)
        for m in ms:
            gaps[m].append(minus_free - log_estimates(model, z, m, args.repeats, label).mean())
        excess = joint_at_gibbs_draws(model, z, args.repeats, label) + minus_free  # E(z, h) - F(z)
        excess_mean.append(excess.mean())
        excess_std.append(excess.std(ddof=1))
        console.print(
            f"latent {i + 1}/{len(zs)}: -F(z) = {minus_free:.3f} ± {reference.stderr:.3f}, gap at M=1 "
            f"{gaps[ms[0]][-1]:.4f}"
        )
    table = Table(
        title=f"{args.run}: {len(zs)} latents, reference log Z_h by PA ({args.replicas} replicas, "
        f"mean error {np.mean(reference_errors):.4f})"
    )
    table.add_column("draws of h per z (M)", justify="right")
    table.add_column("mean gap (nats)", justify="right")
    table.add_column("largest gap", justify="right")
    results = {
        "run": str(args.run),
        "num_latents": len(zs),
        "replicas": args.replicas,
        "reference_stderr_mean": float(np.mean(reference_errors)),
        "gaps": {},
        **info,
    }
    for m in ms:
        g = np.array(gaps[m])
        stderr = g.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else float("nan")
        table.add_row(str(m), f"{g.mean():.4f} ± {stderr:.4f}", f"{g.max():.4f}")
        results["gaps"][str(m)] = {"mean": float(g.mean()), "stderr": float(stderr), "max": float(g.max())}
    console.print(table)
    # Why the step's weights do not use E(z, h) at its Gibbs draw of h in place of F(z): how far
    # off, and how noisy, that is sets how much the weights of K > 1 samples would be distorted.
    console.print(
        f"E(z, h) - F(z), h by {model.hidden_sweeps} Gibbs sweeps: mean "
        f"{np.mean(excess_mean):.3f} nats over the latents (the conditional entropy of h), spread within a "
        f"latent {np.mean(excess_std):.3f} nats (std over draws of h, mean over latents)"
    )
    results["joint_excess"] = {"mean": float(np.mean(excess_mean)), "std_within_latent": float(np.mean(excess_std))}
    if args.json:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
