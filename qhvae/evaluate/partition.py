"""Log partition functions: analytic, exact, population annealing, AIS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..samplers.conversions import seed_sequence
from ..samplers.exact import MAX_ENUMERATION, exact_log_partition
from ..samplers.gibbs import coloring_for
from ..samplers.machine import as_boltzmann_machine
from ..samplers.pa import anneal

__all__ = ["LogPartition", "log_partition", "LOG_PARTITION_METHODS"]

LOG_PARTITION_METHODS = ("auto", "analytic", "exact", "pa", "ais")


@dataclass(frozen=True)
class LogPartition:
    """An estimate of ``log Z``.

    Attributes:
        value: the estimate of ``log Z``.
        stderr: its standard error (0 for analytic and exact results).
        method: ``"analytic"``, ``"exact"``, ``"pa"`` or ``"ais"``.
        info: method details (PA/AIS: steps, schedule, per-population estimates).
    """

    value: float
    stderr: float
    method: str
    info: dict

    def __float__(self) -> float:
        return self.value


def log_partition(
    model: Any,
    quadratic: Any = None,
    *,
    method: str = "auto",
    num_replicas: int = 1000,
    seed: int | None = None,
    graph: Any = None,
    **anneal_params,
) -> LogPartition:
    """``log Z = log sum_z exp(-E(z))`` of a Boltzmann machine.

    Args:
        model: a :class:`~qhvae.BoltzmannMachine`, a ``dimod.BinaryQuadraticModel`` or
            the biases ``b`` (with ``quadratic`` the couplings).
        quadratic: couplings when ``model`` is the bias array.
        method: ``"analytic"`` (no couplings: ``sum_i log(1 + exp(-b_i))``),
            ``"exact"`` (enumeration of every connected component up to 20 units),
            ``"pa"`` (population annealing), ``"ais"`` (annealed importance sampling),
            or ``"auto"``: analytic, else exact where feasible, else PA.
        num_replicas: replicas for PA/AIS.
        seed: seed for PA/AIS.
        graph: optional LatentGraph (its colouring is used by PA/AIS).
        **anneal_params: passed to :func:`qhvae.samplers.pa.anneal` (``num_sweeps``,
            ``ess_target``, ``betas``, ``num_populations``).

    Example:
        >>> r = log_partition([0.0, 0.0, 0.0])
        >>> r.method, round(r.value, 4)
        ('analytic', 2.0794)
    """
    if method not in LOG_PARTITION_METHODS:
        raise ValueError(f"unknown log Z method {method!r}; choose one of {LOG_PARTITION_METHODS}")
    bm = as_boltzmann_machine(model, quadratic, graph=getattr(graph, "edges", graph))
    if method == "auto":
        if bm.num_edges == 0:
            method = "analytic"
        else:
            _, labels = bm.components()
            method = "exact" if np.bincount(labels).max() <= MAX_ENUMERATION else "pa"
    if method == "analytic":
        if bm.num_edges:
            raise ValueError(f"analytic log Z needs a model without couplings; this one has {bm.num_edges}")
        return LogPartition(exact_log_partition(bm), 0.0, "analytic", {})
    if method == "exact":
        return LogPartition(exact_log_partition(bm), 0.0, "exact", {})
    colors = coloring_for(bm, graph if hasattr(graph, "colors") else None, {})
    anneal_params.setdefault("num_populations", int(np.clip(num_replicas // 125, 1, 8)))
    if method == "ais" and "betas" not in anneal_params:
        anneal_params["betas"] = np.linspace(0.0, 1.0, 1001)[1:]
    _, info = anneal(
        bm, num_replicas, seed_sequence(seed), colors=colors, resample=(method == "pa"), **anneal_params
    )
    return LogPartition(info["log_z"], info["log_z_stderr"], method, info)
