"""Numba kernels shared by the classical samplers.

Chain state is stored unit-major, ``z[unit, chain]`` as uint8, so that updating one
unit touches a contiguous row for all chains and the inner loop vectorizes. Every
chain slot owns a random stream (``rng[chain]``: a xoroshiro64* generator seeded by
:func:`seed_streams`); a slot keeps its stream when population annealing copies
another replica's state into it, so duplicated replicas never evolve in lockstep.

Why not numpy or a dimod sampler: one block-Gibbs sweep here is a sparse
gather-multiply-add per unit over all chains, done in place with no temporaries;
``benchmarks/bench_gibbs.py`` measures it against dwave-samplers' C++ simulated
annealing at a fixed beta (on 2 cores, 31x its rate on chimera(6) and 7.5x on rbm(144, 144),
2026-12-02; see docs/benchmarks.md).

:func:`anneal_sweeps` serves block Gibbs, population annealing and the emulator (issue
#11): an exponential and a random generator that vectorize 8 chains wide (the first
kernel called libm's ``expf`` per chain, which kept its update loop scalar, and
xorshift64*'s 64-bit multiply has no AVX2 instruction; 3x slower), the replicas'
energies accumulated during the last sweep instead of a second pass over the states,
and population annealing's resampling copies done in the same call.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import prange
from numba.core import types
from numba.extending import intrinsic

__all__ = ["energies", "energies_serial", "seed_streams", "FIELD_CLIP",
           "SERIAL_WORK", "PARALLEL_WORK", "anneal_sweeps", "anneal_sweeps_serial", "split_csr"]

# Below this many spin updates (or energy terms) per call, a thread-pool launch costs more
# than it saves, and on a loaded machine it waits for a busy core: run on the calling thread.
SERIAL_WORK = 200_000

#: Spin updates per call below which the annealing kernel runs on the calling thread: a
#: parallel launch costs more than it saves there, most of all when another library
#: (TensorFlow during training) keeps the cores busy (measured in benchmarks/bench_pa.py).
PARALLEL_WORK = 4_000_000

# exp(80) is finite in float32 and 1/(1+exp(80)) is below float32 resolution of u,
# so clipping the field there changes no update and keeps inf/NaN out of fastmath code.
FIELD_CLIP = np.float32(80.0)


def seed_streams(seed_sequence: np.random.SeedSequence, n: int) -> np.ndarray:
    """``n`` independent non-zero 64-bit generator states drawn from a SeedSequence."""
    state = seed_sequence.generate_state(n, dtype=np.uint64)
    state[state == 0] = np.uint64(0x9E3779B97F4A7C15)
    return state


# Separate functions, not one function compiled twice: numba's cache key ignores the
# ``parallel`` flag, so two builds of one function would share (and clobber) one entry.
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


# ------------------------------------------------------------------ population annealing


@intrinsic
def _f32_from_bits(typingctx, bits):
    """Reinterpret an int32 as the float32 with the same bits (LLVM ``bitcast``; vectorizes)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)  # 9 significant bits: n * _LN2_HI is exact for |n| < 2**15
_LN2_LO = np.float32(-2.12194440e-4)


# Near-minimax (relative error) degree-5 fit of e^r on |r| <= ln(2) / 2: 7.5e-8 in exact
# arithmetic, 2e-7 evaluated in float32 (Cephes' degree-7 expf costs 2 more FMAs for no
# gain at float32 precision).
_EXP_C0 = np.float32(1.0000000716554327)
_EXP_C1 = np.float32(0.9999996919876318)
_EXP_C2 = np.float32(0.49998894843366537)
_EXP_C3 = np.float32(0.16667574736418206)
_EXP_C4 = np.float32(0.041915382883598605)
_EXP_C5 = np.float32(0.008297654928861357)


