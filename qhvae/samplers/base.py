"""The sampler contract: :class:`BoltzmannSampler` and the arrays it works on.

Every qhvae sampler is a :class:`dimod.Sampler`: ``sample(bqm, num_reads=N, seed=S)``
returns a :class:`dimod.SampleSet` of Boltzmann samples of ``bqm`` at ``beta = 1`` in
the bqm's own vartype, so any Ocean tool can use it. Training uses the fast array path
:meth:`BoltzmannSampler.sample_arrays`, which takes ``b`` and ``W`` as numpy arrays and
returns an ``(N, L)`` uint8 array with no per-call dict building.

Both paths validate what goes in (finite parameters, shapes, vartypes) and what comes
out (shape, values in {0, 1}), and errors name the sampler and the package it came from.

Example:
    >>> import dimod, qhvae
    >>> sampler = qhvae.get_sampler("exact")
    >>> bqm = dimod.BinaryQuadraticModel({0: 1.0, 1: -1.0}, {(0, 1): 2.0}, 0.0, "BINARY")
    >>> sampler.sample(bqm, num_reads=5, seed=1).record.sample.shape
    (5, 2)
"""

from __future__ import annotations

import abc
import numbers
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar, Hashable, Mapping, Sequence

import dimod
import numpy as np

from ..exceptions import SamplerError, SamplerOutputError, SamplerTimeoutError
from ..topology import LatentGraph, as_index_array, csr_from_edges
from ..validation import check_int, check_real

__all__ = [
    "BoltzmannMachine",
    "BoltzmannSampler",
    "SampleResult",
    "SamplerError",
    "SamplerOutputError",
    "SamplerTimeoutError",
    "DimodSamplerAdapter",
    "as_boltzmann_machine",
    "check_samples",
    "samples_in_order",
    "seed_sequence",
    "spins_to_binary",
    "binary_to_spins",
]


def call_with_timeout(fn, timeout: float | None, what: str):
    """Run ``fn()``; with a timeout, in a daemon thread so a hung plugin cannot hold the caller.

    The thread of a call that timed out is abandoned (Python cannot kill it), but the
    caller gets control back and the process can still exit.
    """
    if timeout is None:
        return fn()
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"qhvae:{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SamplerTimeoutError(f"{what} did not return within {timeout:g} s (QHVAE_PLUGIN_TIMEOUT)")
    if "error" in box:
        raise box["error"]
    return box["value"]


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


_NOT_REAL = {"c": ("complex numbers", "pass np.real(x) if the imaginary part is meant to be zero"),
             "b": ("booleans", "convert with np.asarray(x, float) if 0/1 is meant")}


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
        offset: float = 0.0,
    ) -> "BoltzmannMachine":
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
    def from_bqm(cls, bqm: dimod.BinaryQuadraticModel) -> tuple["BoltzmannMachine", list[Hashable]]:
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
        linear, (rows, cols, quad), offset = binary.to_numpy_vectors(variable_order=labels)
        return cls.from_arrays(linear, (rows, cols, quad), offset=offset), labels

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Symmetric CSR adjacency with per-entry weights ``(indptr, neighbors, weights)``."""
        if "csr" not in self._cache:
            indptr, nbrs, eidx = csr_from_edges(self.num_variables, self.edges)
            self._cache["csr"] = (indptr, nbrs, self.weights[eidx])
        return self._cache["csr"]

    def matches(self, graph: LatentGraph | None) -> bool:
        """Whether ``graph`` has exactly this machine's units and coupled pairs."""
        return (graph is not None and graph.num_nodes == self.num_variables
                and graph.edges.shape == self.edges.shape
                and np.array_equal(graph.edges, np.unique(self.edges, axis=0)))

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


def check_samples(samples: Any, num_samples: int, num_variables: int, who: str) -> np.ndarray:
    """Validate a sampler's output and return it as a C-contiguous ``(N, L)`` uint8 array.

    Raises:
        SamplerOutputError: naming ``who`` when the shape is wrong or any value is not 0/1.

    Example:
        >>> check_samples([[0, 1]], 1, 2, "demo").dtype
        dtype('uint8')
    """
    try:
        arr = np.asarray(samples)
    except Exception as exc:  # ragged lists and the like
        raise SamplerOutputError(f"{who} returned samples that are not an array: {exc}") from exc
    if arr.shape != (num_samples, num_variables):
        raise SamplerOutputError(
            f"{who} returned samples of shape {arr.shape}; expected ({num_samples}, {num_variables}) "
            "(num_samples x num_variables)"
        )
    if arr.dtype != np.uint8:
        if arr.dtype.kind not in "biuf":
            raise SamplerOutputError(f"{who} returned samples of dtype {arr.dtype}; expected 0/1 integers")
        bad = ~np.isin(arr, (0, 1))
        if np.any(bad):
            values = np.unique(arr[bad])[:5].tolist()
            hint = " (looks like spins: convert with z = (s + 1) / 2)" if np.isin(values, (-1,)).any() else ""
            raise SamplerOutputError(f"{who} returned values {values} outside {{0, 1}}{hint}")
        arr = arr.astype(np.uint8)
    elif arr.size and arr.max() > 1:
        raise SamplerOutputError(f"{who} returned values {np.unique(arr[arr > 1])[:5].tolist()} outside {{0, 1}}")
    return np.ascontiguousarray(arr)


