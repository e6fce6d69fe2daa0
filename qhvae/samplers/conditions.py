"""Conditional sampling: each chain of one sampler call with its own linear biases and clamped units.

A *condition* changes a Boltzmann machine ``E(z) = b.z + sum W_ij z_i z_j`` for some chains
of a call: chain ``n`` samples with linear biases ``biases[n]`` instead of ``b``, and with
the units where ``clamp_mask[n]`` is true held at ``clamp_values[n]``. Clamping unit ``j``
to ``v_j`` is the same as removing it and adding ``W_ij v_j`` to each neighbour's bias
(DESIGN.md section 2), so a condition is a *reduced* machine on the free units, which is
how a sampler without native support samples it (:func:`sample_by_condition`): one call of
its unconditional sampler per distinct condition. A label ``y`` acting through ``U y`` is a
per-chain bias; on an annealer, a per-call ``h``.

Chains sharing a condition form a group; ``ids`` name the groups. Given by the caller
(e.g. the class of each chain), they also key what a persistent sampler keeps per condition
(its chains stay persistent per class while the class's biases change with training);
otherwise chains with equal rows share a group.

Example:
    >>> import numpy as np
    >>> bm = BoltzmannMachine.from_arrays([0.0, 0.0, 0.0], ([[0, 1], [1, 2]], [2.0, -1.0]))
    >>> cond = ChainConditions.build(4, 3, clamp_mask=[False, True, False], clamp_values=[0, 1, 0])
    >>> reduced, free = reduced_machine(bm, cond.biases_of(0), cond.mask_of(0), cond.values_of(0))
    >>> free.tolist(), reduced.linear.tolist(), reduced.num_edges
    ([0, 2], [2.0, -1.0], 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..exceptions import ConfigError
from ._kernels import first_row_mismatch
from .machine import BoltzmannMachine

__all__ = ["ChainConditions", "reduced_machine", "sample_by_condition", "conditional_log_partition"]


def _as_rows(name: str, value: Any, num_samples: int, num_variables: int, dtype) -> np.ndarray:
    """``value`` as an ``(N, L)`` array (an ``(L,)`` row is every chain's), or a clear error naming ``name``."""
    arr = np.asarray(value)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (num_samples, arr.shape[0]))
    if arr.ndim != 2 or arr.shape != (num_samples, num_variables):
        raise ConfigError(f"{name} must have shape ({num_samples}, {num_variables}) (one row per chain) or "
                          f"({num_variables},) (every chain's), got {np.shape(value)}")
    return np.ascontiguousarray(arr, dtype=dtype)


