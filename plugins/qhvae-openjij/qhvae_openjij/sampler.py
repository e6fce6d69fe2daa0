"""OpenJij's simulated quantum annealing (SQA) as a qhvae Boltzmann sampler.

Each sample is one independent run of OpenJij's path-integral SQA kernel (the
single-spin-flip Suzuki-Trotter algorithm behind :class:`openjij.SQASampler`),
followed by a classical finish that makes the final state an exact-in-the-limit
Boltzmann sample of the *classical* energy at beta = 1.

Why a classical finish is needed (measured against exact enumeration, see the
package README): OpenJij simulates

    H(s) = s H_p - Gamma (1 - s) sum_i sigma_i^x

with ``T`` Trotter slices. In its Metropolis update each slice sees the classical
energy at inverse temperature ``s * beta / T`` and its neighbouring slices through the
coupling ``B = 1/2 log tanh(beta Gamma (1 - s) / T)``. So

* for ``s < 1`` the stationary distribution of one slice is the diagonal of the
  Trotterised quantum Gibbs state, **not** the classical Boltzmann distribution
  (the error grows with ``Gamma (1 - s)``);
* at ``s = 1`` the slice coupling is infinite (``B = -inf``): every move is rejected
  or ill-defined (``inf * 0``), the world lines are frozen and the state no longer
  moves, so no number of sweeps "at s = 1" equilibrates anything. A run whose
  schedule is only ``s = 1`` returns its random initial state.

Raw SQA read-outs are therefore biased (frozen out before ``s = 1``: too hot with
``beta = 1``, too cold with the "slice" convention ``beta = T``). This sampler anneals
with SQA at the target temperature (``anneal_beta = 1``, ``s`` from 0 towards 1) and
then runs ``equilibration_sweeps`` sweeps of OpenJij's classical single-spin-flip
Metropolis kernel at exactly ``beta = 1`` on Trotter slice 0. Metropolis at beta = 1
leaves the Boltzmann distribution invariant, so the final state is a Boltzmann sample
at beta = 1 whenever the finish has mixed (verified against exact enumeration by the
tests and by :func:`qhvae.testing.check_sampler`).

Conventions: qhvae's ``E(z) = b.z + sum_(i<j) W_ij z_i z_j`` over ``z`` in {0, 1};
OpenJij works in spins ``s = 2 z - 1`` on the equivalent Ising model (same energies up
to a constant), and the samples are converted back to 0/1 in unit order.
"""

from __future__ import annotations

import atexit
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import openjij
import openjij.cxxjij as cxxjij

from qhvae import BoltzmannSampler
from qhvae.samplers import BoltzmannMachine, SampleResult

__all__ = ["OpenJijSQASampler", "SQAConfig", "DEFAULTS", "random_draws"]

#: Default value of every parameter the sampler accepts (constructor and per call).
DEFAULTS: dict[str, Any] = {
    "trotter": 8,
    "gamma": 1.0,
    "anneal_sweeps": 100,
    "anneal_beta": 1.0,
    "schedule": None,
    "equilibration_sweeps": 100,
    "num_threads": 1,
}

_MAX_SEED = 2**31 - 1  # OpenJij's mt19937 takes a 32-bit seed; stay in the signed range
_openmp: Any = None

# Interpreter shutdown while a call is still running in another thread (qhvae abandons a
# call that exceeded QHVAE_PLUGIN_TIMEOUT in a daemon thread): a daemon thread killed
# inside OpenJij's pybind11 code aborts the whole process ("FATAL: exception not
# rethrown"). atexit runs before daemon threads are killed, so the handler below asks the
# read loops to stop at the next read boundary (a few ms) and waits for them.
_shutdown = threading.Event()
_active = threading.Condition()
_running = 0


class _Interrupted(RuntimeError):
    """The interpreter is exiting; the read loop stopped early."""


@atexit.register
def _stop_running_calls(timeout: float = 10.0) -> None:
    _shutdown.set()
    with _active:
        _active.wait_for(lambda: _running == 0, timeout)


def _openjij_openmp() -> Any:
    """threadpoolctl's handle on the OpenMP runtime OpenJij's kernel uses (found once)."""
    global _openmp
    if _openmp is None:
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
        paths = [lib.filepath for lib in controller.lib_controllers
                 if lib.user_api == "openmp" and "openjij" in lib.filepath]
        _openmp = controller.select(filepath=paths) if paths else controller.select(user_api="openmp")
    return _openmp