@dataclass
class SampleResult:
    """Samples of the array path with the sampler's extra information (e.g. ``log_z``)."""

    samples: np.ndarray
    info: dict = field(default_factory=dict)


class BoltzmannSampler(dimod.Sampler, abc.ABC):
    """Base class of every qhvae sampler: a :class:`dimod.Sampler` with a fast array path.

    Subclasses set :attr:`name` and :attr:`description`, list their parameters in
    :attr:`sampler_parameters` and implement :meth:`_sample`. Optional capabilities:

    * ``persistent = True`` and :meth:`get_state`/:meth:`set_state` when the sampler
      keeps chains between calls that a checkpoint must save;
    * ``provides_log_z = True`` when ``info`` carries ``log_z`` and ``log_z_stderr``;
    * ``effective_beta`` when the samples follow ``exp(-beta_eff E)`` with
      ``beta_eff != 1`` (annealers);
    * ``nodelist``/``edgelist`` when the sampler has a native working graph.

    Example:
        >>> import qhvae
        >>> s = qhvae.get_sampler("gibbs", num_sweeps=5)
        >>> s.sample_arrays([0.0, 0.0], None, 4, seed=0).shape
        (4, 2)
    """

    name: ClassVar[str] = "abstract"
    description: ClassVar[str] = ""
    sampler_parameters: ClassVar[Mapping[str, Any]] = {}
    persistent: ClassVar[bool] = False
    provides_log_z: ClassVar[bool] = False
    effective_beta: float = 1.0
    origin: str = "qhvae"
    call_timeout: float | None = None

    @property
    def parameters(self) -> dict[str, list]:
        params = {"num_reads": [], "seed": []}
        params.update({k: [] for k in self.sampler_parameters})
        return params

    @property
    def properties(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "persistent": self.persistent,
            "provides_log_z": self.provides_log_z,
            "effective_beta": self.effective_beta,
        }

    @property
    def label(self) -> str:
        """``'name' (from package origin)``, used in every error message."""
        return f"sampler {self.name!r} (from package {self.origin})"

    def _check_params(self, params: Mapping[str, Any]) -> None:
        unknown = sorted(set(params) - set(self.sampler_parameters))
        if unknown:
            accepted = ", ".join(sorted(self.sampler_parameters)) or "none"
            raise ValueError(f"{self.label} does not accept parameter(s) {unknown}; accepted: {accepted}")

    @abc.abstractmethod
    def _sample(self, bm: BoltzmannMachine, num_samples: int, seed: np.random.SeedSequence, **params) -> SampleResult:
        """Draw ``num_samples`` samples of ``bm`` at beta = 1 (subclasses implement)."""

    def sample_bm(
        self, bm: BoltzmannMachine, num_samples: int, *, seed: SeedLike = None, **params
    ) -> SampleResult:
        """Draw validated samples of a :class:`BoltzmannMachine` with the sampler's info dict."""
        check_int("num_samples", num_samples)
        self._check_params(params)
        try:
            seq = seed_sequence(seed)
            result = call_with_timeout(
                lambda: self._sample(bm, int(num_samples), seq, **params), self.call_timeout, self.label
            )
        except (ValueError, TypeError, SamplerError):
            raise
        except Exception as exc:
            raise SamplerError(f"{self.label} failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, SampleResult):
            result = SampleResult(result)
        result.samples = check_samples(result.samples, int(num_samples), bm.num_variables, self.label)
        return result

    def sample_arrays(
        self,
        linear: Any,
        quadratic: Any,
        num_samples: int,
        *,
        seed: SeedLike = None,
        graph: LatentGraph | np.ndarray | None = None,
        **params,
    ) -> np.ndarray:
        """Fast path: Boltzmann samples of ``(b, W)`` as an ``(N, L)`` uint8 array.

        Args:
            linear: ``(L,)`` biases ``b``.
            quadratic: couplings, see :meth:`BoltzmannMachine.from_arrays`.
            num_samples: number of samples ``N``.
            seed: integer seed for reproducible draws.
            graph: fixes the coupled pairs when ``quadratic`` is a dense matrix.
            **params: sampler-specific parameters.
        """
        bm = BoltzmannMachine.from_arrays(linear, quadratic, graph=graph)
        return self.sample_bm(bm, num_samples, seed=seed, **params).samples

    def sample(self, bqm: dimod.BinaryQuadraticModel, num_reads: int = 100, seed: SeedLike = None, **params):
        """Boltzmann samples of ``bqm`` at beta = 1, as a SampleSet in the bqm's vartype.

        A BQM with no variables has a single state: ``num_reads`` empty samples, each with
        the BQM's offset as its energy (what dimod's own samplers return).

        Example:
            >>> import dimod, qhvae
            >>> empty = dimod.BinaryQuadraticModel("SPIN")
            >>> len(qhvae.get_sampler("gibbs").sample(empty, num_reads=3))
            3
        """
        check_int("num_reads", num_reads)  # named as the caller named it, not sample_bm's num_samples
        if isinstance(bqm, dimod.BinaryQuadraticModel) and bqm.num_variables == 0:
            self._check_params(params)
            seed_sequence(seed)
            return dimod.SampleSet.from_samples(
                (np.zeros((int(num_reads), 0), np.int8), []), bqm.vartype,
                energy=np.full(int(num_reads), float(bqm.offset)),
            )
        bm, labels = BoltzmannMachine.from_bqm(bqm)
        result = self.sample_bm(bm, num_reads, seed=seed, **params)
        energy = bm.energies(result.samples)
        sampleset = dimod.SampleSet.from_samples(
            # int8, not uint8: the SPIN conversion below must be able to hold -1.
            (result.samples.astype(np.int8), labels), dimod.BINARY, energy=energy, info=dict(result.info)
        )
        if bqm.vartype is dimod.SPIN:
            sampleset = sampleset.change_vartype(dimod.SPIN, inplace=False)
        return sampleset

    def get_state(self) -> dict[str, np.ndarray]:
        """Persistent state to checkpoint (empty for stateless samplers)."""
        return {}

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""
        if state:
            raise ValueError(f"{self.label} is stateless but got state keys {sorted(state)}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class DimodSamplerAdapter(BoltzmannSampler):
    """Wrap any :class:`dimod.Sampler` that draws Boltzmann samples at beta = 1 as a qhvae sampler.

    The wrapped sampler gets a BINARY BQM and its output is validated like any other.

    Args:
        sampler: the dimod sampler to wrap.
        name: name reported in errors and listings.
        **default_params: parameters passed to every ``sampler.sample`` call.

    Example:
        >>> from dwave.samplers import SimulatedAnnealingSampler
        >>> s = DimodSamplerAdapter(SimulatedAnnealingSampler(), name="sa-raw", beta_range=(1, 1))
        >>> s.sample_arrays([0.0, 1.0], None, 3, seed=2).shape
        (3, 2)
    """

    description = "any dimod sampler, wrapped"

    def __init__(self, sampler: dimod.Sampler, name: str | None = None, **default_params):
        if not isinstance(sampler, dimod.Sampler):
            raise TypeError(f"expected a dimod.Sampler, got {type(sampler).__name__}")
        self.sampler = sampler
        self.name = name or type(sampler).__name__
        self.default_params = default_params

    @property
    def sampler_parameters(self) -> dict[str, Any]:  # type: ignore[override]
        return {k: v for k, v in self.sampler.parameters.items() if k not in ("num_reads", "seed")}

    def _sample(self, bm, num_samples, seed, **params):
        kwargs = {**self.default_params, **params}
        if "seed" in self.sampler.parameters:
            # 31 bits: dwave-samplers rejects seeds >= 2**31 despite its message saying 2**32.
            kwargs["seed"] = int(seed.generate_state(1, dtype=np.uint32)[0] >> 1)
        if "num_reads" in self.sampler.parameters:
            kwargs["num_reads"] = num_samples
        sampleset = self.sampler.sample(bm.to_bqm(), **kwargs)
        if not isinstance(sampleset, dimod.SampleSet):
            raise SamplerOutputError(f"{self.label} returned {type(sampleset).__name__}, not a dimod.SampleSet")
        if sampleset.vartype is dimod.SPIN:
            sampleset = sampleset.change_vartype(dimod.BINARY, inplace=False)
        try:
            samples = samples_in_order(sampleset, range(bm.num_variables))
        except KeyError as exc:
            raise SamplerOutputError(f"{self.label} returned samples over the wrong variables: "
                                     f"variable {exc} is missing") from exc
        return SampleResult(samples, dict(sampleset.info))
