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
otherwise chains with equal rows share a group. :class:`ChainConditions` holds one row per
group and each chain's group, never ``(N, L)`` arrays unless asked (:attr:`ChainConditions.biases`);
the caller may give the rows per chain or, with ids, per condition (``condition_biases``, ...).

Example:
    >>> import numpy as np
    >>> bm = BoltzmannMachine.from_arrays([0.0, 0.0, 0.0], ([[0, 1], [1, 2]], [2.0, -1.0]))
    >>> cond = ChainConditions.build(4, 3, clamp_mask=[False, True, False], clamp_values=[0, 1, 0])
    >>> reduced, free = reduced_machine(bm, cond.biases_of(0), cond.mask_of(0), cond.values_of(0))
    >>> free.tolist(), reduced.linear.tolist(), reduced.num_edges
    ([0, 2], [2.0, -1.0], 0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..exceptions import ConfigError
from ._kernels import (
    first_clamp_mismatch,
    first_moved_clamp,
    first_row_mismatch,
    index_groups,
    set_clamps,
    sort_by_group,
)
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


def _full_rows(n: int, L: int, biases: Any, clamp_mask: Any, clamp_values: Any):
    """Per-chain arguments as validated ``(N, L)`` arrays ``(biases, mask, values)`` (``None`` where not given).

    The thorough check, on every row: the path of calls without ``condition_ids``, and of
    errors (it names the first bad chain and unit).
    """
    b = None
    if biases is not None:
        b = _as_rows("biases", biases, n, L, np.float64)
        if not np.isfinite(b.sum()) and not np.isfinite(b).all():  # one reduction when all is well
            raise ConfigError(f"biases must be finite; {int((~np.isfinite(b)).sum())} value(s) are NaN or infinite")
    mask = values = None
    if clamp_mask is not None:
        raw = np.asarray(clamp_mask)
        if raw.dtype != np.bool_:
            raise ConfigError(f"clamp_mask must be a bool array (True: clamped), got dtype {raw.dtype}")
        mask = _as_rows("clamp_mask", raw, n, L, np.bool_)
        raw_values = np.asarray(clamp_values)
        if raw_values.dtype == np.bool_ or not np.issubdtype(raw_values.dtype, np.number):
            raise ConfigError(f"clamp_values must be numbers 0 or 1, got dtype {raw_values.dtype}")
        full = _as_rows("clamp_values", raw_values, n, L, raw_values.dtype)
        bad = mask & (full != 0) & (full != 1)
        if bad.any():
            chain, unit = (int(x) for x in np.argwhere(bad)[0])
            raise ConfigError(f"clamp_values must be 0 or 1 on clamped units; got {full[chain, unit].item()!r} "
                              f"(chain {chain}, unit {unit})")
        if L and mask.all(axis=1).any():
            raise ConfigError(f"clamp_mask clamps every unit of chain {int(np.flatnonzero(mask.all(axis=1))[0])}: "
                              "nothing is left to sample")
        values = full.astype(np.uint8) * mask  # 0 off the mask: rows of one condition compare equal
    return b, mask, values


def _per_chain(name: str, value: Any, n: int, L: int) -> np.ndarray:
    """A per-chain argument as given, ``(N, L)`` or ``(L,)``, without copying; its shape checked."""
    arr = np.asarray(value)
    if arr.ndim not in (1, 2) or arr.shape[-1] != L or (arr.ndim == 2 and arr.shape[0] != n):
        raise ConfigError(f"{name} must have shape ({n}, {L}) (one row per chain) or ({L},) (every chain's), "
                          f"got {np.shape(value)}")
    return arr


def _numbers(name: str, arr: np.ndarray) -> np.ndarray:
    """``arr`` if its dtype holds numbers, else as float64, or an error naming ``name``."""
    if arr.dtype.kind in "biuf":
        return arr
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be numbers, got dtype {arr.dtype}") from exc


def _per_condition(name: str, value: Any, L: int) -> np.ndarray:
    """A per-condition table ``(K, L)`` as given; its shape checked."""
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.shape[1] != L or arr.shape[0] == 0:
        raise ConfigError(f"{name} must have shape (K, {L}) (row k: the chains whose condition id is k), "
                          f"got {np.shape(value)}")
    return arr


def _group_index(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(group, group_ids, first)``: each chain's group (groups in order of first appearance),
    each group's id and its first chain."""
    group, first, ok = index_groups(ids, 4 * ids.size + 1024)  # e.g. class labels: a table, one pass
    if ok:
        return group, ids[first], first
    unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)], unique[order].astype(np.int64), first[order].astype(np.int64)


