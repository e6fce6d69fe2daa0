"""Sample Boltzmann machines on the paper's hardware graphs and check the samplers agree.

For each latent graph (Chimera, Pegasus, Zephyr, RBM), draws samples with block Gibbs and
population annealing, compares their mean energies, and estimates log Z by PA and AIS.

    python examples/sample_boltzmann_machines.py --num-reads 2000
"""

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

import qhvae
from qhvae.evaluate import log_partition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-reads", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    table = Table(title="Boltzmann machines with b, W ~ U(-scale, scale)")
    for col in ("graph", "units", "edges", "colours", "<E> gibbs", "<E> pa", "log Z (pa)", "log Z (ais)", "s"):
        table.add_column(col, justify="right")
    rng = np.random.default_rng(args.seed)
    for graph in (qhvae.topology.chimera(6), qhvae.topology.pegasus(), qhvae.topology.zephyr(),
                  qhvae.topology.rbm(144, 144)):
        start = time.perf_counter()
        b = rng.uniform(-args.scale, args.scale, graph.num_nodes)
        # RBM couplings scaled by 1/sqrt(fan-in) so the model is not frozen.
        w = rng.uniform(-args.scale, args.scale, graph.num_edges) / np.sqrt(max(1, graph.degrees().mean() / 6))
        bm = qhvae.BoltzmannMachine.from_arrays(b, (graph.edges, w))
        gibbs = qhvae.get_sampler("gibbs", graph=graph, num_sweeps=50)
        pa = qhvae.get_sampler("pa", graph=graph)
        e_gibbs = bm.energies(gibbs.sample_bm(bm, args.num_reads, seed=args.seed).samples).mean()
        pa_result = pa.sample_bm(bm, args.num_reads, seed=args.seed)
        e_pa = bm.energies(pa_result.samples).mean()
        ais = log_partition(bm, method="ais", graph=graph, seed=args.seed, num_replicas=args.num_reads)
        table.add_row(
            graph.name, str(graph.num_nodes), str(graph.num_edges), str(graph.num_colors),
            f"{e_gibbs:.2f}", f"{e_pa:.2f}",
            f"{pa_result.info['log_z']:.3f} ± {pa_result.info['log_z_stderr']:.3f}",
            f"{ais.value:.3f} ± {ais.stderr:.3f}", f"{time.perf_counter() - start:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
