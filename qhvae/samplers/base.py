"""The sampler contract: :class:`BoltzmannSampler`, :class:`SampleResult` and the check of their output.

Every qhvae sampler is a :class:`dimod.Sampler`: ``sample(bqm, num_reads=N, seed=S)``
returns a :class:`dimod.SampleSet` of Boltzmann samples of ``bqm`` at ``beta = 1`` in
the bqm's own vartype, so any Ocean tool can use it. Training uses the fast array path
:meth:`BoltzmannSampler.sample_arrays`, which takes ``b`` and ``W`` as numpy arrays and
returns an ``(N, L)`` uint8 array with no per-call dict building.

Both paths validate what goes in (:class:`~qhvae.samplers.machine.BoltzmannMachine` checks
finite parameters, shapes, vartypes) and what comes out (:func:`check_samples`: shape, values
in {0, 1}), and errors name the sampler and the package it came from.

The rest of the sampler toolkit lives beside it, one job per module: the model sampled
(:mod:`qhvae.samplers.machine`), spin, seed and sample-set conversions
(:mod:`qhvae.samplers.conversions`), the time limit on plugin calls
(:mod:`qhvae.samplers.timeout`) and the wrapper of any dimod sampler
(:mod:`qhvae.samplers.dimod_adapter`).

Example:
    >>> import dimod, qhvae
    >>> sampler = qhvae.get_sampler("exact")
    >>> bqm = dimod.BinaryQuadraticModel({0: 1.0, 1: -1.0}, {(0, 1): 2.0}, 0.0, "BINARY")
    >>> sampler.sample(bqm, num_reads=5, seed=1).record.sample.shape
    (5, 2)
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import dimod
import numpy as np

from ..exceptions import SamplerError, SamplerOutputError
from ..topology import LatentGraph
from ..validation import check_int
from .conditions import ChainConditions, sample_by_condition
from .conversions import SeedLike, seed_sequence
from .machine import BoltzmannMachine
from .timeout import call_with_timeout

__all__ = ["BoltzmannSampler", "SampleResult", "adopt_graph", "check_samples"]


def adopt_graph(sampler: Any, graph: Any) -> Any:
    """Give ``sampler`` the model's ``graph`` if it takes one and was built without it.

    Block Gibbs and the annealers colour their updates by a graph: built by name (``"gibbs"``
    from a command line), they have ``graph=None`` until the model they sample supplies its
    own colouring. A sampler with a graph of its own, or with no ``graph`` at all, is unchanged.

    Returns:
        ``sampler``, for chaining.

    Example:
        >>> import qhvae
        >>> g = qhvae.topology.chimera(1)
        >>> adopt_graph(qhvae.get_sampler("gibbs"), g).graph is g
        True
    """
    if getattr(sampler, "graph", "absent") is None:
        sampler.graph = graph
    return sampler


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
    * ``nodelist``/``edgelist`` when the sampler has a native working graph;
    * :meth:`_sample_conditioned` when the sampler conditions natively (clamped units and
      per-chain biases in one pass); without it, every sampler conditions correctly through
      the reduced machines, one :meth:`_sample` call per distinct condition
      (:mod:`qhvae.samplers.conditions`).

    Example:
        >>> import qhvae
        >>> s = qhvae.get_sampler("gibbs", num_sweeps=5)
        >>> s.sample_arrays([0.0, 0.0], None, 4, seed=0).shape
        (4, 2)
    """

    name: str = "abstract"  # the class's; the registry gives an instance the name it was registered under
    description: ClassVar[str] = ""
    sampler_parameters: ClassVar[Mapping[str, Any]] = {}
    persistent: ClassVar[bool] = False
    provides_log_z: ClassVar[bool] = False
    effective_beta: float = 1.0
    origin: str = "qhvae"
    call_timeout: float | None = None

    @property
    def parameters(self) -> dict[str, list]:
        params: dict[str, list] = {"num_reads": [], "seed": []}
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

    def _sample_conditioned(self, bm: BoltzmannMachine, conditions: ChainConditions, num_samples: int,
                            seed: np.random.SeedSequence, **params) -> SampleResult:
        """Samples of every chain under its own condition (clamps and biases).

        The default is correct for any sampler without state between calls: one
        :meth:`_sample` call per distinct condition, on the machine reduced to that
        condition's free units. A sampler that can condition in one pass (per-chain biases in
        its kernel, clamped units skipped) overrides it, and so must a persistent one that
        keeps chains per condition (``conditions.group_ids``), since these calls do not say
        which condition they are for. ``info["log_z_per_condition"]`` (and ``..._stderr``) hold, per condition
        id, the ``log Z`` of a sampler that estimates one.
        """
        samples, infos = sample_by_condition(bm, conditions, seed,
                                             lambda machine, n, child: self._sample(machine, n, child, **params))
        info: dict[str, Any] = {"conditions": len(infos)}
        if infos and all("log_z" in i for i in infos.values()):
            info["log_z_per_condition"] = {cid: float(i["log_z"]) for cid, i in infos.items()}
            info["log_z_stderr_per_condition"] = {cid: float(i.get("log_z_stderr", float("nan")))
                                                  for cid, i in infos.items()}
        return SampleResult(samples, info)

    def sample_bm(self, bm: BoltzmannMachine, num_samples: int, *, seed: SeedLike = None,
                  conditions: ChainConditions | None = None, **params) -> SampleResult:
        """Draw validated samples of a :class:`BoltzmannMachine` with the sampler's info dict.

        Args:
            bm: the machine.
            num_samples: samples (chains) ``N``.
            seed: seed of the call.
            conditions: per-chain clamps and biases (:meth:`ChainConditions.build`), or ``None``.
            **params: sampler-specific parameters.
        """
        check_int("num_samples", num_samples)
        self._check_params(params)
        if conditions is not None and conditions.num_samples != int(num_samples):
            raise ValueError(f"conditions are for {conditions.num_samples} chains, but num_samples is {num_samples}")
        try:
            seq = seed_sequence(seed)
            if conditions is None:
                call = lambda: self._sample(bm, int(num_samples), seq, **params)  # noqa: E731
            else:
                call = lambda: self._sample_conditioned(bm, conditions, int(num_samples), seq, **params)  # noqa: E731
            result = call_with_timeout(call, self.call_timeout, self.label)
        except (ValueError, TypeError, SamplerError):
            raise
        except Exception as exc:
            raise SamplerError(f"{self.label} failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, SampleResult):
            result = SampleResult(result)
        result.samples = check_samples(result.samples, int(num_samples), bm.num_variables, self.label)
        if conditions is not None:
            chain = conditions.moved_clamp(result.samples)
            if chain >= 0:
                raise SamplerOutputError(f"{self.label} returned samples whose clamped units moved (chain {chain})")
        return result

    def sample_arrays(
        self,
        linear: Any,
        quadratic: Any,
        num_samples: int,
        *,
        seed: SeedLike = None,
        graph: LatentGraph | np.ndarray | None = None,
        biases: Any = None,
        clamp_mask: Any = None,
        clamp_values: Any = None,
        condition_ids: Any = None,
        condition_biases: Any = None,
        condition_clamp_mask: Any = None,
        condition_clamp_values: Any = None,
        **params,
    ) -> np.ndarray:
        """Fast path: Boltzmann samples of ``(b, W)`` as an ``(N, L)`` uint8 array.

        Conditional sampling: each chain may have its own linear biases and clamped units, so
        one call samples many conditions (e.g. one per class of a batch). Give them per chain
        (``biases``, ``clamp_mask``, ``clamp_values``: one row per chain, or one row for every
        chain) or per condition (``condition_biases``, ``condition_clamp_mask``,
        ``condition_clamp_values``: one row per condition id, chain ``n`` taking row
        ``condition_ids[n]``); the per-condition form never builds or checks ``(N, L)``
        arrays, the cheapest when many chains share few conditions.

        Args:
            linear: ``(L,)`` biases ``b``.
            quadratic: couplings, see :meth:`BoltzmannMachine.from_arrays`.
            num_samples: number of samples ``N``.
            seed: integer seed for reproducible draws.
            graph: fixes the coupled pairs when ``quadratic`` is a dense matrix.
            biases: ``(N, L)`` (or ``(L,)``) linear biases of each chain, instead of ``linear``.
            clamp_mask: ``(N, L)`` (or ``(L,)``) bool: the units held fixed in each chain.
            clamp_values: their 0/1 values, same shape (entries off the mask are ignored).
            condition_ids: ``(N,)`` integers naming each chain's condition (default: equal
                rows, one condition); a persistent sampler keeps its chains per id. Chains
                with one id must have equal per-chain rows (checked in one pass). Required
                with the per-condition arguments, whose rows they index: ``0 <= id < K``.
            condition_biases: ``(K, L)`` linear biases per condition: row ``k`` for the chains
                whose id is ``k`` (instead of ``biases``).
            condition_clamp_mask: ``(K, L)`` bool, the clamped units of each condition (instead
                of ``clamp_mask``; with ``condition_clamp_values``).
            condition_clamp_values: ``(K, L)`` their 0/1 values (entries off the mask are ignored).
            **params: sampler-specific parameters.

        Raises:
            ConfigError: a condition argument with a wrong shape, dtype or value, named; a
                per-chain and a per-condition form of one argument together; ids outside the
                rows of a per-condition argument.

        Example:
            >>> import qhvae
            >>> s = qhvae.get_sampler("exact")
            >>> z = s.sample_arrays([0.0, 0.0, 0.0], ([[0, 1], [1, 2]], [-3.0, -3.0]), 4, seed=0,
            ...                     clamp_mask=[False, True, False], clamp_values=[0, 1, 0])
            >>> z[:, 1].tolist()
            [1, 1, 1, 1]
            >>> z = s.sample_arrays([0.0, 0.0, 0.0], ([[0, 1], [1, 2]], [-3.0, -3.0]), 4, seed=0,
            ...                     condition_biases=[[-9.0, 0.0, 0.0], [9.0, 0.0, 0.0]], condition_ids=[0, 1, 0, 1])
            >>> z[:, 0].tolist()
            [1, 0, 1, 0]
        """
        bm = BoltzmannMachine.from_arrays(linear, quadratic, graph=graph)
        conditions = ChainConditions.build(num_samples, bm.num_variables, biases=biases, clamp_mask=clamp_mask,
                                           clamp_values=clamp_values, condition_ids=condition_ids,
                                           condition_biases=condition_biases, condition_clamp_mask=condition_clamp_mask,
                                           condition_clamp_values=condition_clamp_values)
        return self.sample_bm(bm, num_samples, seed=seed, conditions=conditions, **params).samples

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
                (np.zeros((int(num_reads), 0), np.int8), []),
                bqm.vartype,
                energy=np.full(int(num_reads), float(bqm.offset)),
            )
        bm, labels = BoltzmannMachine.from_bqm(bqm)
        result = self.sample_bm(bm, num_reads, seed=seed, **params)
        energy = bm.energies(result.samples)
        sampleset = dimod.SampleSet.from_samples(
            # int8, not uint8: the SPIN conversion below must be able to hold -1.
            (result.samples.astype(np.int8), labels),
            dimod.BINARY,
            energy=energy,
            info=dict(result.info),
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
