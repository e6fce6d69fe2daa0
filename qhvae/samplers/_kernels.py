"""Numba kernels shared by the classical samplers.

Chain state is stored unit-major, ``z[unit, chain]`` as uint8, so that updating one
unit touches a contiguous row for all chains and the inner loop vectorizes. Every
chain slot owns an xorshift64* random stream (``rng[chain]``); a slot keeps its
stream when population annealing copies another replica's state into it, so
duplicated replicas never evolve in lockstep.

Why not numpy or a dimod sampler: one block-Gibbs sweep here is a sparse
gather-multiply-add per unit over all chains, done in place with no temporaries;
``benchmarks/bench_gibbs.py`` measures it against dwave-samplers' C++ simulated
annealing at a fixed beta (about 7x faster on 2 cores, see docs/benchmarks.md).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import prange

__all__ = ["gibbs_sweeps", "gibbs_sweeps_serial", "energies", "energies_serial", "seed_streams", "FIELD_CLIP",
           "SERIAL_WORK"]

# Below this many spin updates (or energy terms) per call, a thread-pool launch costs more
# than it saves, and on a loaded machine it waits for a busy core: run on the calling thread.
SERIAL_WORK = 200_000

# exp(80) is finite in float32 and 1/(1+exp(80)) is below float32 resolution of u,
# so clipping the field there changes no update and keeps inf/NaN out of fastmath code.
FIELD_CLIP = np.float32(80.0)

_XS_MULT = np.uint64(0x2545F4914F6CDD1D)


def seed_streams(seed_sequence: np.random.SeedSequence, n: int) -> np.ndarray:
    """``n`` independent non-zero xorshift64* states drawn from a SeedSequence."""
    state = seed_sequence.generate_state(n, dtype=np.uint64)
    state[state == 0] = np.uint64(0x9E3779B97F4A7C15)
    return state


@nb.njit(fastmath=True, cache=True, nogil=True)
def _sweep_block(z, rng, linear, indptr, neighbors, weights, order, beta, num_sweeps, c0, c1):
    """``num_sweeps`` sweeps of chains ``c0:c1`` (see :func:`gibbs_sweeps`)."""
    num_units = z.shape[0]
    n = c1 - c0
    if n <= 0:
        return
    field = np.empty(n, np.float32)
    streams = rng[c0:c1]
    for _ in range(num_sweeps):
        for oi in range(num_units):
            i = order[oi]
            bi = linear[i]
            for c in range(n):
                field[c] = bi
            for p in range(indptr[i], indptr[i + 1]):
                w = weights[p]
                # A 0-based slice lets numba prove the index is in range and vectorize
                # the load; z[j][c0 + c] compiles to a byte-by-byte gather (~2-5x slower).
                zj = z[neighbors[p], c0:c1]
                for c in range(n):
                    field[c] += w * zj[c]
            zi = z[i, c0:c1]
            for c in range(n):
                x = streams[c]
                x ^= x >> np.uint64(12)
                x ^= x << np.uint64(25)
                x ^= x >> np.uint64(27)
                streams[c] = x
                u = np.float32((x * _XS_MULT) >> np.uint64(40)) * np.float32(5.9604645e-08)
                f = min(max(beta * field[c], -FIELD_CLIP), FIELD_CLIP)
                # z_i = 1 with probability 1 / (1 + exp(f)).
                zi[c] = np.uint8(u * (np.float32(1.0) + math.exp(f)) < np.float32(1.0))


@nb.njit(parallel=True, cache=True, nogil=True)
def gibbs_sweeps(z, rng, linear, indptr, neighbors, weights, order, beta, num_sweeps, num_blocks):
    """Run ``num_sweeps`` block-Gibbs sweeps at inverse temperature ``beta`` in place, chain blocks in parallel.

    Args:
        z: ``(L, N)`` uint8 chain states, updated in place.
        rng: ``(N,)`` uint64 xorshift64* states, updated in place.
        linear: ``(L,)`` float32 biases ``b``.
        indptr, neighbors: CSR adjacency (int64).
        weights: float32 coupling of each CSR entry.
        order: ``(L,)`` int64 update order; units of one colour must be contiguous so
            that a sweep is a sequence of block updates.
        beta: inverse temperature.
        num_sweeps: sweeps to run.
        num_blocks: chain blocks run in parallel (>= number of threads).

    ``P(z_i = 1 | rest) = sigmoid(-beta * (b_i + sum_j W_ij z_j))``.
    """
    num_chains = z.shape[1]
    block = (num_chains + num_blocks - 1) // num_blocks
    for blk in prange(num_blocks):
        c0 = blk * block
        _sweep_block(z, rng, linear, indptr, neighbors, weights, order, beta, num_sweeps, c0,
                     min(num_chains, c0 + block))
    return z


# Separate functions, not one function compiled twice: numba's cache key ignores the
# ``parallel`` flag, so two builds of one function would share (and clobber) one entry.
@nb.njit(cache=True, nogil=True)
def gibbs_sweeps_serial(z, rng, linear, indptr, neighbors, weights, order, beta, num_sweeps, num_blocks=1):
    """:func:`gibbs_sweeps` on the calling thread (no thread-pool launch), for small work."""
    _sweep_block(z, rng, linear, indptr, neighbors, weights, order, beta, num_sweeps, 0, z.shape[1])
    return z


@nb.njit(cache=True, nogil=True)
def _energy_block(z, linear, edges, weights, out, c0, c1):
    """Add the energies of chains ``c0:c1`` to ``out[c0:c1]``; unit-major like the chains."""
    acc = out[c0:c1]
    for i in range(z.shape[0]):
        bi = linear[i]
        zi = z[i, c0:c1]
        for c in range(c1 - c0):
            acc[c] += bi * zi[c]
    for k in range(edges.shape[0]):
        w = weights[k]
        zi = z[edges[k, 0], c0:c1]
        zj = z[edges[k, 1], c0:c1]
        for c in range(c1 - c0):
            acc[c] += w * (zi[c] & zj[c])


@nb.njit(parallel=True, cache=True, nogil=True)
def _energies_parallel(z, linear, edges, weights, num_blocks):
    num_chains = z.shape[1]
    out = np.zeros(num_chains, np.float64)
    block = (num_chains + num_blocks - 1) // num_blocks
    for blk in prange(num_blocks):
        c0 = blk * block
        _energy_block(z, linear, edges, weights, out, c0, min(num_chains, c0 + block))
    return out


@nb.njit(cache=True, nogil=True)
def energies_serial(z, linear, edges, weights, num_blocks=1):
    """Energies ``E(z) = b.z + sum_e w_e z_i z_j`` of ``(L, N)`` uint8 states on the calling thread."""
    out = np.zeros(z.shape[1], np.float64)
    _energy_block(z, linear, edges, weights, out, 0, z.shape[1])
    return out


def energies(z: np.ndarray, linear: np.ndarray, edges: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Energies of ``(L, N)`` uint8 states; parallel over blocks of states when the work is large."""
    work = z.shape[1] * (z.shape[0] + edges.shape[0])
    if work < SERIAL_WORK:
        return energies_serial(z, linear, edges, weights, 1)
    return _energies_parallel(z, linear, edges, weights, max(1, min(2 * nb.get_num_threads(), z.shape[1] // 32)))