@dataclass(frozen=True)
class SQAConfig:
    """Validated parameters of one sampling call (see :class:`OpenJijSQASampler`)."""

    trotter: int
    gamma: float
    anneal_sweeps: int
    anneal_beta: float
    schedule: tuple[tuple[float, float, int], ...] | None
    equilibration_sweeps: int
    num_threads: int | None

    def quantum_steps(self) -> list[tuple[float, float, int]]:
        """The SQA schedule as ``(s, beta, sweeps)`` triples, in order."""
        if self.schedule is not None:
            return list(self.schedule)
        n = self.anneal_sweeps
        # s = 0, 1/n, ..., (n-1)/n: one sweep per value. s = 1 itself is left out because
        # OpenJij's kernel is frozen there (infinite slice coupling).
        return [(k / n, self.anneal_beta, 1) for k in range(n)]


def _integer(label: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{label}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive(label: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{label}: {name} must be a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{label}: {name} must be a positive finite number, got {value!r}")
    return value


def _schedule(label: str, schedule: Any, anneal_beta: float) -> tuple[tuple[float, float, int], ...] | None:
    if schedule is None:
        return None
    if isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence):
        raise ValueError(f"{label}: schedule must be a list of (s, sweeps) or (s, beta, sweeps), got {schedule!r}")
    steps = []
    for k, step in enumerate(schedule):
        if not isinstance(step, Sequence) or len(step) not in (2, 3):
            raise ValueError(f"{label}: schedule step {k} must be (s, sweeps) or (s, beta, sweeps), got {step!r}")
        s = step[0]
        if isinstance(s, bool) or not isinstance(s, (int, float, np.integer, np.floating)) or not 0.0 <= s <= 1.0:
            raise ValueError(f"{label}: schedule step {k}: s must lie in [0, 1], got {s!r}")
        beta = _positive(label, f"schedule step {k} beta", step[1]) if len(step) == 3 else anneal_beta
        sweeps = _integer(label, f"schedule step {k} sweeps", step[-1], 0)
        steps.append((float(s), beta, sweeps))
    return tuple(steps)


def random_draws(seed: np.random.SeedSequence, num_samples: int, num_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Everything random about one call, drawn up front from the call's seed.

    Returns:
        ``initial``: ``(num_samples, num_units)`` uniformly random spins (+-1), the
        state every Trotter slice of read ``k`` starts from (in OpenJij index order);
        ``run_seeds``: ``(num_samples, 2)`` OpenJij seeds of read ``k``'s SQA run and
        classical finish. Reads never share a seed: ``openjij.SQASampler`` with
        ``num_reads > 1`` and a fixed ``seed`` would return identical reads.
    """
    rng = np.random.default_rng(seed)
    initial = 2 * rng.integers(0, 2, (num_samples, num_units), dtype=np.int64) - 1
    run_seeds = rng.integers(1, _MAX_SEED, (num_samples, 2))
    return initial, run_seeds


class OpenJijSQASampler(BoltzmannSampler):
    """Simulated quantum annealing (OpenJij) with a classical finish at beta = 1.

    Every sample is an independent run: a uniformly random classical state copied to
    all Trotter slices, ``anneal_sweeps`` SQA sweeps with ``s`` rising linearly from 0
    to ``1 - 1/anneal_sweeps`` at OpenJij inverse temperature ``anneal_beta`` (or your
    own ``schedule``), then ``equilibration_sweeps`` classical Metropolis sweeps at
    beta = 1 on Trotter slice 0 (OpenJij's classical single-spin-flip kernel). The
    final state is returned as a 0/1 row in unit order. Reads are independent, so the
    samples are i.i.d. given the seed; the same seed gives the same samples.

    Every parameter can be set when the sampler is built
    (``qhvae.get_sampler("openjij-sqa", trotter=16)``) and overridden per call
    (``sampler.sample_arrays(b, W, n, seed=0, equilibration_sweeps=500)``).

    Args:
        trotter: Trotter slices ``T`` (>= 2). More slices approximate the quantum
            dynamics better and cost proportionally more. Default 8.
        gamma: transverse-field amplitude ``Gamma`` (> 0) in
            ``H(s) = s H_p - Gamma (1 - s) sum_i sigma_x``. Default 1.0.
        anneal_sweeps: SQA sweeps (one per value of ``s``); 0 skips the quantum
            anneal (the finish then starts from a random state). Default 100.
        anneal_beta: OpenJij's ``beta`` during the anneal (> 0). 1.0 anneals at the
            target temperature: as ``s -> 1`` a world line is weighted by
            ``exp(-s * beta * E)``. Default 1.0.
        schedule: optional custom SQA schedule replacing ``anneal_sweeps`` and
            ``anneal_beta``: a list of ``(s, sweeps)`` pairs (at ``anneal_beta``) or
            ``(s, beta, sweeps)`` triples, as accepted by ``openjij.SQASampler``.
            Steps at ``s = 1`` do nothing (OpenJij's kernel is frozen there).
            Default None.
        equilibration_sweeps: classical Metropolis sweeps at beta = 1 after the
            anneal. These make the sample Boltzmann at beta = 1; more sweeps for
            strongly coupled models. 0 returns the raw SQA read-out of slice 0,
            which is **not** a Boltzmann sample at beta = 1. Default 100.
        num_threads: OpenMP threads OpenJij's SQA kernel may use (it parallelises
            over Trotter slices, once per sweep), or None for the OpenMP default.
            A read is small, so thread start-up costs more than it saves: 1 is
            about 15x faster than 2 on an 8-unit model. Default 1.

    Raises:
        ValueError: naming the sampler, for an invalid parameter.

    Example:
        >>> import numpy as np, qhvae
        >>> s = qhvae.get_sampler("openjij-sqa", anneal_sweeps=20, equilibration_sweeps=20)
        >>> s.sample_arrays(np.zeros(4), None, 3, seed=0).shape
        (3, 4)
    """

    name = "openjij-sqa"
    description = "OpenJij simulated quantum annealing + classical Metropolis finish at beta = 1"
    sampler_parameters: Mapping[str, Any] = DEFAULTS
    # qhvae's registry sets this after building the sampler; setting it here as well makes
    # errors raised while building (and by a directly constructed sampler) name this package.
    origin = "qhvae-openjij"

    def __init__(
        self,
        trotter: int = DEFAULTS["trotter"],
        gamma: float = DEFAULTS["gamma"],
        anneal_sweeps: int = DEFAULTS["anneal_sweeps"],
        anneal_beta: float = DEFAULTS["anneal_beta"],
        schedule: Sequence[Sequence[float]] | None = DEFAULTS["schedule"],
        equilibration_sweeps: int = DEFAULTS["equilibration_sweeps"],
        num_threads: int | None = DEFAULTS["num_threads"],
    ):
        self.config: dict[str, Any] = {
            "trotter": trotter,
            "gamma": gamma,
            "anneal_sweeps": anneal_sweeps,
            "anneal_beta": anneal_beta,
            "schedule": schedule,
            "equilibration_sweeps": equilibration_sweeps,
            "num_threads": num_threads,
        }
        self.resolve()  # fail at construction, not at the first call

    def resolve(self, params: Mapping[str, Any] | None = None) -> SQAConfig:
        """The validated configuration: constructor values overridden by ``params``.

        Raises:
            ValueError: naming the sampler and the offending parameter.
        """
        cfg = {**self.config, **(params or {})}
        label = self.label
        anneal_beta = _positive(label, "anneal_beta", cfg["anneal_beta"])
        return SQAConfig(
            trotter=_integer(label, "trotter", cfg["trotter"], 2),
            gamma=_positive(label, "gamma", cfg["gamma"]),
            anneal_sweeps=_integer(label, "anneal_sweeps", cfg["anneal_sweeps"], 0),
            anneal_beta=anneal_beta,
            schedule=_schedule(label, cfg["schedule"], anneal_beta),
            equilibration_sweeps=_integer(label, "equilibration_sweeps", cfg["equilibration_sweeps"], 0),
            num_threads=None if cfg["num_threads"] is None else _integer(label, "num_threads", cfg["num_threads"], 1),
        )

    @staticmethod
    def ising_graph(bm: BoltzmannMachine) -> tuple[Any, np.ndarray]:
        """OpenJij's sparse Ising graph of ``bm`` and the qhvae unit of each graph index.

        The model is built in BINARY form with every unit present (zero biases
        included) and converted to spins by OpenJij, exactly as ``openjij.SQASampler``
        does; the returned ``units[k]`` is the qhvae unit stored at OpenJij index ``k``.
        """
        linear = {i: float(v) for i, v in enumerate(bm.linear)}
        quadratic = {(int(i), int(j)): float(w) for (i, j), w in zip(bm.edges, bm.weights, strict=True)}
        model = openjij.BinaryQuadraticModel(linear, quadratic, 0.0, "BINARY", sparse=True)
        units = np.asarray(list(model.variables), dtype=np.int64)
        if units.shape != (bm.num_variables,) or set(units.tolist()) != set(range(bm.num_variables)):
            raise RuntimeError(f"OpenJij kept variables {units.tolist()[:10]}... of {bm.num_variables} units")
        graph, _offset = model.get_cxxjij_ising_graph()
        return graph, units

    @staticmethod
    def _transverse_schedule(steps: list[tuple[float, float, int]]) -> list[Any]:
        out = []
        for s, beta, sweeps in steps:
            if sweeps == 0:
                continue
            step = cxxjij.utility.TransverseFieldSchedule()
            step.one_mc_step = sweeps
            step.updater_parameter.beta = beta
            step.updater_parameter.s = s
            out.append(step)
        return out

    @staticmethod
    def _reads(cfg: SQAConfig, quantum: Any, classical: Any, quantum_schedule: list[Any],
               classical_schedule: list[tuple[float, int]], initial: np.ndarray, run_seeds: np.ndarray,
               spins: np.ndarray, sqa_spins: np.ndarray | None) -> None:
        """One independent SQA run + classical finish per row of ``initial``, into ``spins``."""
        run = cxxjij.algorithm.Algorithm_SingleSpinFlip_run
        n_units, n_slices = initial.shape[1], cfg.trotter
        for k in range(initial.shape[0]):
            if _shutdown.is_set():
                raise _Interrupted("the interpreter is exiting")
            state = initial[k]
            if quantum_schedule:
                quantum.reset_spins([state.tolist()] * n_slices)
                run(quantum, int(run_seeds[k, 0]), quantum_schedule)
                world = np.asarray(quantum.trotter_spins)  # (n_units + 1, T); last row: auxiliary spin
                state = (world[:n_units, 0] * world[n_units, 0]).astype(np.int64)
                sqa_spins[k] = state
            if cfg.equilibration_sweeps:
                classical.reset_spins(state.tolist())
                run(classical, int(run_seeds[k, 1]), classical_schedule)
                state = np.asarray(cxxjij.result.get_solution(classical), dtype=np.int64)
            spins[k] = state

    def _sample(self, bm: BoltzmannMachine, num_samples: int, seed: np.random.SeedSequence, **params) -> SampleResult:
        cfg = self.resolve(params)
        graph, units = self.ising_graph(bm)
        n_units, n_slices = bm.num_variables, cfg.trotter
        initial, run_seeds = random_draws(seed, num_samples, n_units)

        quantum_schedule = self._transverse_schedule(cfg.quantum_steps())
        classical_schedule = [(1.0, cfg.equilibration_sweeps)]  # beta = 1 exactly
        quantum = cxxjij.system.make_transverse_ising([[1] * n_units] * n_slices, graph, cfg.gamma)
        classical = cxxjij.system.make_classical_ising([1] * n_units, graph)

        spins = np.empty((num_samples, n_units), dtype=np.int64)
        sqa_spins = np.empty_like(spins) if quantum_schedule else None
        global _running
        with _active:
            _running += 1
        try:
            with _openjij_openmp().limit(limits=cfg.num_threads):
                self._reads(cfg, quantum, classical, quantum_schedule, classical_schedule, initial, run_seeds,
                            spins, sqa_spins)
        finally:
            with _active:
                _running -= 1
                _active.notify_all()

        samples = np.empty((num_samples, n_units), dtype=np.uint8)
        samples[:, units] = spins > 0
        info: dict[str, Any] = {
            "trotter": cfg.trotter,
            "gamma": cfg.gamma,
            "anneal_sweeps": sum(n for _, _, n in cfg.quantum_steps()),
            "equilibration_sweeps": cfg.equilibration_sweeps,
        }
        if sqa_spins is not None:
            raw = np.empty_like(samples)
            raw[:, units] = sqa_spins > 0
            # Diagnostic: how far the raw SQA read-out was from beta = 1 before the finish.
            info["sqa_mean_energy"] = float(bm.energies(raw).mean())
        return SampleResult(samples, info)
