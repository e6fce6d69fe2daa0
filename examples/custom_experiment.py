"""Your own comparison in the paper's style: your data, your samplers, your claims.

An experiment is data (:class:`qhvae.experiments.Experiment`): arms that differ in a few
training options, a budget for everything else, and claims to check. Here: does a
Chimera prior beat its Bernoulli baseline when the negative phase comes from block Gibbs,
from population annealing, or from a plugin sampler (the template plugin's Metropolis),
on a dataset file of your own? ``run_experiment`` trains every (arm, seed) resumably,
then writes ``results.csv``, ``summary.md`` (mean ± spread over seeds, claims checked)
and ``curves.png``.

    python examples/custom_experiment.py --out custom-experiment            # ~10 min on 2 cores
    python examples/custom_experiment.py --data my_images.npz --seeds 5     # your images

``--data`` takes a ``.npz`` with arrays ``train`` and ``test`` (``(N, H, W)`` or
``(N, H, W, 1)``, square, values in [0, 1]) or a ``.npy`` of images (the last sixth is
held out); without it the embedded 8x8 digits are used.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from qhvae.experiments import Arm, Claim, Experiment, run_experiment


def build_experiment(samplers: list[str]) -> Experiment:
    arms = []
    claims = []
    for i, sampler in enumerate(samplers):
        arms.append(Arm(f"{sampler}/chimera", {"prior": "chimera", "sampler": sampler}, color=f"C{i}"))
        arms.append(Arm(f"{sampler}/bernoulli", {"prior": "bernoulli", "sampler": sampler}, color=f"C{i}",
                        linestyle="--"))
        claims.append(Claim(f"with {sampler}, Chimera beats Bernoulli", "log_likelihood", f"{sampler}/chimera",
                            f"{sampler}/bernoulli", source="Table I (PA and DW2000Q)"))
    return Experiment(
        name="my-samplers",
        title=f"Chimera vs Bernoulli priors with {', '.join(samplers)}",
        figure="in the style of Table I",
        summary="Each sampler trains a Chimera prior and its Bernoulli baseline with the same networks.",
        arms=tuple(arms),
        claims=tuple(claims),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="custom-experiment")
    parser.add_argument("--data", help=".npz/.npy file of images (default: the embedded 8x8 digits)")
    parser.add_argument("--samplers", nargs="+", default=["gibbs", "pa", "template-metropolis"])
    parser.add_argument("--budget", default="cpu", choices=("smoke", "cpu", "paper"))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()

    overrides = {"epochs": args.epochs}
    if args.data:
        overrides.update(dataset=args.data, graph_options=None)
    result = run_experiment(build_experiment(args.samplers), args.out, budget=args.budget, seeds=args.seeds,
                            overrides=overrides, console=Console())
    for claim in result["claims"]:
        print(f"{claim['verdict']:<34} {claim['text']}: {claim['ours']}")


if __name__ == "__main__":
    main()