@nb.njit(fastmath=True, inline="always")
def _exp32(f):
    """``exp(f)`` in float32 for ``|f| <= FIELD_CLIP``, relative error at most 5e-7 (libm: 2e-7).

    Cody-Waite reduction ``f = n ln 2 + r`` and a polynomial for ``e^r``, written so that
    LLVM vectorizes it (a libm call per element keeps a loop scalar). ``|f| <= 80``
    keeps ``n + 127`` inside float32's normal exponent range.
    """
    n = np.floor(f * _LOG2E + np.float32(0.5))
    r = f - n * _LN2_HI - n * _LN2_LO
    p = _EXP_C5 * r + _EXP_C4
    p = p * r + _EXP_C3
    p = p * r + _EXP_C2
    p = p * r + _EXP_C1
    p = p * r + _EXP_C0
    # numba's stubs type an @intrinsic as its typing function; jitted callers pass only ``bits``
    return p * _f32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))  # type: ignore[call-arg]


def split_csr(
    indptr: np.ndarray, neighbors: np.ndarray, weights: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR rows reordered for :func:`anneal_sweeps`: neighbours earlier in ``order`` first.

    Args:
        indptr, neighbors, weights: CSR adjacency (each undirected edge in both rows).
        order: ``(L,)`` update order of the units.

    Returns:
        ``(neighbors, weights, split)``: the rows' entries sorted by their position in
        ``order``, and ``split[i]``, the first entry of row ``i`` updated after ``i``.

    Example:
        >>> indptr, nbr, w = np.array([0, 1, 3, 4]), np.array([1, 0, 2, 1]), np.ones(4, np.float32)
        >>> nb2, w2, split = split_csr(indptr, nbr, w, np.array([1, 0, 2]))
        >>> nb2.tolist(), split.tolist()
        ([1, 0, 2, 1], [1, 1, 4])
    """
    num_units = indptr.size - 1
    pos = np.empty(num_units, np.int64)
    pos[order] = np.arange(num_units)
    rows = np.repeat(np.arange(num_units), np.diff(indptr))
    key = np.lexsort((pos[neighbors], rows))  # row-major, then by update position within a row
    neighbors, weights = np.ascontiguousarray(neighbors[key]), np.ascontiguousarray(weights[key])
    earlier = np.bincount(rows, weights=pos[neighbors] < pos[rows], minlength=num_units).astype(np.int64)
    return neighbors, weights, indptr[:-1].astype(np.int64) + earlier


@nb.njit(fastmath=True, inline="always")
def _gather_field(field, bias, init, z, neighbors, weights, lo, hi, c0, c1):
    """``field[c] (= bias if init) += sum_p weights[p] z[neighbors[p], c0 + c]`` over entries ``lo:hi``.

    Four neighbours per pass over ``field`` (two in the pass that initializes it): each
    pass loads and stores the whole row, so one pass per neighbour made the field
    updates memory-bound. 1.05x faster sweeps on chimera(6), 1.11x on pegasus, 1.31x on
    rbm(144, 144) (2026-12-02, same process, identical samples).
    """
    n = c1 - c0
    p = lo
    if init:
        if hi - lo >= 2:
            w0, w1 = weights[p], weights[p + 1]
            z0, z1 = z[neighbors[p], c0:c1], z[neighbors[p + 1], c0:c1]
            for c in range(n):
                field[c] = bias + w0 * z0[c] + w1 * z1[c]
            p += 2
        elif hi - lo == 1:
            w0, z0 = weights[p], z[neighbors[p], c0:c1]
            for c in range(n):
                field[c] = bias + w0 * z0[c]
            p += 1
        else:
            for c in range(n):
                field[c] = bias
    while p + 4 <= hi:
        w0, w1, w2, w3 = weights[p], weights[p + 1], weights[p + 2], weights[p + 3]
        z0, z1 = z[neighbors[p], c0:c1], z[neighbors[p + 1], c0:c1]
        z2, z3 = z[neighbors[p + 2], c0:c1], z[neighbors[p + 3], c0:c1]
        for c in range(n):
            field[c] += (w0 * z0[c] + w1 * z1[c]) + (w2 * z2[c] + w3 * z3[c])
        p += 4
    if p + 2 <= hi:
        w0, w1 = weights[p], weights[p + 1]
        z0, z1 = z[neighbors[p], c0:c1], z[neighbors[p + 1], c0:c1]
        for c in range(n):
            field[c] += w0 * z0[c] + w1 * z1[c]
        p += 2
    if p < hi:
        w0, z0 = weights[p], z[neighbors[p], c0:c1]
        for c in range(n):
            field[c] += w0 * z0[c]


@nb.njit(fastmath=True, inline="always")
def _gather_field_from_row(field, row, z, neighbors, weights, lo, hi, c0, c1):
    """:func:`_gather_field` initializing ``field`` with a per-chain bias ``row`` instead of a scalar."""
    n = c1 - c0
    p = lo
    if hi - lo >= 2:
        w0, w1 = weights[p], weights[p + 1]
        z0, z1 = z[neighbors[p], c0:c1], z[neighbors[p + 1], c0:c1]
        for c in range(n):
            field[c] = row[c] + w0 * z0[c] + w1 * z1[c]
        p += 2
    elif hi - lo == 1:
        w0, z0 = weights[p], z[neighbors[p], c0:c1]
        for c in range(n):
            field[c] = row[c] + w0 * z0[c]
        p += 1
    else:
        for c in range(n):
            field[c] = row[c]
    _gather_field(field, np.float32(0.0), False, z, neighbors, weights, p, hi, c0, c1)


@nb.njit(fastmath=True, cache=True, nogil=True)
def _anneal_block(z, rng, linear, indptr, split, neighbors, weights, order, beta, num_sweeps, c0, c1, energy,
                  bounds=None, biases=None, clamp=None, values=None):
    """Block-Gibbs sweeps of chains ``c0:c1`` at ``beta``, writing their energies in the last one.

    The random stream of each chain is a xoroshiro64* generator (Blackman and Vigna; its
    upper bits are recommended for floats) whose two 32-bit words are the halves of
    ``rng[chain]``: 32-bit lanes vectorize twice as wide as a 64-bit generator's.

    Conditional sampling (``qhvae.samplers.conditions``): the chains come sorted by condition,
    condition ``g`` owning columns ``bounds[g]:bounds[g + 1]``; ``biases[i, g]`` (float32) is
    unit ``i``'s bias in those chains (instead of ``linear[i]``), and where ``clamp[i, g]`` (uint8) is 1 the unit
    is held at ``values[i, g]`` (set before the first sweep and after each update: its random
    number is still drawn, so every chain's stream advances alike). The caller passes them per
    condition, ``(L, K)``, and never builds ``(L, N)`` arrays; the block expands the biases to
    its chains once a call and starts each field from them. Kernel cost on the 288-unit
    Chimera, 1000 chains, 10 conditions, 10 sweeps (2026-12-06): 1.02x the plain kernel (an
    ``(L, N)`` array of bias offsets added in a pass of its own: 1.11x; per-condition offsets
    added in such a pass: 1.08x). numba compiles a separate kernel when they are
    ``None``, with these branches removed: the unconditional sweeps run exactly as before.
    """
    num_units = z.shape[0]
    n = c1 - c0
    if n <= 0:
        return
    field = np.empty(n, np.float32)
    past = np.empty(n, np.float32)
    acc = np.zeros(n, np.float64)
    streams = rng[c0:c1]
    # The two 32-bit halves of each stream in separate arrays, so that the update loop
    # runs on 8 float32/uint32 lanes (AVX2 has 4 uint64 lanes and no uint64 multiply).
    s0 = np.empty(n, np.uint32)
    s1 = np.empty(n, np.uint32)
    for c in range(n):
        s0[c] = np.uint32(streams[c] & np.uint64(0xFFFFFFFF))
        s1[c] = np.uint32(streams[c] >> np.uint64(32))
    # The conditions' column ranges that meet this block: (condition, first, end), block-relative.
    num_segments = 0
    max_segments = 1
    if bounds is not None:
        max_segments = bounds.size
    seg_cond = np.empty(max_segments, np.int64)
    seg_lo = np.empty(max_segments, np.int64)
    seg_hi = np.empty(max_segments, np.int64)
    if bounds is not None:
        for g in range(bounds.size - 1):
            lo = max(bounds[g], c0) - c0
            hi = min(bounds[g + 1], c1) - c0
            if hi > lo:
                seg_cond[num_segments], seg_lo[num_segments], seg_hi[num_segments] = g, lo, hi
                num_segments += 1
    # Each chain's biases, (L, n): built once a call from the conditions' biases, then read
    # by the pass that starts each field (a pass of its own over the field cost 1.08x).
    bias_rows = np.empty((num_units if biases is not None else 0, n), np.float32)
    if biases is not None:
        for i in range(num_units):
            for s in range(num_segments):
                bias_rows[i, seg_lo[s]:seg_hi[s]] = biases[i, seg_cond[s]]
    if clamp is not None:
        for i in range(num_units):
            for s in range(num_segments):
                g = seg_cond[s]
                if clamp[i, g]:
                    z[i, c0 + seg_lo[s]:c0 + seg_hi[s]] = values[i, g]
    for sweep in range(num_sweeps):
        last = sweep == num_sweeps - 1
        for oi in range(num_units):
            i = order[oi]
            bi = linear[i]
            if biases is None:
                _gather_field(field, bi, True, z, neighbors, weights, indptr[i], split[i], c0, c1)
            else:
                _gather_field_from_row(field, bias_rows[i], z, neighbors, weights, indptr[i], split[i], c0, c1)
            if last:
                # E = sum_i z_i (b_i + sum_{j before i} W_ij z_j): in the last sweep the
                # units before i already hold their final values, so E costs no extra pass.
                for c in range(n):
                    past[c] = field[c]
            _gather_field(field, np.float32(0.0), False, z, neighbors, weights, split[i], indptr[i + 1], c0, c1)
            zi = z[i, c0:c1]
            for c in range(n):
                # xoroshiro64*: its top 24 bits make the uniform.
                a = s0[c]
                b = np.uint32(s1[c] ^ a)
                r = np.uint32(a * np.uint32(0x9E3779BB))
                s0[c] = np.uint32(np.uint32(np.uint32(a << np.uint32(26)) | np.uint32(a >> np.uint32(6)))
                                  ^ b ^ np.uint32(b << np.uint32(9)))
                s1[c] = np.uint32(np.uint32(b << np.uint32(13)) | np.uint32(b >> np.uint32(19)))
                u = np.float32(np.int32(r >> np.uint32(8))) * np.float32(5.9604645e-08)
                f = min(max(beta * field[c], -FIELD_CLIP), FIELD_CLIP)
                zi[c] = np.uint8(u * (np.float32(1.0) + _exp32(f)) < np.float32(1.0))
            if clamp is not None:
                for s in range(num_segments):
                    g = seg_cond[s]
                    if clamp[i, g]:
                        zi[seg_lo[s]:seg_hi[s]] = values[i, g]
            if last:
                for c in range(n):
                    acc[c] += zi[c] * past[c]
    for c in range(n):
        energy[c0 + c] = acc[c]
        streams[c] = np.uint64(s0[c]) | (np.uint64(s1[c]) << np.uint64(32))


@nb.njit(cache=True, nogil=True)
def _copy_parents(z, parent, energy):
    """``z[:, c] = z[:, parent[c]]`` (and the energies) for the slots whose parent is another slot.

    Parents are slots that keep their own state, so the order of the copies does not matter.
    """
    num_chains = z.shape[1]
    dst = np.empty(num_chains, np.int64)
    m = 0
    for c in range(num_chains):
        if parent[c] != c:
            dst[m] = c
            m += 1
    if m == 0:
        return
    for i in range(z.shape[0]):
        row = z[i]
        for k in range(m):
            row[dst[k]] = row[parent[dst[k]]]
    for k in range(m):
        energy[dst[k]] = energy[parent[dst[k]]]


@nb.njit(parallel=True, cache=True, nogil=True)
def anneal_sweeps(z, rng, parent, linear, indptr, split, neighbors, weights, order, beta, num_sweeps, num_blocks,
                  energy, bounds=None, biases=None, clamp=None, values=None):
    """Resample, then ``num_sweeps`` block-Gibbs sweeps at ``beta`` with the new energies, in place.

    One population-annealing step after the reweighting: chain slot ``c`` takes the state
    (and energy) of slot ``parent[c]`` (each parent must be a slot with ``parent[p] == p``),
    keeping its own random stream; then every chain gets ``num_sweeps`` block-Gibbs sweeps
    (``P(z_i = 1 | rest) = sigmoid(-beta (b_i + sum_j W_ij z_j))``, colour by colour) and ``energy``
    receives ``E(z) = b.z + sum_e w_e z_i z_j`` of the final states, accumulated during the last sweep.
    With ``num_sweeps = 0`` only the copies are made.

    Args:
        z: ``(L, N)`` uint8 chain states, updated in place.
        rng: ``(N,)`` uint64 non-zero xoroshiro64* states, updated in place.
        parent: ``(N,)`` int64 slot each chain copies its state from (itself: no copy).
        linear: ``(L,)`` float32 biases.
        indptr, split, neighbors, weights: CSR adjacency from :func:`split_csr` (float32 weights).
        order: ``(L,)`` int64 update order, units of one colour contiguous.
        beta: inverse temperature (float32).
        num_sweeps: sweeps to run.
        num_blocks: chain blocks run in parallel.
        energy: ``(N,)`` float64 energies, updated in place.
        bounds: ``(K + 1,)`` int64 column bounds of the K conditions (chains sorted by
            condition), or ``None`` (no conditions; then the next three are ``None`` too).
        biases: ``(L, K)`` float32 biases of each condition (instead of ``linear``), or ``None``.
        clamp: ``(L, K)`` uint8, 1 where a condition clamps a unit, or ``None``.
        values: ``(L, K)`` uint8 values of the clamped units (with ``clamp``).
    """
    _copy_parents(z, parent, energy)
    if num_sweeps <= 0:
        return
    num_chains = z.shape[1]
    block = (num_chains + num_blocks - 1) // num_blocks
    for blk in prange(num_blocks):
        c0 = blk * block
        _anneal_block(z, rng, linear, indptr, split, neighbors, weights, order, beta, num_sweeps, c0,
                      min(num_chains, c0 + block), energy, bounds, biases, clamp, values)


@nb.njit(cache=True, nogil=True)
def anneal_sweeps_serial(z, rng, parent, linear, indptr, split, neighbors, weights, order, beta, num_sweeps,
                         num_blocks, energy, bounds=None, biases=None, clamp=None, values=None):
    """:func:`anneal_sweeps` on the calling thread (no thread-pool launch), for small work."""
    _copy_parents(z, parent, energy)
    if num_sweeps > 0:
        _anneal_block(z, rng, linear, indptr, split, neighbors, weights, order, beta, num_sweeps, 0, z.shape[1],
                      energy, bounds, biases, clamp, values)


@nb.njit(cache=True, nogil=True)
def first_row_mismatch(rows, reference):
    """The first ``c`` whose row ``rows[c]`` differs from ``rows[reference[c]]``, or -1.

    ``rows`` is any ``(N, B)`` array viewed as integers (bytes, or words when a row's bytes
    divide by 8): one pass, no temporaries (comparing gathered copies cost more than the
    conditional sweeps it guards).
    """
    for c in range(rows.shape[0]):
        r = reference[c]
        if r == c:
            continue
        differ = rows[c, 0] ^ rows[c, 0]
        for j in range(rows.shape[1]):  # branch-free: vectorizes
            differ |= rows[c, j] ^ rows[r, j]
        if differ:
            return c
    return -1


@nb.njit(cache=True, nogil=True)
def first_clamp_mismatch(mask, values, reference):
    """The first ``c`` whose clamps differ from chain ``reference[c]``'s, or -1.

    Clamps differ when the masks (``(N, L)`` bool or uint8) differ, or the values (``(N, L)``,
    any numeric dtype) differ on a clamped unit; values off the mask are ignored. One pass.
    """
    for c in range(mask.shape[0]):
        r = reference[c]
        if r == c:
            continue
        differ = False
        for j in range(mask.shape[1]):  # branch-free: vectorizes
            m = mask[c, j]
            differ |= (m != mask[r, j]) | (m & (values[c, j] != values[r, j]))
        if differ:
            return c
    return -1


@nb.njit(cache=True, nogil=True)
def first_moved_clamp(samples, group, indptr, units, values):
    """The first chain whose clamped unit is not at its value, or -1.

    ``samples`` ``(N, L)``; chain ``c`` belongs to condition ``group[c]``, which clamps units
    ``units[indptr[g]:indptr[g + 1]]`` to ``values[indptr[g]:indptr[g + 1]]``.
    """
    for c in range(samples.shape[0]):
        g = group[c]
        for p in range(indptr[g], indptr[g + 1]):
            if samples[c, units[p]] != values[p]:
                return c
    return -1


@nb.njit(cache=True, nogil=True)
def set_clamps(samples, group, indptr, units, values):
    """Every clamped unit of ``samples`` at its value, in place (arguments as :func:`first_moved_clamp`)."""
    for c in range(samples.shape[0]):
        g = group[c]
        for p in range(indptr[g], indptr[g + 1]):
            samples[c, units[p]] = values[p]


@nb.njit(cache=True, nogil=True)
def index_groups(ids, max_span):
    """Groups of equal ids, numbered by first appearance: ``(group, first, ok)``, each chain's
    group and each group's first chain, by a table over the ids' range (one pass, no sort);
    ``ok`` is false, and nothing computed, when that range is wider than ``max_span``."""
    lowest = ids[0] if ids.size else 0
    highest = lowest
    for c in range(ids.size):
        lowest = min(lowest, ids[c])
        highest = max(highest, ids[c])
    group = np.empty(ids.size, np.int64)
    if highest - lowest >= max_span:
        return group, group[:0].copy(), False
    slot = np.full(highest - lowest + 1, -1, np.int64)
    first = np.empty(ids.size, np.int64)
    k = 0
    for c in range(ids.size):
        key = ids[c] - lowest
        g = slot[key]
        if g < 0:
            g = k
            slot[key] = k
            first[k] = c
            k += 1
        group[c] = g
    return group, first[:k].copy(), True


@nb.njit(cache=True, nogil=True)
def sort_by_group(group, num_groups):
    """``(order, bounds, already)``: the chains sorted by group, stably (a counting sort), group
    ``g`` at ``order[bounds[g]:bounds[g + 1]]``; ``already`` when ``order`` is the identity."""
    bounds = np.zeros(num_groups + 1, np.int64)
    already = True
    for c in range(group.size):
        bounds[group[c] + 1] += 1
        if c and group[c] < group[c - 1]:
            already = False
    for g in range(num_groups):
        bounds[g + 1] += bounds[g]
    order = np.empty(group.size, np.int64)
    if already:
        for c in range(group.size):
            order[c] = c
        return order, bounds, already
    fill = bounds[:-1].copy()
    for c in range(group.size):
        order[fill[group[c]]] = c
        fill[group[c]] += 1
    return order, bounds, already