def _check_group_rows(name: str, mask_name: str, values_name: str, biases, mask, values, where) -> None:
    """Finite biases, 0/1 values on the mask, a free unit in every row, of ``(K, L)`` rows;
    ``where(k)`` names row ``k`` in the message."""
    # One reduction each when all is well (these few rows are every chain's).
    if biases is not None and not np.isfinite(biases.sum()) and not np.isfinite(biases).all():
        k = int(np.flatnonzero(~np.isfinite(biases).all(axis=1))[0])
        raise ConfigError(f"{name} must be finite; {where(k)} has "
                          f"{int((~np.isfinite(biases[k])).sum())} NaN or infinite value(s)")
    if mask is not None:
        clamped = values[mask]
        if ((clamped != 0) & (clamped != 1)).any():
            bad = mask & (values != 0) & (values != 1)
            k, unit = (int(x) for x in np.argwhere(bad)[0])
            raise ConfigError(f"{values_name} must be 0 or 1 on clamped units; got {values[k, unit].item()!r} "
                              f"({where(k)}, unit {unit})")
        full = mask.all(axis=1)
        if mask.shape[1] and full.any():
            raise ConfigError(f"{mask_name} clamps every unit of {where(int(np.flatnonzero(full)[0]))}: "
                              "nothing is left to sample")