@dataclass(frozen=True)
class ChainConditions:
    """The per-chain conditions of one sampler call (validated; see :meth:`build`).

    Attributes:
        biases: ``(N, L)`` float64 linear biases of each chain, or ``None`` (the machine's).
        clamp_mask: ``(N, L)`` bool, the clamped units of each chain, or ``None`` (none).
        clamp_values: ``(N, L)`` uint8, their values (0 where a unit is free).
        ids: ``(N,)`` int64, the condition (group) of each chain.
    """

    biases: np.ndarray | None
    clamp_mask: np.ndarray | None
    clamp_values: np.ndarray | None
    ids: np.ndarray

    @classmethod
    def build(cls, num_samples: int, num_variables: int, *, biases: Any = None, clamp_mask: Any = None,
              clamp_values: Any = None, condition_ids: Any = None) -> "ChainConditions | None":
        """Validate a call's conditions; ``None`` when it has none (an unconditional call).

        Args:
            num_samples, num_variables: the call's ``N`` and ``L``.
            biases: ``(N, L)`` or ``(L,)`` finite linear biases.
            clamp_mask: ``(N, L)`` or ``(L,)`` booleans (a bool array: 0/1 integers are
                refused, they are too easily confused with the values).
            clamp_values: ``(N, L)`` or ``(L,)`` 0/1 values of the clamped units (entries
                where the mask is false are ignored); required with ``clamp_mask``.
            condition_ids: ``(N,)`` integers naming each chain's condition; chains with one
                id must have equal rows. Default: equal rows, equal condition.

        Raises:
            ConfigError: naming the argument: a wrong shape or dtype, non-finite biases,
                values that are not 0/1, a mask without values, every unit clamped, or ids
                that disagree with the rows.
        """
        if biases is None and clamp_mask is None and clamp_values is None and condition_ids is None:
            return None
        n, L = int(num_samples), int(num_variables)
        b = None
        if biases is not None:
            b = _as_rows("biases", biases, n, L, np.float64)
            if not np.isfinite(b.sum()) and not np.isfinite(b).all():  # one reduction when all is well
                raise ConfigError(f"biases must be finite; {int((~np.isfinite(b)).sum())} value(s) are NaN or infinite")
        mask = values = None
        if clamp_values is not None and clamp_mask is None:
            raise ConfigError("clamp_values needs clamp_mask: say which units are clamped (a bool array)")
        if clamp_mask is not None:
            raw = np.asarray(clamp_mask)
            if raw.dtype != np.bool_:
                raise ConfigError(f"clamp_mask must be a bool array (True: clamped), got dtype {raw.dtype}")
            mask = _as_rows("clamp_mask", raw, n, L, np.bool_)
            if clamp_values is None:
                raise ConfigError("clamp_mask needs clamp_values: the 0/1 values of the clamped units")
            raw_values = np.asarray(clamp_values)
            if raw_values.dtype == np.bool_ or not np.issubdtype(raw_values.dtype, np.number):
                raise ConfigError(f"clamp_values must be numbers 0 or 1, got dtype {raw_values.dtype}")
            full = _as_rows("clamp_values", raw_values, n, L, raw_values.dtype)
            bad = mask & (full != 0) & (full != 1)
            if bad.any():
                chain, unit = (int(x) for x in np.argwhere(bad)[0])
                raise ConfigError(f"clamp_values must be 0 or 1 on clamped units; got {full[chain, unit]!r} "
                                  f"(chain {chain}, unit {unit})")
            if L and mask.all(axis=1).any():
                raise ConfigError(f"clamp_mask clamps every unit of chain {int(np.flatnonzero(mask.all(axis=1))[0])}: "
                                  "nothing is left to sample")
            values = full.astype(np.uint8) * mask  # 0 off the mask: rows of one condition compare equal
        parts = [a for a in (b, mask, values) if a is not None]
        if condition_ids is None:
            if not parts:
                ids = np.zeros(n, np.int64)
            else:
                key = np.concatenate([a.reshape(n, -1).view(np.uint8) for a in parts], axis=1)
                _, ids = np.unique(key, axis=0, return_inverse=True)
                ids = ids.reshape(-1).astype(np.int64)
        else:
            ids = np.asarray(condition_ids)
            if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer):
                raise ConfigError(f"condition_ids must be ({n},) integers, got shape {ids.shape} dtype {ids.dtype}")
            ids = ids.astype(np.int64)
            _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
            reference = first[inverse.reshape(-1)]  # the first chain of each chain's condition
            for a in parts:
                raw = a.reshape(n, -1).view(np.uint8)
                chain = int(first_row_mismatch(raw.view(np.uint64) if raw.shape[1] % 8 == 0 else raw, reference))
                if chain >= 0:
                    raise ConfigError(f"condition_ids: chains {int(reference[chain])} and {chain} share condition "
                                      f"{int(ids[chain])} but have different biases or clamps")
        return cls(b, mask, values, ids)

    @property
    def num_samples(self) -> int:
        return int(self.ids.shape[0])

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """``(condition id, chain indices)`` of each distinct condition, in order of first appearance."""
        unique, first, inverse = np.unique(self.ids, return_index=True, return_inverse=True)
        order = np.argsort(inverse.reshape(-1), kind="stable")  # chains grouped, each group in chain order
        bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse.reshape(-1), minlength=unique.size))])
        groups = [(int(unique[g]), order[bounds[g]:bounds[g + 1]]) for g in range(unique.size)]
        return [groups[g] for g in np.argsort(first, kind="stable")]

    def biases_of(self, chain: int) -> np.ndarray | None:
        return None if self.biases is None else self.biases[chain]

    def mask_of(self, chain: int) -> np.ndarray | None:
        return None if self.clamp_mask is None else self.clamp_mask[chain]

    def values_of(self, chain: int) -> np.ndarray | None:
        return None if self.clamp_values is None else self.clamp_values[chain]

    def apply_clamps(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` with every clamped unit at its value (in place; returned)."""
        if self.clamp_mask is not None:
            np.copyto(samples, self.clamp_values, where=self.clamp_mask)
        return samples


def reduced_machine(bm, biases: np.ndarray | None, mask: np.ndarray | None, values: np.ndarray | None):
    """The machine on the free units of one condition, and the free units' indices.

    Clamped units leave the machine; each coupling to a clamped unit ``j`` at ``v_j`` adds
    ``W_ij v_j`` to the free unit's bias; the energy of the clamped part goes to the offset,
    so ``reduced.energies(z_free) == bm.energies(z)`` with the condition's biases.
    """
    linear = np.asarray(bm.linear if biases is None else biases, np.float64)
    if mask is None or not mask.any():
        free = np.arange(bm.num_variables, dtype=np.int64)
        return BoltzmannMachine.from_arrays(linear, (bm.edges, bm.weights), offset=bm.offset), free
    v = np.where(mask, values, 0).astype(np.float64)
    free = np.flatnonzero(~mask)
    i, j, w = bm.edges[:, 0], bm.edges[:, 1], bm.weights
    field = linear.copy()
    np.add.at(field, i, w * v[j])
    np.add.at(field, j, w * v[i])
    both_free = ~mask[i] & ~mask[j]
    both_clamped = mask[i] & mask[j]
    offset = float(bm.offset + linear[mask] @ v[mask] + (w[both_clamped] * v[i[both_clamped]] * v[j[both_clamped]]).sum())
    position = np.full(bm.num_variables, -1, np.int64)
    position[free] = np.arange(free.size)
    edges = np.stack([position[i[both_free]], position[j[both_free]]], axis=1)
    return BoltzmannMachine.from_arrays(field[free], (edges, w[both_free]), offset=offset), free


def sample_by_condition(bm, conditions: ChainConditions, seed: np.random.SeedSequence,
                        sample: Callable[[Any, int, np.random.SeedSequence], Any]):
    """Every chain's samples from one unconditional call per distinct condition (the reduced machine).

    The default of :class:`~qhvae.samplers.BoltzmannSampler` for samplers without native
    conditioning, so every plugin samples conditions correctly without a change.

    Args:
        bm: the machine.
        conditions: the call's conditions.
        seed: the call's seed; each condition gets its own child.
        sample: ``sample(machine, num_samples, seed) -> SampleResult``, the unconditional sampler.

    Returns:
        ``(samples, infos)``: the ``(N, L)`` uint8 samples (clamped units at their values)
        and, per condition id, the info of its call (e.g. its ``log_z``).
    """
    out = np.empty((conditions.num_samples, bm.num_variables), np.uint8)
    infos = {}
    groups = conditions.groups()
    for (cid, chains), child in zip(groups, seed.spawn(len(groups))):
        first = int(chains[0])
        reduced, free = reduced_machine(bm, conditions.biases_of(first), conditions.mask_of(first),
                                        conditions.values_of(first))
        result = sample(reduced, int(chains.size), child)
        block = np.zeros((chains.size, bm.num_variables), np.uint8)
        block[:, free] = result.samples
        out[chains] = block
        infos[cid] = dict(result.info)
    return conditions.apply_clamps(out), infos


def conditional_log_partition(bm, conditions: ChainConditions, log_partition: Callable[[Any], float]
                              ) -> dict[int, float]:
    """``log Z`` of each condition: the sum over the free units of ``exp(-E)`` with the clamps held.

    Args:
        bm: the machine.
        conditions: the conditions.
        log_partition: ``log_partition(machine) -> float`` of an unconditional machine.
    """
    result = {}
    for cid, chains in conditions.groups():
        first = int(chains[0])
        reduced, _ = reduced_machine(bm, conditions.biases_of(first), conditions.mask_of(first),
                                     conditions.values_of(first))
        result[cid] = float(log_partition(reduced))
    return result
