"""Conversions between the forms samplers exchange: spins and 0/1 units, seeds, sample sets.

qhvae works in 0/1 units ``z``; annealers and Ising models work in spins ``s = 2 z - 1``
(:func:`spins_to_binary`, :func:`binary_to_spins`). A user seed becomes a
:class:`numpy.random.SeedSequence` in one place (:func:`seed_sequence`), and a
:class:`dimod.SampleSet` becomes a plain ``(N, L)`` array in a given variable order
(:func:`samples_in_order`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import dimod
import numpy as np

__all__ = ["SeedLike", "binary_to_spins", "samples_in_order", "seed_sequence", "spins_to_binary"]


def spins_to_binary(spins: np.ndarray) -> np.ndarray:
    """Map spins ``s`` in {-1, +1} to binary ``z = (s + 1) / 2`` as int8 (the one conversion qhvae uses).

    Example:
        >>> spins_to_binary(np.array([-1, 1, 1])).tolist()
        [0, 1, 1]
    """
    return ((np.asarray(spins, dtype=np.int8) + 1) // 2).astype(np.int8)


def binary_to_spins(z: np.ndarray) -> np.ndarray:
    """Map binary ``z`` in {0, 1} to spins ``s = 2 z - 1`` as int8.

    Example:
        >>> binary_to_spins(np.array([0, 1])).tolist()
        [-1, 1]
    """
    return (2 * np.asarray(z, dtype=np.int8) - 1).astype(np.int8)


SeedLike = int | np.random.SeedSequence | None


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise a user seed to a :class:`numpy.random.SeedSequence`.

    Raises:
        ValueError: for a negative or non-integer seed.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed}")
    return np.random.SeedSequence(int(seed))


def samples_in_order(sampleset: dimod.SampleSet, labels: Sequence[Hashable]) -> np.ndarray:
    """The sampleset's samples with columns in ``labels`` order, one row per read.

    Aggregated answers (``num_occurrences > 1``) are expanded.

    Raises:
        KeyError: for a label the sampleset does not have.

    Example:
        >>> ss = dimod.SampleSet.from_samples([{"a": 0, "b": 1}], "BINARY", 0.0, num_occurrences=[2])
        >>> samples_in_order(ss, ["b", "a"]).tolist()
        [[1, 0], [1, 0]]
    """
    position = {v: i for i, v in enumerate(sampleset.variables)}
    samples = sampleset.record.sample[:, [position[v] for v in labels]]
    counts = sampleset.record.num_occurrences
    return np.repeat(samples, counts, axis=0) if np.any(counts != 1) else samples
