"""The model every sampler samples: :class:`BoltzmannMachine` and :func:`as_boltzmann_machine`.

A Boltzmann machine over ``z`` in {0,1}^L has the energy ``E(z) = b.z + sum_(i<j) W_ij z_i z_j``
(dimod's BINARY energy, sampled at beta = 1). :class:`BoltzmannMachine` holds ``b`` and ``W``
as validated numpy arrays, converts to and from :class:`dimod.BinaryQuadraticModel`, and
gives samplers what they derive from its structure (CSR adjacency, connected components).
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from ..topology import LatentGraph, as_index_array, csr_from_edges
from ..validation import check_real

__all__ = ["BoltzmannMachine", "as_boltzmann_machine"]


_NOT_REAL = {
    "c": ("complex numbers", "pass np.real(x) if the imaginary part is meant to be zero"),
    "b": ("booleans", "convert with np.asarray(x, float) if 0/1 is meant"),
}


def _real_array(name: str, values: Any) -> np.ndarray:
    """``values`` as float64 if they are real numbers: ``np.asarray(x, float)`` would drop an
    imaginary part with a mere warning and parse text such as ``"0.5"``."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "O" and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in arr.flat):
        return arr.astype(np.float64)
    what, hint = _NOT_REAL.get(arr.dtype.kind, (f"{arr.dtype} values", "convert to a float array first"))
    raise ValueError(f"{name} must be real numbers, got {what} (dtype {arr.dtype}); {hint}")


