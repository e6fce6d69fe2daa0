"""Boltzmann samples from a D-Wave QPU, or anything shaped like one (paper Sec. II, App. B, C).

The prior ``exp(-E_{b,W}(z))`` is sampled by programming the device with the spin form
of ``(b, W)`` divided by the current estimate of the device's effective inverse
temperature: with ``z = (s + 1) / 2``,

    h_i = (b_i / 2 + sum_(j ~ i) W_ij / 4) / beta_eff,   J_ij = (W_ij / 4) / beta_eff,

so that the device's ``exp(-beta_eff H_{h,J})`` is ``exp(-E_{b,W})`` (up to a constant).
Values outside the device's ``h_range``/``j_range`` are clipped and counted.
``auto_scale=False`` (the scale carries ``beta_eff``), ``answer_mode="raw"`` (one row per
read), client-side spin-reversal transforms (paper: 5 transforms of 200 reads; a balanced
design, done on numpy arrays because dwave.preprocessing's composite costs more than the
whole client-side time budget, see :meth:`QPUSampler._sample_transformed`), and an anneal
schedule from a named shape validated against the device's properties before any call.
After each call ``beta_eff`` is re-estimated from the returned samples
(:class:`~qhvae.samplers.qpu.temperature.BetaEffEstimator`). A fresh sampler calibrates
on its first call that carries temperature information: when the reads' own estimate of
``beta_eff`` disagrees with the programmed one beyond its statistical error, it
reprograms and reads again before handing anything back, so the first samples training
sees are already at the model's temperature (``calibrate``).

The latent graph is placed on the device's working graph by :mod:`qhvae.hardware`; the
machine is programmed and the answers read back through
:class:`~qhvae.samplers.qpu.layout.DeviceLayout`, which samples the units on qubits the
device lacks exactly from their bias (a masked prior gives them no couplings), and
:meth:`QPUSampler.masks_for` gives the prior its masks.

Conditional calls (:class:`~qhvae.samplers.conditions.ChainConditions`) group the reads by
condition. ``condition_with="h"`` (default) programs each condition's own (reduced) machine:
one programming per distinct ``h``. ``condition_with="flux_biases"`` programs the machine's
own ``h`` and ``J`` for every condition of biases only and carries each condition's bias
offsets, in Ising units after the layout's scaling and each transform's flip, as per-qubit
``flux_biases`` (:func:`dwave.system.temperatures.h_to_fluxbias`; needs a device that lists
``flux_biases`` among its parameters). Conditions with clamps take the default path.

The classical sampler to fall back on and the Eq. C3 auxiliary sampler are passed in as
instances; ``qhvae.get_sampler("qpu", fallback="pa")`` builds them by name.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import dimod
import numpy as np

from ...exceptions import ConfigError, QPUError, SamplerError
from ...hardware import Placement, place
from ...topology import LatentGraph, from_edges
from ...validation import check_int
from ..base import BoltzmannSampler, SampleResult
from ..conditions import ChainConditions
from ..machine import BoltzmannMachine
from ..schedules import build_schedule
from .flux import flux_constants
from .layout import DeviceLayout, spin_parameters
from .temperature import BetaEffEstimator

__all__ = ["QPUSampler", "QPUError", "TRANSIENT_ERRORS", "spin_parameters", "connect_dwave", "balanced_transforms"]


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        from dwave.cloud import exceptions as ex

        errors += [ex.RequestTimeout, ex.PollingTimeout, ex.SolverOfflineError, ex.Timeout]
    except ImportError:  # pragma: no cover - dwave-cloud-client is a dwave-system dependency
        pass
    try:
        import requests

        errors += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


TRANSIENT_ERRORS = _transient_errors()


def connect_dwave(**solver_config) -> dimod.Sampler:
    """A :class:`dwave.system.DWaveSampler` from dwave-cloud-client's usual configuration.

    Raises:
        QPUError: with what to do when there are no credentials or no solver.
    """
    try:
        from dwave.system import DWaveSampler

        return DWaveSampler(**solver_config)
    except Exception as exc:
        kind = type(exc).__name__
        hint = ("configure access with `dwave config create` or set DWAVE_API_TOKEN (and optionally "
                "DWAVE_API_SOLVER / DWAVE_API_REGION)")
        raise QPUError(f"could not connect to a D-Wave QPU ({kind}: {exc}); {hint}") from exc


def balanced_transforms(num_variables: int, num_transforms: int, rng: np.random.Generator) -> np.ndarray:
    """``(T, n)`` spin-reversal flips in which every qubit is flipped in half of the transforms.

    Random transforms leave a fixed per-qubit offset ``o_i`` averaged over an unbalanced
    number of flips (residual ~ ``o_i / sqrt(T)``); a balanced design cancels it exactly
    for every even ``T`` (odd ``T``: one transform's worth remains). Which transforms
    flip a given qubit is random and independent between qubits.

    Example:
        >>> flips = balanced_transforms(3, 4, np.random.default_rng(0))
        >>> flips.shape, flips.sum(axis=0).tolist()
        ((4, 3), [2, 2, 2])
    """
    # Each column: a random set of exactly T // 2 flipped transforms.
    flips = rng.random((num_transforms, num_variables)).argsort(axis=0) < num_transforms // 2
    if num_transforms % 2:  # the odd transform out is flipped for a random half of the qubits
        flips[:, rng.random(num_variables) < 0.5] ^= True
    return flips


def _sampler_instance(value: Any, what: str) -> BoltzmannSampler | None:
    """``value`` when it is a sampler instance or None; a clear error for a sampler's name."""
    if value is None or isinstance(value, BoltzmannSampler):
        return value
    hint = (f"; build it by name with qhvae.get_sampler({value!r}), or name it in "
            f"qhvae.get_sampler('qpu', {what}={value!r}), which builds it") if isinstance(value, str) else ""
    raise TypeError(f"{what} must be a qhvae BoltzmannSampler instance or None, got {value!r}{hint}")


class QPUSampler(BoltzmannSampler):
    """Boltzmann samples of the prior from a QPU-shaped dimod Structured sampler.

    Args:
        device: ``DWaveSampler``, ``MockDWaveSampler``, a
            :class:`~qhvae.samplers.qpu.emulator.QPUEmulator`, any dimod Structured sampler
            with QPU properties, or ``"dwave"`` to connect with dwave-cloud-client's
            configuration (``solver_config`` passed on).
        graph: the latent graph (else built from each model's edges).
        beta_eff: initial effective inverse temperature.
        beta_estimator: ``"mpl"``, ``"c3"``, a
            :class:`~qhvae.samplers.qpu.temperature.BetaEffEstimator` or ``None`` to keep
            ``beta_eff`` fixed.
        num_spin_reversal_transforms: transforms per call (paper: 5); 0 disables them.
        schedule: ``"pause-quench"`` (paper App. B), ``"forward"``, explicit ``(t, s)``
            points, or ``None`` for the device default.
        schedule_options: options of the named shape (``pause_point``, ``pause_us``,
            ``ramp_us``, ``quench_slope``; ``annealing_time`` for ``"forward"``).
        retries: transient failures (timeouts, connection errors, solver offline) are
            retried ``retries`` times with exponential backoff.
        backoff: the first backoff, in seconds (doubled after every retry).
        fallback: a classical :class:`~qhvae.samplers.base.BoltzmannSampler` to use when the
            device keeps failing (``None``: raise). ``qhvae.get_sampler`` builds it from a name.
        aux_sampler: with ``beta_estimator="c3"``, the classical sampler of Eq. C3's
            auxiliary expectation (``None``: population annealing).
        seed: seed of the calls made without a ``seed`` (their spin-reversal transforms, the
            device's seed, the subset of reads kept): a sampler built with a seed repeats
            itself call for call. A call's own ``seed`` takes precedence.
        solver_config: passed to ``DWaveSampler`` when ``device="dwave"``.
        calibrate: calibrate ``beta_eff`` on the first call whose reads carry temperature
            information (the reads are checked against their own estimate, and the problem
            reprogrammed and read again until they agree); ``False``: start from ``beta_eff`` as
            given. Needs a ``beta_estimator``.
        estimate_every: update the ``beta_eff`` estimate on every this many calls (the calls
            between keep the last estimate). The MPL estimate of 1000 reads of a 288-unit
            problem costs ~0.2 s on a CPU, most of an emulated call; ``beta_eff`` drifts over
            tens of calls (docs/emulator.md), so every 10th call tracks it at a tenth of the cost.

        condition_with: how a conditional call's per-condition biases reach the device.
            ``"h"`` (default): each condition's machine is programmed on its own, one
            programming per distinct ``h`` (:meth:`BoltzmannSampler._sample_conditioned`).
            ``"flux_biases"``: conditions of biases only keep the machine's own ``h`` and
            ``J``; condition ``c``'s offsets ``(b_c - b) / 2 / beta_eff`` (the Ising-h
            difference of the scaled, clipped fields, times each spin-reversal transform's
            flip) go to the device as ``flux_biases`` (a list over all
            ``properties["num_qubits"]`` qubits, 0 off the problem), converted by
            :func:`dwave.system.temperatures.h_to_fluxbias`. Conditions with clamps take the
            ``"h"`` path. Needs a device that lists ``flux_biases`` in its ``parameters``.
        flux_bias_constants: ``{"B": ..., "Ip": ..., "MAFM": ...}`` for ``h_to_fluxbias``
            (default :data:`qhvae.samplers.qpu.flux.FLUX_BIAS_CONSTANTS`, the function's own defaults: ``B = 1.391``
            GHz, ``MAFM = 1.647`` pH, ``Ip`` inferred). Use the device's ``B(s)`` at
            freeze-out and its ``MAFM``; the emulator converts back with the same constants.

    Raises:
        ConfigError: ``condition_with="flux_biases"`` on a device without ``flux_biases``
            in its ``parameters``, or an unknown ``condition_with``.

    Attributes:
        calibrated: whether ``beta_eff`` has been calibrated (or restored from a state).
    """

    name = "qpu"
    description = "D-Wave QPU (or a look-alike): spin-reversal transforms, pause-and-quench, beta_eff tracking"
    sampler_parameters = {"num_spin_reversal_transforms": "transforms for this call"}
    #: Calibration reprograms and reads again at most this many times.
    CALIBRATION_ROUNDS = 3
    #: A batch whose beta_eff estimate has a larger relative error than this is too weakly
    #: coupled to calibrate on: a temperature error it cannot see is invisible in its samples too.
    INFORMATIVE_RELATIVE_ERROR = 0.2

    def __init__(self, device: Any = "dwave", graph: LatentGraph | None = None, beta_eff: float = 1.0,
                 beta_estimator: Any = "mpl", num_spin_reversal_transforms: int = 5,
                 schedule: Any = "pause-quench", schedule_options: Mapping | None = None, retries: int = 3,
                 backoff: float = 1.0, fallback: BoltzmannSampler | None = None,
                 aux_sampler: BoltzmannSampler | None = None, seed: int | None = None,
                 solver_config: Mapping | None = None, calibrate: bool = True, estimate_every: int = 1,
                 condition_with: str = "h", flux_bias_constants: Mapping | None = None):
        self.fallback = _sampler_instance(fallback, "fallback")
        aux_sampler = _sampler_instance(aux_sampler, "aux_sampler")
        self.device = connect_dwave(**(solver_config or {})) if isinstance(device, str) else device
        for attr in ("nodelist", "edgelist", "properties"):
            if not hasattr(self.device, attr):
                raise TypeError(f"the QPU device must be a dimod Structured sampler with QPU properties; "
                                f"{type(self.device).__name__} has no {attr!r}")
        if not beta_eff > 0:
            raise ValueError(f"beta_eff must be positive, got {beta_eff}")
        if num_spin_reversal_transforms < 0 or retries < 0 or backoff < 0:
            raise ValueError("num_spin_reversal_transforms, retries and backoff must be >= 0")
        self.graph = graph
        self.effective_beta = float(beta_eff)
        if isinstance(beta_estimator, str):
            beta_estimator = BetaEffEstimator(method=beta_estimator, aux_sampler=aux_sampler)
        elif aux_sampler is not None:
            raise ValueError("aux_sampler goes with beta_estimator='c3' (a name); give a BetaEffEstimator "
                             "its own aux_sampler")
        self.beta_estimator = beta_estimator
        if not isinstance(calibrate, (bool, np.bool_)):
            raise TypeError(f"calibrate must be True or False, got {calibrate!r}")
        self.calibrate = bool(calibrate)
        self.calibrated = False
        self.estimate_every = check_int("estimate_every", estimate_every)
        self._calls = 0
        self.num_spin_reversal_transforms = int(num_spin_reversal_transforms)
        props = self.device.properties
        (h_min, h_max), (j_min, j_max) = props.get("h_range", (-4.0, 4.0)), props.get("j_range", (-1.0, 1.0))
        self.h_range, self.j_range = (float(h_min), float(h_max)), (float(j_min), float(j_max))
        self.schedule = build_schedule(schedule, props, **dict(schedule_options or {}))
        self.retries, self.backoff = int(retries), float(backoff)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self._unseeded_calls = self._unseeded_call_seeds(0)
        self.clip_counts = {"h": 0, "J": 0, "calls": 0}
        self.beta_history: list[float] = [self.effective_beta]
        self._placements: dict = {}
        self._graphs: dict = {}
        self._layouts: dict = {}
        self._device_seconds = 0.0
        if condition_with not in ("h", "flux_biases"):
            raise ConfigError(f"condition_with must be 'h' or 'flux_biases', got {condition_with!r}")
        if condition_with == "flux_biases" and "flux_biases" not in getattr(self.device, "parameters", {}):
            raise ConfigError(f"condition_with='flux_biases' needs a device that takes flux biases; "
                              f"{type(self.device).__name__} does not list 'flux_biases' in its parameters "
                              "(use condition_with='h')")
        self.condition_with = condition_with
        self.flux_bias_constants = flux_constants(flux_bias_constants)
        nodes: list = getattr(self.device, "nodelist", [])
        self._num_device_qubits = int(props.get("num_qubits", max(nodes, default=-1) + 1))

    def _unseeded_call_seeds(self, spawned: int) -> np.random.SeedSequence | None:
        # Tagged apart from SeedSequence(seed): the emulator factory seeds its device with the
        # same integer, and the device's own streams are children of SeedSequence(seed).
        return None if self.seed is None else np.random.SeedSequence([self.seed, 0x5EED],
                                                                      n_children_spawned=spawned)

    def sample_bm(self, bm: BoltzmannMachine, num_samples: int, *, seed=None, **params) -> SampleResult:
        """:meth:`BoltzmannSampler.sample_bm`; a call without a ``seed`` takes the next one of the sampler's."""
        if seed is None and self._unseeded_calls is not None:
            seed = self._unseeded_calls.spawn(1)[0]
        return super().sample_bm(bm, num_samples, seed=seed, **params)

    # -- placement -----------------------------------------------------------------------

    def _graph_for(self, bm: BoltzmannMachine) -> LatentGraph:
        key = bm.structure_key()
        if key not in self._graphs:
            self._graphs[key] = self.graph if bm.matches(self.graph) else from_edges(bm.num_variables, bm.edges)
        return self._graphs[key]

    def placement(self, graph: LatentGraph) -> Placement:
        """Where ``graph`` sits on the device (computed once per graph)."""
        key = (graph.num_nodes, graph.edges.tobytes())
        if key not in self._placements:
            self._placements[key] = place(graph, self.device)
        return self._placements[key]

    def masks_for(self, graph: LatentGraph) -> tuple[np.ndarray, np.ndarray]:
        """``(edge_mask, unit_mask)`` for a prior on ``graph``: what the device can realise."""
        p = self.placement(graph)
        return np.asarray(p.edge_mask, np.float32), np.asarray(p.unit_mask, np.float32)

    def layout_for(self, bm: BoltzmannMachine) -> DeviceLayout:
        """The layout of ``bm``'s structure on its placement: built once, then one dict lookup per call."""
        key = bm.structure_key()
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = DeviceLayout.build(bm, self.placement(self._graph_for(bm)))
        return layout

    def _layout(self, bm: BoltzmannMachine, placement: Placement) -> DeviceLayout:
        """The cached layout when ``placement`` is the one this sampler found, else a fresh one."""
        layout = self._layouts.get(bm.structure_key())
        return layout if layout is not None and layout.placement is placement else DeviceLayout.build(bm, placement)

    # -- sampling ------------------------------------------------------------------------

    def program(self, bm: BoltzmannMachine, placement: Placement) -> tuple[dimod.BinaryQuadraticModel, dict]:
        """The Ising problem sent to the device (over its qubits), and what had to change to fit it.

        The BQM's variables are the usable qubits in unit order.
        """
        return self._layout(bm, placement).program(bm, self.effective_beta, self.h_range, self.j_range)

    def _call_parameters(self, reads: int) -> tuple[dict[str, Any], bool]:
        """The device's keyword arguments for ``reads`` reads, and whether it takes a ``seed``.

        Computed once per negative phase rather than once per transform.
        """
        params: dict[str, Any] = {"auto_scale": False, "answer_mode": "raw", "num_reads": reads}
        if self.schedule is not None:
            params["anneal_schedule"] = self.schedule
        allowed = set(self.device.parameters)
        return {k: v for k, v in params.items() if k in allowed}, "seed" in allowed

    def _device_call(self, bqm: dimod.BinaryQuadraticModel, params: Mapping[str, Any], seed: int | None
                     ) -> dimod.SampleSet:
        """One device call with ``params`` (plus ``seed`` unless None), retrying transient failures."""
        if seed is not None:
            params = {**params, "seed": seed}
        delay = self.backoff
        for attempt in range(self.retries + 1):
            t0 = time.perf_counter()
            try:
                sampleset = self.device.sample(bqm, **params)
                sampleset.resolve()
                return sampleset
            except TRANSIENT_ERRORS as exc:
                if attempt == self.retries:
                    raise QPUError(f"{self.label}: the device failed {attempt + 1} times "
                                   f"({type(exc).__name__}: {exc})") from exc
                time.sleep(delay)
                delay *= 2
            finally:
                self._device_seconds += time.perf_counter() - t0
        raise AssertionError("unreachable")

    def _flux_biases(self, layout: DeviceLayout, offsets: np.ndarray) -> list[float]:
        """``flux_biases`` over all device qubits (0 elsewhere) for Ising-h ``offsets`` over :attr:`layout.units`."""
        from dwave.system.temperatures import h_to_fluxbias

        flux = np.zeros(self._num_device_qubits)
        flux[np.asarray(layout.labels, np.intp)] = h_to_fluxbias(offsets, **self.flux_bias_constants)
        return flux.tolist()

    def _sample_transformed(self, layout: DeviceLayout, linear: np.ndarray, quadratic: np.ndarray, reads: int,
                            transforms: int, rng: np.random.Generator, offsets: np.ndarray | None = None
                            ) -> tuple[np.ndarray, dict]:
        """Spins ``(reads * T, n)`` over the usable qubits, gathered from ``T`` spin-reversal transforms.

        ``offsets`` (Ising h over the usable qubits): fields added through ``flux_biases``
        (``condition_with="flux_biases"``), flipped with ``linear`` by every transform.

        Written here rather than through dwave.preprocessing's
        SpinReversalTransformComposite, which flips the BQM one variable at a time in
        Python (``bqm.flip_variable``) and rebuilds a SampleSet to undo the flips: about
        2.5-3x our whole client overhead per call for 288 qubits and 5 transforms
        (``benchmarks/bench_qpu.py`` prints the ratio). The composite also passes the
        same ``seed`` to every transform. Here each transform is one BQM built from
        flipped numpy vectors. The transforms are the balanced design of
        :func:`balanced_transforms`.

        Every transformed problem is built before the first device call and every answer
        read back after the last: code that runs right after a device call finds the CPU
        caches cold (the emulator's sweeps, or another process during a real QPU's wait)
        and took about twice as long as the same code run in one burst.

        The flips are int8 and the device's int8 spins stay int8: multiplying them by an
        int64 vector made every block (and their concatenation) eight times larger, and
        allocating and filling those fresh arrays was half of the client's time.
        """
        n = layout.num_qubits
        flips = balanced_transforms(n, transforms, rng) if transforms else np.zeros((1, n), bool)
        params, seeded = self._call_parameters(reads)
        rows, cols = layout.rows, layout.cols
        problems = []
        for flip in flips:
            g = np.where(flip, np.int8(-1), np.int8(1))
            seed = int(rng.integers(0, 2**31 - 1))  # drawn even when unused: same stream either way
            call = params if offsets is None else {**params, "flux_biases": self._flux_biases(layout, offsets * g)}
            problems.append((g, layout.ising(linear * g, quadratic * g[rows] * g[cols]), seed, call))
        samplesets = [self._device_call(bqm, call, seed if seeded else None) for _, bqm, seed, call in problems]
        blocks = [layout.read_back(sampleset) * g for (g, *_), sampleset in zip(problems, samplesets, strict=True)]
        spins = np.concatenate(blocks)
        not_spins = spins.size and np.count_nonzero(np.abs(spins) != 1)
        if not_spins or any(ss.vartype is not dimod.SPIN for ss in samplesets):
            # A 0/1 answer would otherwise pass as spins -1 -> 0 and bias every unit
            raise SamplerError(f"sampler {self.name!r}: the device returned values other than -1/+1 "
                               f"(vartype {samplesets[-1].vartype.name}); a QPU answers SPIN samples")
        return spins, dict(samplesets[-1].info)

    def _fields(self, layout: DeviceLayout, bm: BoltzmannMachine, base: BoltzmannMachine | None
                ) -> tuple[np.ndarray, np.ndarray, dict, np.ndarray | None]:
        """``(linear, quadratic, report, offsets)`` to program for sampling ``bm``.

        Without ``base``: ``bm``'s scaled fields, no offsets. With ``base`` (same couplings,
        other biases): ``base``'s fields, and ``offsets`` the Ising-h difference of the two
        machines' scaled, clipped fields (sent as flux biases), so that ``linear + offsets``
        is what the ``h`` path programs for ``bm``; the report is ``bm``'s.
        """
        linear, quadratic, report = layout.scaled_parameters(bm, self.effective_beta, self.h_range, self.j_range)
        if base is None:
            return linear, quadratic, report, None
        own, _, _ = layout.scaled_parameters(base, self.effective_beta, self.h_range, self.j_range)
        return own, quadratic, report, linear - own

    @staticmethod
    def _problem_sampled(layout: DeviceLayout, linear: np.ndarray, quadratic: np.ndarray,
                         offsets: np.ndarray | None) -> dimod.BinaryQuadraticModel:
        """The Ising problem the reads sample (for the ``beta_eff`` estimate): the programmed
        one, with the fields that flux biases add."""
        return layout.ising(linear if offsets is None else linear + offsets, quadratic)

    def _sample(self, bm, num_samples, seed, num_spin_reversal_transforms=None, **params):
        return self._sample_programmed(bm, num_samples, seed, num_spin_reversal_transforms)

    def _sample_programmed(self, bm: BoltzmannMachine, num_samples: int, seed, num_spin_reversal_transforms=None,
                           base: BoltzmannMachine | None = None) -> SampleResult:
        """Samples of ``bm``; with ``base``, programmed as ``base``'s h plus flux biases (see :meth:`_fields`)."""
        layout = self.layout_for(bm)  # placement and index arrays: once per structure, not per call
        rng = np.random.default_rng(seed)
        transforms = self.num_spin_reversal_transforms if num_spin_reversal_transforms is None \
            else int(num_spin_reversal_transforms)
        reads = math.ceil(num_samples / max(1, transforms))
        start = time.perf_counter()
        linear, quadratic, report, offsets = self._fields(layout, bm, base)
        estimate = self.beta_estimator is not None and layout.units.size > 0
        update_due = estimate and self._calls % self.estimate_every == 0
        self._calls += 1
        # The programmed problem, for the beta_eff estimate only; built with the transformed
        # ones, before the device calls (see _sample_transformed), and counted as client time.
        bqm = self._problem_sampled(layout, linear, quadratic, offsets) if estimate else None
        self._device_seconds = 0.0
        calibration = None
        try:
            spins, device_info = self._sample_transformed(layout, linear, quadratic, reads, transforms, rng, offsets)
            if bqm is not None and self.calibrate and not self.calibrated and hasattr(self.beta_estimator, "estimate"):
                (spins, device_info), bqm, report, calibration = self._calibrate(
                    bm, (spins, device_info), bqm, report, lambda: self._fields(layout, bm, base),
                    lambda lin, quad, off: self._sample_transformed(layout, lin, quad, reads, transforms, rng, off),
                    rng)
        except QPUError as exc:
            if self.fallback is None:
                raise
            return self._fall_back(self.fallback, bm, num_samples, seed, exc)
        device_seconds = self._device_seconds
        if len(spins) < num_samples:
            raise QPUError(f"{self.label}: the device returned {len(spins)} reads, expected {num_samples}")
        if len(spins) > num_samples:  # keep a random subset, mixing the transforms
            spins = spins[rng.permutation(len(spins))[:num_samples]]
        samples = layout.to_binary(spins, bm, rng)
        client_seconds = time.perf_counter() - start - device_seconds
        estimate_start = time.perf_counter()
        beta_used = self.effective_beta
        if update_due:
            self.effective_beta = self.beta_estimator.update(beta_used, bqm, spins, list(layout.labels),
                                                             seed=int(rng.integers(0, 2**31 - 1)))
        self.beta_history.append(self.effective_beta)
        self._count_clipping(report)
        info = dict(report, beta_eff_used=beta_used, beta_eff=self.effective_beta,
                    num_spin_reversal_transforms=transforms, reads_per_transform=reads,
                    timing={"device_s": device_seconds, "client_s": client_seconds,
                            "beta_estimate_s": time.perf_counter() - estimate_start},
                    device_info=device_info)
        if update_due:
            info["beta_eff_stderr"] = float(getattr(self.beta_estimator, "last_stderr", float("nan")))
        if calibration is not None:
            info["calibration"] = calibration
        return SampleResult(samples, info)

    def _sample_conditioned(self, bm: BoltzmannMachine, conditions: ChainConditions, num_samples: int,
                            seed: np.random.SeedSequence, **params) -> SampleResult:
        """The reads grouped by condition, one set of device calls per distinct condition.

        ``condition_with="h"``, or any clamp: each condition's reduced machine is programmed
        (:meth:`BoltzmannSampler._sample_conditioned`). ``"flux_biases"`` with per-condition
        biases only: every condition programs the machine's own ``h`` and ``J`` and adds its
        bias offsets as flux biases (:meth:`_fields`); the seeds per condition are those of
        the ``"h"`` path, so the two differ only in how the offsets reach the qubits.
        ``info["per_condition"]`` holds each condition's call info, by condition id.
        """
        clamped = conditions.group_mask is not None and bool(conditions.group_mask.any())
        if self.condition_with != "flux_biases" or clamped or conditions.group_biases is None:
            return super()._sample_conditioned(bm, conditions, num_samples, seed, **params)
        transforms = params.get("num_spin_reversal_transforms")
        out = np.empty((conditions.num_samples, bm.num_variables), np.uint8)
        infos: dict[int, dict] = {}
        groups = conditions.groups()
        for (cid, chains), child in zip(groups, seed.spawn(len(groups)), strict=True):
            machine = BoltzmannMachine.from_arrays(conditions.group_biases[conditions.group[int(chains[0])]],
                                                   (bm.edges, bm.weights), offset=bm.offset)
            result = self._sample_programmed(machine, int(chains.size), child, transforms, base=bm)
            out[chains] = result.samples
            infos[cid] = dict(result.info)
        return SampleResult(out, {"conditions": len(infos), "condition_with": "flux_biases",
                                  "per_condition": infos})

    def _calibrate(self, bm: BoltzmannMachine, batch: tuple[np.ndarray, dict], programmed: dimod.BinaryQuadraticModel,
                   report: Mapping[str, int], fields: Callable[[], tuple],
                   read: Callable[[np.ndarray, np.ndarray, Any], tuple[np.ndarray, dict]],
                   rng: np.random.Generator) -> tuple[tuple[np.ndarray, dict], dimod.BinaryQuadraticModel, dict, dict]:
        """Check a ``batch`` of reads (``(spins, device_info)`` for ``programmed`` at the current
        ``beta_eff``) and recalibrate ``beta_eff`` on it (the ``calibrate`` argument).

        The estimator's estimate from these reads alone
        (:meth:`~qhvae.samplers.qpu.temperature.BetaEffEstimator.estimate`) is compared
        with the ``beta_eff`` they were programmed with:

        * an uninformative batch (an all-zero prior, or one so weak that the estimate's
          relative error exceeds :attr:`INFORMATIVE_RELATIVE_ERROR`) changes nothing: its
          samples are as good at any nearby temperature, and the next call tries again;
        * an estimate within three standard errors: the reads are at the right
          temperature, and the sampler is calibrated;
        * otherwise ``beta_eff`` becomes the estimate, the problem is reprogrammed and read
          again with ``read(linear, quadratic, offsets)`` of ``fields()``, and the new reads are checked the same
          way, :attr:`CALIBRATION_ROUNDS` times at most. Iterating matters on a real
          device, whose ``beta_eff`` moves with the programmed energy scale.

        Nothing is added to :attr:`beta_history` or to the estimator's history: the call's
        ordinary update follows, on the reads handed back.

        Returns:
            ``(batch, programmed, report, calibration)`` of the reads to hand back;
            ``calibration`` lists every round (``programmed``, ``estimate``, ``stderr``).
        """
        layout = self.layout_for(bm)
        rounds: list[dict[str, float]] = []
        redraws = 0
        while True:
            used = self.effective_beta
            beta, stderr = self.beta_estimator.estimate(used, programmed, batch[0], list(layout.labels),
                                                        seed=int(rng.integers(0, 2**31 - 1)))
            rounds.append({"programmed": used, "estimate": float(beta), "stderr": float(stderr)})
            if not (np.isfinite(stderr) and stderr <= self.INFORMATIVE_RELATIVE_ERROR * beta):
                break  # too little information: keep beta_eff, try again on a later call
            self.calibrated = True
            if abs(beta - used) <= 3 * stderr or redraws == self.CALIBRATION_ROUNDS:
                break
            self.effective_beta = float(beta)
            linear, quadratic, report, offsets = fields()
            programmed = self._problem_sampled(layout, linear, quadratic, offsets)
            batch = read(linear, quadratic, offsets)
            redraws += 1
        calibration = {"rounds": rounds, "reads": redraws * len(batch[0]), "calibrated": self.calibrated}
        return batch, programmed, dict(report), calibration

    def _count_clipping(self, report: Mapping[str, int]) -> None:
        self.clip_counts["h"] += report["clipped_h"]
        self.clip_counts["J"] += report["clipped_j"]
        self.clip_counts["calls"] += 1

    def _fall_back(self, fallback: BoltzmannSampler, bm, num_samples, seed, error):
        name = fallback.name
        warnings.warn(f"{error}; falling back to the classical sampler {name!r} for this call",
                      RuntimeWarning, stacklevel=3)
        result = fallback.sample_bm(bm, num_samples, seed=seed)
        result.info["fallback"] = {"sampler": name, "error": str(error)}
        return result

    # -- state ---------------------------------------------------------------------------

    def get_state(self) -> dict[str, np.ndarray]:
        """``beta_eff``, its history and the estimator's state (``beta_estimator/...``).

        The device itself keeps no state we can save. The estimator's state (its history
        and, for Eq. C3, the auxiliary sampler's chains) is what lets a resumed run take
        the same next ``beta_eff`` step as an uninterrupted one.
        """
        state = {"effective_beta": np.float64(self.effective_beta),
                 "beta_history": np.asarray(self.beta_history, np.float64),
                 "calibrated": np.bool_(self.calibrated), "calls": np.int64(self._calls)}
        if self._unseeded_calls is not None:
            state["unseeded_calls"] = np.int64(self._unseeded_calls.n_children_spawned)
        if self.beta_estimator is not None:
            state.update({f"beta_estimator/{k}": v for k, v in self.beta_estimator.get_state().items()})
        return state

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned (an empty state changes nothing)."""
        if not state:
            return
        self.effective_beta = float(state["effective_beta"])
        self.beta_history = [float(v) for v in np.asarray(state.get("beta_history", [self.effective_beta]))]
        # A state saved before calibration existed: calibrated if the sampler had been called.
        self.calibrated = bool(state["calibrated"]) if "calibrated" in state else len(self.beta_history) > 1
        self._calls = int(state.get("calls", len(self.beta_history) - 1))
        if "unseeded_calls" in state:
            self._unseeded_calls = self._unseeded_call_seeds(int(state["unseeded_calls"]))
        if self.beta_estimator is not None:
            prefix = "beta_estimator/"
            self.beta_estimator.set_state({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