@dataclass(frozen=True)
class ChainConditions:
    """The per-chain conditions of one sampler call (validated; see :meth:`build`).

    Held per condition, never per chain: ``K`` rows, one per distinct condition (group), and
    each chain's group. The ``(N, L)`` per-chain views (:attr:`biases`, :attr:`clamp_mask`,
    :attr:`clamp_values`) are built on first use only.

    Attributes:
        ids: ``(N,)`` int64, the condition id of each chain.
        group: ``(N,)`` int64, each chain's group: the index of its condition in ``group_ids``.
        group_ids: ``(K,)`` int64, the distinct condition ids in order of first appearance.
        group_biases: ``(K, L)`` float64 linear biases of each condition, or ``None`` (the machine's).
        group_mask: ``(K, L)`` bool, the clamped units of each condition, or ``None`` (none).
        group_values: ``(K, L)`` uint8, their values (0 where a unit is free).
    """

    ids: np.ndarray
    group: np.ndarray
    group_ids: np.ndarray
    group_biases: np.ndarray | None
    group_mask: np.ndarray | None
    group_values: np.ndarray | None

    @classmethod
    def build(cls, num_samples: int, num_variables: int, *, biases: Any = None, clamp_mask: Any = None,
              clamp_values: Any = None, condition_ids: Any = None, condition_biases: Any = None,
              condition_clamp_mask: Any = None, condition_clamp_values: Any = None) -> ChainConditions | None:
        """Validate a call's conditions; ``None`` when it has none (an unconditional call).

        Each of the three may be given per chain (``biases``, ``clamp_mask``, ``clamp_values``)
        or per condition (``condition_biases``, ...: row ``k`` for the chains whose condition
        id is ``k``), not both; the clamps' mask and values in the same form.

        Args:
            num_samples, num_variables: the call's ``N`` and ``L``.
            biases: ``(N, L)`` or ``(L,)`` finite linear biases.
            clamp_mask: ``(N, L)`` or ``(L,)`` booleans (a bool array: 0/1 integers are
                refused, they are too easily confused with the values).
            clamp_values: ``(N, L)`` or ``(L,)`` 0/1 values of the clamped units (entries
                where the mask is false are ignored); required with ``clamp_mask``.
            condition_ids: ``(N,)`` integers naming each chain's condition; chains with one
                id must have equal rows. Default: equal rows, equal condition. Required by
                the per-condition forms, whose rows they index (``0 <= id < K``).
            condition_biases: ``(K, L)`` finite linear biases, row ``k`` those of condition ``k``.
            condition_clamp_mask: ``(K, L)`` booleans, row ``k`` the clamped units of condition ``k``.
            condition_clamp_values: ``(K, L)`` 0/1 values; required with ``condition_clamp_mask``.

        Raises:
            ConfigError: naming the argument: a wrong shape or dtype, non-finite biases,
                values that are not 0/1, a mask without values, every unit clamped, ids
                that disagree with the rows, or ids that index no row of a per-condition table.

        Example:
            >>> c = ChainConditions.build(4, 2, condition_biases=[[0.0, 1.0], [2.0, 3.0]],
            ...                           condition_ids=[1, 1, 0, 0])
            >>> c.group_ids.tolist(), c.group_biases.tolist(), c.biases_of(2).tolist()
            ([1, 0], [[2.0, 3.0], [0.0, 1.0]], [0.0, 1.0])
        """
        per_chain = {"biases": biases, "clamp_mask": clamp_mask, "clamp_values": clamp_values}
        per_condition = {"condition_biases": condition_biases, "condition_clamp_mask": condition_clamp_mask,
                         "condition_clamp_values": condition_clamp_values}
        if all(v is None for v in (*per_chain.values(), *per_condition.values(), condition_ids)):
            return None
        n, L = int(num_samples), int(num_variables)
        for name in per_chain:
            if per_chain[name] is not None and per_condition["condition_" + name] is not None:
                raise ConfigError(f"give {name} (one row per chain) or condition_{name} (one row per condition), "
                                  "not both")
        forms = {"": per_chain, "condition_": per_condition}
        for prefix, args in forms.items():
            mask_arg, values_arg = args[prefix + "clamp_mask"], args[prefix + "clamp_values"]
            if (mask_arg is None) != (values_arg is None):
                other = "condition_" if not prefix else ""
                if forms[other][other + "clamp_mask"] is not None or forms[other][other + "clamp_values"] is not None:
                    raise ConfigError("give the clamps' mask and values in the same form: clamp_mask with "
                                      "clamp_values, or condition_clamp_mask with condition_clamp_values")
                if mask_arg is None:
                    raise ConfigError(f"{prefix}clamp_values needs {prefix}clamp_mask: say which units are clamped "
                                      "(a bool array)")
                raise ConfigError(f"{prefix}clamp_mask needs {prefix}clamp_values: the 0/1 values of the clamped units")
            if mask_arg is not None and np.asarray(mask_arg).dtype != np.bool_:
                raise ConfigError(f"{prefix}clamp_mask must be a bool array (True: clamped), got dtype "
                                  f"{np.asarray(mask_arg).dtype}")
            if values_arg is not None:
                dtype = np.asarray(values_arg).dtype
                if dtype == np.bool_ or not np.issubdtype(dtype, np.number):
                    raise ConfigError(f"{prefix}clamp_values must be numbers 0 or 1, got dtype {dtype}")

        if condition_ids is None:
            given = [k for k, v in per_condition.items() if v is not None]
            if given:
                raise ConfigError(f"{given[0]} needs condition_ids: the condition (row) of each chain")
            return cls._from_rows(n, L, biases, clamp_mask, clamp_values)

        ids = np.asarray(condition_ids)
        if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer):
            raise ConfigError(f"condition_ids must be ({n},) integers, got shape {ids.shape} dtype {ids.dtype}")
        ids = ids.astype(np.int64, copy=False)
        group, group_ids, first = _group_index(ids)
        reference = first[group]  # the first chain of each chain's condition

        def disagree(chain: int):
            _full_rows(n, L, biases, clamp_mask, clamp_values)  # a more precise error first, if any
            raise ConfigError(f"condition_ids: chains {int(reference[chain])} and {chain} share condition "
                              f"{int(ids[chain])} but have different biases or clamps")

        K = group_ids.size
        rows: dict[str, np.ndarray | None] = {"biases": None, "clamp_mask": None, "clamp_values": None}
        if biases is not None:
            arr = _numbers("biases", _per_chain("biases", biases, n, L))
            if arr.ndim == 1:
                rows["biases"] = np.repeat(arr[None, :].astype(np.float64), K, axis=0)
            else:
                raw = np.ascontiguousarray(arr).view(np.uint8)  # compared as bytes, in the given dtype
                words = raw.view(np.uint64) if raw.shape[1] % 8 == 0 else raw
                chain = int(first_row_mismatch(words, reference))
                if chain >= 0:
                    disagree(chain)
                rows["biases"] = arr[first].astype(np.float64)
        if clamp_mask is not None:
            mask = _per_chain("clamp_mask", clamp_mask, n, L)
            values = _per_chain("clamp_values", clamp_values, n, L)
            if mask.ndim == 2 or values.ndim == 2:
                chain = int(first_clamp_mismatch(mask if mask.ndim == 2 else np.broadcast_to(mask, (n, L)),
                                                 values if values.ndim == 2 else np.broadcast_to(values, (n, L)),
                                                 reference))
                if chain >= 0:
                    disagree(chain)
            rows["clamp_mask"] = mask[first] if mask.ndim == 2 else np.repeat(mask[None, :], K, axis=0)
            rows["clamp_values"] = values[first] if values.ndim == 2 else np.repeat(values[None, :], K, axis=0)
        try:
            _check_group_rows("biases", "clamp_mask", "clamp_values", rows["biases"], rows["clamp_mask"],
                              rows["clamp_values"], lambda k: f"chain {int(first[k])}")
        except ConfigError:
            _full_rows(n, L, biases, clamp_mask, clamp_values)  # names the first bad chain
            raise

        tables = {name: _per_condition("condition_" + name, per_condition["condition_" + name], L)
                  for name in rows if per_condition["condition_" + name] is not None}
        if tables:
            if "biases" in tables:
                tables["biases"] = _numbers("condition_biases", tables["biases"]).astype(np.float64, copy=False)
            if "clamp_mask" in tables and tables["clamp_values"].shape[0] != tables["clamp_mask"].shape[0]:
                raise ConfigError(f"condition_clamp_values must have the rows of condition_clamp_mask "
                                  f"({tables['clamp_mask'].shape[0]}), got {tables['clamp_values'].shape[0]}")
            for name, table in tables.items():
                outside = (group_ids < 0) | (group_ids >= table.shape[0])
                if outside.any():
                    raise ConfigError(f"condition_ids must index the rows of condition_{name} "
                                      f"(0 to {table.shape[0] - 1}); got {int(group_ids[outside][0])}")
            _check_group_rows("condition_biases", "condition_clamp_mask", "condition_clamp_values",
                              tables.get("biases"), tables.get("clamp_mask"), tables.get("clamp_values"),
                              lambda k: f"row {k}")
            for name, table in tables.items():
                rows[name] = table[group_ids]
        return cls._of_groups(ids, group, group_ids, rows["biases"], rows["clamp_mask"], rows["clamp_values"])

    @classmethod
    def _from_rows(cls, n: int, L: int, biases, clamp_mask, clamp_values) -> ChainConditions:
        """Without ``condition_ids``: chains with equal rows share a condition (ids: the sorted rows' ranks)."""
        b, mask, values = _full_rows(n, L, biases, clamp_mask, clamp_values)
        parts = [a for a in (b, mask, values) if a is not None]
        if all(np.ndim(x) < 2 for x in (biases, clamp_mask, clamp_values)):
            ids = np.zeros(n, np.int64)  # one row for every chain: one condition
        else:
            key = np.concatenate([a.reshape(n, -1).view(np.uint8) for a in parts], axis=1)
            _, ids = np.unique(key, axis=0, return_inverse=True)
            ids = ids.reshape(-1).astype(np.int64)
        group, group_ids, first = _group_index(ids)
        return cls._of_groups(ids, group, group_ids, None if b is None else b[first],
                              None if mask is None else mask[first], None if values is None else values[first])

    @classmethod
    def _of_groups(cls, ids, group, group_ids, biases, mask, values) -> ChainConditions:
        if biases is not None:
            biases = np.ascontiguousarray(biases, np.float64)
        if mask is not None:
            mask = np.ascontiguousarray(mask, np.bool_)
            values = np.ascontiguousarray(values.astype(np.uint8) * mask)  # 0 off the mask
        return cls(ids, group, group_ids, biases, mask, values)

    @property
    def num_samples(self) -> int:
        return int(self.ids.shape[0])

    @property
    def num_groups(self) -> int:
        return int(self.group_ids.shape[0])

    @cached_property
    def layout(self) -> tuple[np.ndarray | None, np.ndarray]:
        """``(order, bounds)``: the chains sorted by group (each group in chain order), group ``g``
        at ``order[bounds[g]:bounds[g + 1]]``; ``order`` is ``None`` when the chains already are."""
        order, bounds, already = sort_by_group(self.group, self.num_groups)
        return (None if already else order), bounds

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """``(condition id, chain indices)`` of each distinct condition, in order of first appearance."""
        order, bounds = self.layout
        if order is None:
            order = np.arange(self.num_samples)
        return [(int(self.group_ids[g]), order[bounds[g]:bounds[g + 1]]) for g in range(self.num_groups)]

    @cached_property
    def biases(self) -> np.ndarray | None:
        """``(N, L)`` float64 linear biases of each chain, or ``None`` (built on first use)."""
        return None if self.group_biases is None else self.group_biases[self.group]

    @cached_property
    def clamp_mask(self) -> np.ndarray | None:
        """``(N, L)`` bool, the clamped units of each chain, or ``None`` (built on first use)."""
        return None if self.group_mask is None else self.group_mask[self.group]

    @cached_property
    def clamp_values(self) -> np.ndarray | None:
        """``(N, L)`` uint8 values of the clamped units, 0 where free, or ``None`` (built on first use)."""
        return None if self.group_values is None else self.group_values[self.group]

    def biases_of(self, chain: int) -> np.ndarray | None:
        return None if self.group_biases is None else self.group_biases[self.group[chain]]

    def mask_of(self, chain: int) -> np.ndarray | None:
        return None if self.group_mask is None else self.group_mask[self.group[chain]]

    def values_of(self, chain: int) -> np.ndarray | None:
        return None if self.group_values is None else self.group_values[self.group[chain]]

    @cached_property
    def _clamp_lists(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group, its clamped units and their values, CSR: ``(indptr, units, values)``."""
        assert self.group_mask is not None and self.group_values is not None
        g, units = np.nonzero(self.group_mask)
        indptr = np.zeros(self.num_groups + 1, np.int64)
        np.cumsum(np.bincount(g, minlength=self.num_groups), out=indptr[1:])
        return indptr, units.astype(np.int64), self.group_values[g, units]

    def apply_clamps(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` with every clamped unit at its value (in place; returned)."""
        if self.group_mask is not None:
            set_clamps(samples, self.group, *self._clamp_lists)
        return samples

    def moved_clamp(self, samples: np.ndarray) -> int:
        """The first chain of ``samples`` (``(N, L)``) whose clamped unit is not at its value, or -1."""
        if self.group_mask is None:
            return -1
        return int(first_moved_clamp(samples, self.group, *self._clamp_lists))


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
    assert values is not None  # a condition with clamped units has their values
    v = np.where(mask, values, 0).astype(np.float64)
    free = np.flatnonzero(~mask)
    i, j, w = bm.edges[:, 0], bm.edges[:, 1], bm.weights
    field = linear.copy()
    np.add.at(field, i, w * v[j])
    np.add.at(field, j, w * v[i])
    both_free = ~mask[i] & ~mask[j]
    both_clamped = mask[i] & mask[j]
    clamped_pairs = (w[both_clamped] * v[i[both_clamped]] * v[j[both_clamped]]).sum()
    offset = float(bm.offset + linear[mask] @ v[mask] + clamped_pairs)
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
    for (cid, chains), child in zip(groups, seed.spawn(len(groups)), strict=True):
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