def _finite(name: str, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        bad = np.flatnonzero(~np.isfinite(values.ravel()))
        raise ValueError(
            f"{name} has {bad.size} non-finite value(s) (NaN or inf), first at flat index {bad[0]}; "
            "Boltzmann-machine parameters must be finite: check the training loss and learning rate"
        )


@dataclass(frozen=True, eq=False)
class BoltzmannMachine:
    """Parameters of ``E(z) = sum_i b_i z_i + sum_e w_e z_(i_e) z_(j_e)`` over ``z`` in {0,1}^L.

    This is exactly dimod's BINARY BQM energy (linear = b, quadratic = W) at beta = 1.

    Attributes:
        linear: ``(L,)`` float64 biases ``b``.
        edges: ``(E, 2)`` int64 coupled pairs, ``i < j``.
        weights: ``(E,)`` float64 couplings ``W_ij``.
        offset: constant energy offset (kept so dimod energies round-trip).

    Example:
        >>> bm = BoltzmannMachine.from_arrays([0.5, -1.0], [[0.0, 2.0], [2.0, 0.0]])
        >>> bm.energies(np.array([[1, 1], [0, 1]], dtype=np.uint8)).tolist()
        [1.5, -1.0]
    """

    linear: np.ndarray
    edges: np.ndarray
    weights: np.ndarray
    offset: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def num_variables(self) -> int:
        return int(self.linear.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edges.shape[0])

    @classmethod
    def from_arrays(
        cls,
        linear: Any,
        quadratic: Any = None,
        graph: LatentGraph | np.ndarray | None = None,
        offset: float | np.floating | np.integer = 0.0,
    ) -> BoltzmannMachine:
        """Validate and normalise numpy-like parameters.

        Args:
            linear: ``(L,)`` biases.
            quadratic: couplings as a dense ``(L, L)`` matrix (symmetric, or upper
                triangular), a pair ``(edges, weights)`` with ``edges`` of shape
                ``(E, 2)``, a triple ``(rows, cols, weights)``, or ``None`` for no couplings.
            graph: optional :class:`LatentGraph` or ``(E, 2)`` edge array fixing which
                pairs are coupled. With a dense matrix, only these entries are read, so a
                coupling that happens to be exactly 0 keeps the structure (and a
                persistent sampler's colouring) stable.
            offset: constant energy offset.

        Raises:
            ValueError: on non-finite values, wrong shapes, self-loops, out-of-range
                indices or a non-symmetric dense matrix; on indices that are not integers
                (``0.9`` is never truncated to unit 0, and whole floats are refused too)
                and parameters that are not real numbers (complex, boolean or text values).
        """
        b = _real_array("linear biases", linear)
        if b.ndim != 1 or b.size == 0:
            raise ValueError(f"linear biases must be a non-empty 1-D array, got shape {b.shape}")
        _finite("linear biases", b)
        n = b.shape[0]
        fixed_edges = None
        if graph is not None:
            fixed_edges = graph.edges if isinstance(graph, LatentGraph) else as_index_array("graph edges", graph)
            if isinstance(graph, LatentGraph) and graph.num_nodes != n:
                raise ValueError(f"graph {graph.name} has {graph.num_nodes} units but linear has {n}")
        if quadratic is None:
            edges = np.zeros((0, 2), np.int64) if fixed_edges is None else fixed_edges
            weights = np.zeros(edges.shape[0])
        elif isinstance(quadratic, tuple):
            if len(quadratic) == 2:
                edges = as_index_array("coupling indices", quadratic[0]).reshape(-1, 2)
                weights = _real_array("couplings", quadratic[1]).reshape(-1)
            elif len(quadratic) == 3:
                edges = np.stack([as_index_array("coupling indices", quadratic[k]).ravel() for k in (0, 1)], 1)
                weights = _real_array("couplings", quadratic[2]).reshape(-1)
            else:
                raise ValueError("quadratic as a tuple must be (edges, weights) or (rows, cols, weights)")
            if weights.shape[0] != edges.shape[0]:
                raise ValueError(f"{edges.shape[0]} edges but {weights.shape[0]} weights")
        else:
            w = _real_array("coupling matrix", quadratic)
            if w.shape != (n, n):
                raise ValueError(f"a dense coupling matrix must have shape ({n}, {n}), got {w.shape}")
            _finite("coupling matrix", w)
            lower = np.tril(w, -1)
            if np.any(lower != 0) and not np.allclose(w, w.T, rtol=1e-6, atol=1e-9):
                raise ValueError("a dense coupling matrix must be symmetric or upper triangular")
            if fixed_edges is None:
                i, j = np.nonzero(np.triu(w, 1))
                edges = np.stack([i, j], 1).astype(np.int64)
            else:
                edges = np.sort(np.asarray(fixed_edges, np.int64).reshape(-1, 2), axis=1)
            weights = w[edges[:, 0], edges[:, 1]]
        _finite("couplings", weights)
        if edges.size:
            if edges.min() < 0 or edges.max() >= n:
                raise ValueError(f"coupling indices must lie in 0..{n - 1}")
            if np.any(edges[:, 0] == edges[:, 1]):
                raise ValueError("self-couplings W_ii are not allowed: put them in the linear biases (z_i^2 = z_i)")
            swap = edges[:, 0] > edges[:, 1]
            if np.any(swap):
                edges = np.where(swap[:, None], edges[:, ::-1], edges)
        offset = check_real("offset", offset)
        return cls(b, np.ascontiguousarray(edges), np.ascontiguousarray(weights), offset)

    @classmethod
    def from_bqm(cls, bqm: dimod.BinaryQuadraticModel) -> tuple[BoltzmannMachine, list[Hashable]]:
        """Convert any BQM (either vartype) to BINARY arrays.

        Returns:
            The machine and the variable labels, in the order of its units.
        """
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        if bqm.num_variables == 0:
            raise ValueError("the BQM has no variables")
        binary = bqm.change_vartype(dimod.BINARY, inplace=False) if bqm.vartype is dimod.SPIN else bqm
        labels = list(binary.variables)
        # By field: dimod types the result as a union with the 4-field LabelledBQMVectors.
        vectors = binary.to_numpy_vectors(variable_order=labels)
        rows, cols, quad = vectors.quadratic
        return cls.from_arrays(vectors.linear_biases, (rows, cols, quad), offset=vectors.offset), labels

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Symmetric CSR adjacency with per-entry weights ``(indptr, neighbors, weights)``."""
        if "csr" not in self._cache:
            indptr, nbrs, eidx = csr_from_edges(self.num_variables, self.edges)
            self._cache["csr"] = (indptr, nbrs, self.weights[eidx])
        return self._cache["csr"]

    def matches(self, graph: LatentGraph | None) -> bool:
        """Whether ``graph`` has exactly this machine's units and coupled pairs."""
        return (
            graph is not None
            and graph.num_nodes == self.num_variables
            and graph.edges.shape == self.edges.shape
            and np.array_equal(graph.edges, np.unique(self.edges, axis=0))
        )

    def structure_key(self) -> tuple[int, bytes]:
        """A hashable fingerprint of ``(L, edges)``; samplers cache colourings on it."""
        return self.num_variables, self.edges.tobytes()

    def components(self) -> tuple[int, np.ndarray]:
        """Connected components of the coupling graph: ``(count, label of each unit)``.

        Example:
            >>> bm = BoltzmannMachine.from_arrays([0.0, 0.0, 0.0], ([[0, 1]], [1.0]))
            >>> n, labels = bm.components()
            >>> n, labels.tolist()
            (2, [0, 0, 1])
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.num_variables
        adj = coo_matrix((np.ones(self.num_edges), (self.edges[:, 0], self.edges[:, 1])), shape=(n, n))
        count, labels = connected_components(adj, directed=False)
        return int(count), labels

    def energies(self, samples: np.ndarray) -> np.ndarray:
        """Energies of an ``(N, L)`` array of 0/1 samples (float64, includes the offset)."""
        z = np.asarray(samples, dtype=np.float64)
        e = z @ self.linear + self.offset
        if self.num_edges:
            e += (z[:, self.edges[:, 0]] * z[:, self.edges[:, 1]]) @ self.weights
        return e

    def to_bqm(self) -> dimod.BinaryQuadraticModel:
        """The equivalent BINARY :class:`dimod.BinaryQuadraticModel`."""
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            self.linear, (self.edges[:, 0], self.edges[:, 1], self.weights), self.offset, dimod.BINARY
        )


def as_boltzmann_machine(model: Any, quadratic: Any = None, graph: Any = None) -> BoltzmannMachine:
    """Accept a :class:`BoltzmannMachine`, a BQM or ``(linear, quadratic)`` arrays."""
    if isinstance(model, BoltzmannMachine):
        return model
    if isinstance(model, dimod.BinaryQuadraticModel):
        return BoltzmannMachine.from_bqm(model)[0]
    return BoltzmannMachine.from_arrays(model, quadratic, graph=graph)
