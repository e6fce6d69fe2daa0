"""Train the QVAE with a (emulated or real) quantum annealer as the prior's sampler.

Every training step programs the annealer with the prior's (b, W) / beta_eff in spin form
(clipped to the device's ranges), collects 1000 reads in 5 spin-reversal transforms with
the paper's pause-and-quench schedule, and re-estimates beta_eff from the reads (maximum
pseudo-likelihood, or the paper's Eq. C3 with --beta-method c3). The latent graph is
placed on the device's working graph and dead qubits/couplers are masked in the prior.

    python examples/train_on_annealer.py                                  # emulator, profiles low and high
    python examples/train_on_annealer.py --profiles ideal low high --epochs 10
    python examples/train_on_annealer.py --device dwave                   # a real QPU (needs credentials)

Writes, into --out, training curves of beta_eff and the prior's weight L1 per noise
profile (the paper's Figs. 11 and 13) and a CSV of the per-epoch values.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["emulator", "dwave"], default="emulator")
    parser.add_argument("--profiles", nargs="+", default=["low", "high"], help="emulator noise profiles")
    parser.add_argument("--graph", default="chimera", help="latent graph family (chimera m=2: 32 units)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--beta-method", choices=["mpl", "c3"], default="mpl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/annealer")
    args = parser.parse_args()

    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rich.console import Console

    import qhvae
    from qhvae.data import load_dataset
    from qhvae.training.monitors import RichProgress, SamplerMonitor
    from qhvae.vae import QVAE
    from qhvae.vae.training_schedules import paper_schedules

    console = Console()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_dataset("digits", "train").take(args.images)
    graph = qhvae.topology.by_name(args.graph, **({"m": 2} if args.graph == "chimera" else {}))
    runs = {}
    profiles = args.profiles if args.device == "emulator" else ["dwave"]
    for profile in profiles:
        keras.utils.set_random_seed(args.seed)
        if args.device == "emulator":
            sampler = qhvae.get_sampler("emulator", noise_profile=profile, topology_type="pegasus",
                                        topology_shape=[16], graph=graph, beta_estimator=args.beta_method,
                                        seed=args.seed)
        else:
            sampler = qhvae.get_sampler("qpu", graph=graph, beta_estimator=args.beta_method)
        model = QVAE(data.image_shape, graph, sampler=sampler, base_filters=16, hidden=128, seed=args.seed)
        console.print(f"[bold]{profile}[/bold]: {sampler.placement(graph).summary()}")
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        history = model.fit(data.to_tf(100, seed=args.seed), epochs=args.epochs, verbose=0,
                            callbacks=paper_schedules(args.epochs) + [SamplerMonitor(), RichProgress(console)])
        runs[profile] = (history.history, list(sampler.beta_history), dict(sampler.clip_counts))
        console.print(f"{profile}: final beta_eff {sampler.effective_beta:.3f}, weight L1 "
                      f"{history.history['weight_l1'][-1]:.2f}, clipped h/J {sampler.clip_counts['h']}/"
                      f"{sampler.clip_counts['J']} over {sampler.clip_counts['calls']} calls")

    with open(out / "annealer_training.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["profile", "epoch", "beta_eff", "weight_l1", "bound_without_log_z", "recon"])
        for profile, (h, _, _) in runs.items():
            for e in range(len(h["loss"])):
                writer.writerow([profile, e + 1, h["beta_eff"][e], h["weight_l1"][e], h["bound_without_log_z"][e],
                                 h["recon"][e]])
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for profile, (h, betas, _) in runs.items():
        a.plot(range(len(betas)), betas, label=profile, lw=0.8)
        b.plot(range(1, len(h["weight_l1"]) + 1), h["weight_l1"], marker="o", label=profile)
    a.set_xlabel("training step (annealer call)"), a.set_ylabel("estimated beta_eff"), a.legend()
    a.set_title(f"effective inverse temperature ({args.beta_method.upper()} estimate)")
    b.set_xlabel("epoch"), b.set_ylabel("sum |W|"), b.legend(), b.set_title("L1 norm of the prior's couplings")
    fig.tight_layout()
    fig.savefig(out / "beta_eff_and_weights.png", dpi=100)
    plt.close(fig)
    console.print(f"wrote {out}/beta_eff_and_weights.png and {out}/annealer_training.csv")


if __name__ == "__main__":
    main()
