"""Several samplers on one Boltzmann machine, side by side: what ``qhvae demo`` shows.

Example:
    >>> from qhvae import topology
    >>> result = compare_samplers(topology.chimera(1), ["exact", "gibbs"], num_reads=200, seed=0)
    >>> sorted(result.samples), result.samples["exact"].shape
    (['exact', 'gibbs'], (200, 8))
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..registry import get_sampler
from ..samplers import BoltzmannMachine
from ..samplers.base import adopt_graph
from ..topology import LatentGraph
from .partition import LogPartition, log_partition

__all__ = ["SamplerComparison", "compare_samplers"]


@dataclass
class SamplerComparison:
    """What :func:`compare_samplers` measured.

    Attributes:
        machine: the random Boltzmann machine.
        samples: per sampler name, its ``(num_reads, L)`` samples.
        seconds: per sampler name, the wall time of its call.
        log_z: the machine's ``log Z`` estimate.
    """

    machine: BoltzmannMachine
    samples: dict[str, np.ndarray]
    seconds: dict[str, float]
    log_z: LogPartition


def compare_samplers(graph: LatentGraph, names: Sequence[str], *, num_reads: int = 1000, scale: float = 1.0,
                     seed: int = 0, config: dict[str, Any] | None = None,
                     progress: Callable[[str], None] | None = None) -> SamplerComparison:
    """Sample a random Boltzmann machine on ``graph`` (``b``, ``W`` uniform in ``[-scale, scale]``)
    with each sampler of ``names``, and estimate its ``log Z``.

    Args:
        graph: the latent graph.
        names: registered sampler names; the first gets ``config``.
        num_reads: samples per sampler.
        scale: the range of the random biases and couplings.
        seed: seed of the machine, the samplers and the ``log Z`` estimate.
        config: the first sampler's configuration.
        progress: called with a line before each step (e.g. a progress bar's description).

    Raises:
        UnknownNameError, SamplerError: as :func:`qhvae.get_sampler` and the samplers raise them.
    """
    rng = np.random.default_rng(seed)
    b = rng.uniform(-scale, scale, graph.num_nodes)
    w = rng.uniform(-scale, scale, graph.num_edges)
    machine = BoltzmannMachine.from_arrays(b, (graph.edges, w))
    names = list(dict.fromkeys(names))
    samples, seconds = {}, {}
    for name in names:
        if progress is not None:
            progress(f"sampling with {name}")
        sampler = adopt_graph(get_sampler(name, **(config or {} if name == names[0] else {})), graph)
        start = time.perf_counter()
        samples[name] = sampler.sample_bm(machine, num_reads, seed=seed).samples
        seconds[name] = time.perf_counter() - start
    if progress is not None:
        progress("estimating log Z")
    lz = log_partition(machine, seed=seed, graph=graph, num_replicas=max(num_reads, 1000))
    return SamplerComparison(machine, samples, seconds, lz)
