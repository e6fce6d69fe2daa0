"""Persistent block Gibbs sampling (PCD) over a proper colouring of the graph."""

from __future__ import annotations

from collections.abc import Mapping

import numba
import numpy as np

from ..topology import LatentGraph, csr_from_edges, greedy_coloring
from ..validation import check_int
from ._kernels import PARALLEL_WORK, anneal_sweeps, anneal_sweeps_serial, seed_streams, split_csr
from .base import BoltzmannSampler, SampleResult
from .machine import BoltzmannMachine

__all__ = ["GibbsSampler", "ChainRunner"]


class ChainRunner:
    """Block-Gibbs machinery shared by the Gibbs, population-annealing and emulator samplers.

    Holds float32 copies of one machine's parameters in CSR form (each row's neighbours
    split into those updated before and after the unit, see :func:`~qhvae.samplers._kernels.split_csr`)
    and the colour order, and runs sweeps over ``(L, N)`` chain arrays at any inverse temperature.

    The sweeps run in :func:`~qhvae.samplers._kernels.anneal_sweeps`, population annealing's
    kernel (8 float32 lanes, a 32-bit generator, a polynomial ``exp``): 3x faster than the
    first block-Gibbs kernel on the 288-unit Chimera with 1000 chains (4.1 vs 13.0 ms for 10
    sweeps, measured 2026-12-02), which made it most of a fully connected training step.
    """

    def __init__(self, bm: BoltzmannMachine, colors: np.ndarray):
        indptr, neighbors, edge_index = csr_from_edges(bm.num_variables, bm.edges)
        self.indptr = indptr.astype(np.int64)
        self.order = np.argsort(colors, kind="stable").astype(np.int64)
        # split_csr permutes the entries; permuting the edge indices too tells where each
        # entry's weight comes from, so a machine with new parameters skips the sorting.
        self.neighbors, self._edge_index, self.split = split_csr(self.indptr, neighbors, edge_index, self.order)
        self._set_parameters(bm)

    def _set_parameters(self, bm: BoltzmannMachine) -> None:
        self.linear = bm.linear.astype(np.float32)
        self.weights = np.ascontiguousarray(bm.weights.astype(np.float32)[self._edge_index])
        self._parent = np.zeros(0, np.int64)
        self._energy = np.zeros(0, np.float64)

    @classmethod
    def for_machine(cls, bm: BoltzmannMachine, colors: np.ndarray, cache: dict) -> ChainRunner:
        """A runner for ``bm``, sharing the structure (CSR, order) of the last one built in ``cache``.

        Training calls a sampler every step with new parameters on the same graph; the CSR
        construction and its sorts cost about 1 ms a call on the 288-unit Chimera, a few
        percent of a fully connected step. Each call gets its own runner (its own
        parameters and scratch buffers), so concurrent calls never share mutable state.

        Example:
            >>> from qhvae import BoltzmannMachine
            >>> cache = {}
            >>> a = ChainRunner.for_machine(BoltzmannMachine.from_arrays([0.0, 0.0], ([[0, 1]], [1.0])), [0, 1], cache)
            >>> b = ChainRunner.for_machine(BoltzmannMachine.from_arrays([0.5, 0.0], ([[0, 1]], [2.0])), [0, 1], cache)
            >>> b.neighbors is a.neighbors, b.weights.tolist(), a.weights.tolist()
            (True, [2.0, 2.0], [1.0, 1.0])
        """
        key = (bm.structure_key(), np.asarray(colors).tobytes())
        template = cache.get(key)
        if template is None:
            cache.clear()  # one structure at a time is the training pattern
            cache[key] = runner = cls(bm, colors)
            return runner
        runner = cls.__new__(cls)
        runner.indptr, runner.order, runner.neighbors = template.indptr, template.order, template.neighbors
        runner._edge_index, runner.split = template._edge_index, template.split
        runner._set_parameters(bm)
        return runner

    def sweep(self, z: np.ndarray, rng: np.ndarray, num_sweeps: int, beta: float = 1.0,
              bounds: np.ndarray | None = None, biases: np.ndarray | None = None, clamp: np.ndarray | None = None,
              values: np.ndarray | None = None) -> None:
        """``num_sweeps`` sweeps of every chain (column of ``z``) in place.

        Conditional sampling: the columns sorted by condition, condition ``g`` owning
        ``bounds[g]:bounds[g + 1]``; ``biases`` ``(L, K)`` float32 are each condition's
        biases (instead of the machine's), and units where ``clamp`` ``(L, K)`` uint8 is 1
        are held at ``values`` ``(L, K)`` uint8 (see :func:`~qhvae.samplers._kernels.anneal_sweeps`).
        """
        if num_sweeps <= 0:
            return
        n = z.shape[1]
        if self._parent.size != n:
            self._parent = np.arange(n, dtype=np.int64)  # no resampling: every chain is its own parent
            self._energy = np.zeros(n, np.float64)
        if n * z.shape[0] * num_sweeps < PARALLEL_WORK:
            # Below this the thread-pool launch costs more than it saves, and during training
            # TensorFlow already keeps both cores busy.
            kernel, blocks = anneal_sweeps_serial, 1
        else:
            kernel, blocks = anneal_sweeps, max(1, min(2 * numba.get_num_threads(), n // 32))
        kernel(
            z, rng, self._parent, self.linear, self.indptr, self.split, self.neighbors, self.weights, self.order,
            np.float32(beta), int(num_sweeps), blocks, self._energy, bounds, biases, clamp, values,
        )


def coloring_for(bm: BoltzmannMachine, graph: LatentGraph | None, cache: dict) -> np.ndarray:
    """The graph's own colouring when it matches ``bm``'s structure, else DSATUR; cached per structure.

    The cache keeps the structure check (an ``np.unique`` over the edges) off the
    per-call path of training, where the structure never changes.
    """
    key = (bm.structure_key(), id(graph))
    if key not in cache:
        cache.clear()  # one structure at a time is the training pattern; don't grow unbounded
        if graph is not None and bm.matches(graph):  # matches(None) is False: the first test only narrows
            cache[key] = graph.colors
        else:
            cache[key] = greedy_coloring(bm.num_variables, bm.edges)
    return cache[key]


class GibbsSampler(BoltzmannSampler):
    """Persistent block Gibbs sampling: one Markov chain per sample, kept between calls.

    A sweep updates the colour classes of the graph in turn; units of one colour are
    conditionally independent, so each class is resampled at once (Chimera and RBMs:
    2 blocks; Pegasus and Zephyr: 4). Each call continues the chains from where the
    previous call left them (persistent contrastive divergence); the chains restart,
    with ``burn_in`` sweeps, when the model's graph or the number of samples changes.
    A call's ``seed`` seeds the chains when they start; afterwards each chain continues
    its own random stream, which :meth:`get_state` saves with the chains.

    Args:
        num_sweeps: sweeps per call.
        burn_in: sweeps run after (re)initialising chains from uniform random states.
        graph: optional latent graph whose colouring to use (otherwise DSATUR).

    Example:
        >>> import qhvae
        >>> g = qhvae.topology.chimera(2)
        >>> s = qhvae.get_sampler("gibbs", graph=g, num_sweeps=2)
        >>> s.sample_arrays(np.zeros(32), (g.edges, np.ones(g.num_edges)), 8, seed=0).shape
        (8, 32)
    """

    name = "gibbs"
    description = "persistent block Gibbs (PCD) over the graph colouring, numba, vectorized over chains"
    persistent = True
    sampler_parameters = {"num_sweeps": "sweeps per call (default: the constructor's)"}

    def __init__(self, num_sweeps: int = 10, burn_in: int = 100, graph: LatentGraph | None = None):
        # Integers only: num_sweeps=2.5 from a command line must not quietly become 2.
        self.num_sweeps = check_int("num_sweeps", num_sweeps)
        self.burn_in = check_int("burn_in", burn_in, minimum=0)
        self.graph = graph
        self._colorings: dict = {}
        self._runners: dict = {}
        self._chains: np.ndarray | None = None  # (L, N) uint8
        self._streams: np.ndarray | None = None  # (N,) uint64 generator states (seed_streams)
        self._key: tuple | None = None
        self._pools: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per condition id: (L, n) chains, streams
        self._pool_key: tuple | None = None
        self._pool_block: tuple | None = None  # (layout, (L, N) chains, streams) of the last conditional call

    def _sample(self, bm, num_samples, seed, num_sweeps=None, **params):
        sweeps = self.num_sweeps if num_sweeps is None else check_int("num_sweeps", num_sweeps)
        runner = ChainRunner.for_machine(bm, coloring_for(bm, self.graph, self._colorings), self._runners)
        key = bm.structure_key()
        chains, streams = self._chains, self._streams  # both None before the first call, both set after
        if chains is None or streams is None or self._key != key or chains.shape[1] != num_samples:
            # The seed only starts chains. Later calls continue each chain's own random
            # stream (saved with the state): reseeding every call would replay the same
            # random numbers whenever a training loop passes the same seed, freezing the chains.
            init_seed, stream_seed = seed.spawn(2)
            init = np.random.default_rng(init_seed).integers(0, 2, (bm.num_variables, num_samples), np.uint8)
            new_streams = seed_streams(stream_seed, num_samples)
            if chains is not None and streams is not None and self._key == key:  # the same machine's chains
                keep = min(num_samples, chains.shape[1])
                init[:, :keep] = chains[:, :keep]
                new_streams[:keep] = streams[:keep]
            chains, streams = np.ascontiguousarray(init), new_streams
            self._chains, self._streams, self._key = chains, streams, key
            runner.sweep(chains, streams, self.burn_in)
        runner.sweep(chains, streams, sweeps)
        return SampleResult(chains.T.copy(), {"num_sweeps": sweeps})

    def _sample_conditioned(self, bm, conditions, num_samples, seed, num_sweeps=None, **params):
        """Native conditional sampling: every condition's chains in one sweep of the kernel.

        Chains are persistent per condition id (a class keeps its chains while its biases
        change with training); a condition seen for the first time, or asking for more
        chains than it has, starts new chains from uniform random states with ``burn_in``
        sweeps. The kernel takes the conditions per condition (``(L, K)`` biases and
        clamps), never per chain; 1000 chains over 10 conditions cost about what 1000
        unconditional chains do (``benchmarks/bench_gibbs.py --conditions 10``).
        """
        sweeps = self.num_sweeps if num_sweeps is None else check_int("num_sweeps", num_sweeps)
        runner = ChainRunner.for_machine(bm, coloring_for(bm, self.graph, self._colorings), self._runners)
        key = bm.structure_key()
        if self._pool_key != key:
            self._pools, self._pool_key, self._pool_block = {}, key, None
        L = bm.num_variables
        # The kernel runs on the chains sorted by condition: each condition's chains are one
        # contiguous block of columns, copied to and from its pool without gathers.
        order, bounds = conditions.layout
        layout = (conditions.group_ids.tobytes(), bounds.tobytes())
        cids = conditions.group_ids.tolist()
        fresh = reused = False
        if self._pool_block is not None and self._pool_block[0] == layout:
            # The same conditions and counts as the last call (the training pattern): the
            # pools hold that call's block (views of it, or copies), which continues as it is.
            _, z, streams = self._pool_block
            reused = True
        else:
            z = np.empty((L, num_samples), np.uint8)
            streams = np.empty(num_samples, np.uint64)
            children = seed.spawn(len(cids))
            for g, cid in enumerate(cids):
                lo, hi = int(bounds[g]), int(bounds[g + 1])
                have = self._pools.get(cid)
                count = 0 if have is None else have[0].shape[1]
                if count < hi - lo:
                    init_seed, stream_seed = children[g].spawn(2)
                    new = np.random.default_rng(init_seed).integers(0, 2, (L, hi - lo - count), np.uint8)
                    new_streams = seed_streams(stream_seed, hi - lo - count)
                    have = (new, new_streams) if have is None else (np.concatenate([have[0], new], axis=1),
                                                                      np.concatenate([have[1], new_streams]))
                    self._pools[cid] = have
                    fresh = True
                assert have is not None  # a condition has chains (hi > lo): a new one got its pool above
                z[:, lo:hi] = have[0][:, :hi - lo]
                streams[lo:hi] = have[1][:hi - lo]
        biases = clamp = values = None
        if conditions.group_biases is not None:
            biases = np.ascontiguousarray(conditions.group_biases.T, np.float32)
        if conditions.group_mask is not None:
            clamp = np.ascontiguousarray(conditions.group_mask.T).view(np.uint8)
            values = np.ascontiguousarray(conditions.group_values.T)
        if fresh:
            runner.sweep(z, streams, self.burn_in, bounds=bounds, biases=biases, clamp=clamp, values=values)
        runner.sweep(z, streams, sweeps, bounds=bounds, biases=biases, clamp=clamp, values=values)
        # Pools that are views of the block are up to date already (not after a deepcopy or a
        # pickle, which copy each view apart).
        if not (reused and all(self._pools[cid][0].base is z for cid in cids)):
            for g, cid in enumerate(cids):
                lo, hi = int(bounds[g]), int(bounds[g + 1])
                pool_z, pool_streams = self._pools[cid]
                if pool_z.shape[1] == hi - lo:
                    self._pools[cid] = (z[:, lo:hi], streams[lo:hi])  # a view: nothing to copy
                else:  # the pool holds more chains than this call uses: keep the others
                    pool_z[:, :hi - lo] = z[:, lo:hi]
                    pool_streams[:hi - lo] = streams[lo:hi]
        self._pool_block = (layout, z, streams)
        if order is None:
            out = np.ascontiguousarray(z.T)
        else:
            out = np.empty((num_samples, L), np.uint8)
            out[order] = z.T
        return SampleResult(out, {"num_sweeps": sweeps})

    def get_state(self) -> dict[str, np.ndarray]:
        """Chains, their random streams and the graph they belong to, or ``{}`` before any call.

        Keys: ``chains`` (N, L) uint8, ``streams`` (N,) uint64, ``edges`` (E, 2) int64,
        ``num_variables``. Restoring it with :meth:`set_state` continues the exact same chains.
        """
        state: dict[str, np.ndarray] = {}
        chains, streams, key = self._chains, self._streams, self._key
        if chains is not None:
            assert streams is not None and key is not None  # set together with the chains
            n, edges = key[0], np.frombuffer(key[1], dtype=np.int64).reshape(-1, 2)
            state.update({"chains": chains.T.copy(), "streams": streams.copy(), "edges": edges.copy(),
                          "num_variables": np.int64(n)})
        if self._pools:
            # Conditional chains, persistent per condition id (``_sample_conditioned``).
            ids = sorted(self._pools)
            assert self._pool_key is not None  # set together with the pools
            n, edges = self._pool_key[0], np.frombuffer(self._pool_key[1], dtype=np.int64).reshape(-1, 2)
            state.update({
                "condition_ids": np.asarray(ids, np.int64),
                "condition_counts": np.asarray([self._pools[i][0].shape[1] for i in ids], np.int64),
                "condition_chains": np.concatenate([self._pools[i][0].T for i in ids]),
                "condition_streams": np.concatenate([self._pools[i][1] for i in ids]),
                "condition_edges": edges.copy(), "condition_num_variables": np.int64(n),
            })
        return state

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore chains saved by :meth:`get_state` (e.g. from a training checkpoint)."""
        self._chains, self._streams, self._key = None, None, None
        self._pools, self._pool_key, self._pool_block = {}, None, None
        if not state:
            return
        if "condition_ids" in state:
            self._set_condition_state(state)
            if "chains" not in state:
                return
        missing = {"chains", "streams", "edges", "num_variables"} - set(state)
        if missing:
            raise ValueError(f"{self.label}: state is missing {sorted(missing)}")
        chains = np.asarray(state["chains"])
        n = int(state["num_variables"])
        if chains.ndim != 2 or chains.shape[1] != n or not np.isin(chains, (0, 1)).all():
            raise ValueError(f"{self.label}: saved chains must be an (N, {n}) array of 0/1")
        streams = np.asarray(state["streams"])
        if streams.shape != (chains.shape[0],) or streams.dtype != np.uint64 or np.any(streams == 0):
            raise ValueError(f"{self.label}: saved streams must be {chains.shape[0]} non-zero uint64 states")
        edges = np.ascontiguousarray(np.asarray(state["edges"], np.int64).reshape(-1, 2))
        self._chains = np.ascontiguousarray(chains.T.astype(np.uint8))
        self._streams = streams.copy()
        self._key = (n, edges.tobytes())

    def _set_condition_state(self, state: Mapping[str, np.ndarray]) -> None:
        needed = {"condition_ids", "condition_counts", "condition_chains", "condition_streams", "condition_edges",
                  "condition_num_variables"}
        if needed - set(state):
            raise ValueError(f"{self.label}: state is missing {sorted(needed - set(state))}")
        ids, counts = np.asarray(state["condition_ids"], np.int64), np.asarray(state["condition_counts"], np.int64)
        chains, streams = np.asarray(state["condition_chains"]), np.asarray(state["condition_streams"])
        n = int(state["condition_num_variables"])
        if (ids.shape != counts.shape or chains.ndim != 2 or chains.shape != (int(counts.sum()), n)
                or streams.shape != (chains.shape[0],) or streams.dtype != np.uint64 or np.any(streams == 0)
                or not np.isin(chains, (0, 1)).all()):
            raise ValueError(f"{self.label}: saved conditional chains are inconsistent")
        edges = np.ascontiguousarray(np.asarray(state["condition_edges"], np.int64).reshape(-1, 2))
        bounds = np.concatenate([[0], np.cumsum(counts)])
        self._pools = {int(cid): (np.ascontiguousarray(chains[lo:hi].T.astype(np.uint8)), streams[lo:hi].copy())
                       for cid, lo, hi in zip(ids.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)}
        self._pool_key = (n, edges.tobytes())
