"""Effective inverse temperature of an annealer's samples (paper Sec. II, App. C).

An annealer samples ``exp(-beta_eff * H_{h,J})`` with an unknown ``beta_eff``. To sample
the prior ``exp(-E_{b,W})`` the QPU sampler programs ``(h, J) = (b, W) / beta_eff`` (in
spin form), so it needs an estimate of ``beta_eff``, updated as the device drifts.
Two estimators:

* ``"mpl"``: maximum pseudo-likelihood from the hardware samples alone,
  :func:`dwave.system.temperatures.maximum_pseudolikelihood_temperature` (no classical
  sampling; it measures the rate of local excitations).
* ``"c3"``: the paper's Eq. C3, a step on the likelihood of the hardware samples under
  an auxiliary Boltzmann machine ``exp(-beta H_{h,J})``, whose gradient is
  ``E_aux[H] - E_hw[H]``, with the auxiliary expectation from a classical sampler passed
  in as an instance (population annealing by default). The step is scaled by the
  energy variance (a damped Newton step, ``d E_beta[H] / d beta = -Var_beta(H)``): the
  paper's fixed step oscillates once it times ``Var(H)`` exceeds 2, which a 288-unit
  graph reaches at the default.

:meth:`BetaEffEstimator.update` takes one step per batch (the online estimate);
:meth:`BetaEffEstimator.estimate` iterates on one batch until the estimate settles, for
the QPU sampler's calibration on its first informative call.

Example:
    >>> import dimod, numpy as np
    >>> bqm = dimod.BinaryQuadraticModel.from_ising({0: 1.0, 1: -0.5}, {(0, 1): -1.0})
    >>> beta = 2.0
    >>> states = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]])
    >>> p = np.exp(-beta * bqm.energies((states, [0, 1]))); p /= p.sum()
    >>> spins = states[np.random.default_rng(0).choice(4, 20000, p=p)]
    >>> round(mpl_inverse_temperature(bqm, spins), 1)
    2.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import dimod
import numpy as np
from scipy.sparse import coo_matrix

from ...validation import check_int, check_real
from ..base import BoltzmannSampler
from ..conversions import binary_to_spins
from ..machine import BoltzmannMachine

__all__ = ["mpl_inverse_temperature", "BetaEffEstimator", "BETA_EFF_METHODS"]

BETA_EFF_METHODS = ("mpl", "c3")


def mpl_inverse_temperature(bqm: dimod.BinaryQuadraticModel, spins: np.ndarray, variables=None) -> float:
    """Maximum pseudo-likelihood ``beta`` of ``spins`` (rows over ``variables``) for an Ising ``bqm``.

    Returns ``inf`` when every sample is a local minimum (no excitations seen).
    """
    from dwave.system.temperatures import maximum_pseudolikelihood_temperature

    variables = list(bqm.variables) if variables is None else list(variables)
    spin_bqm = bqm.change_vartype(dimod.SPIN, inplace=False)
    if not any(spin_bqm.linear.values()) and not any(spin_bqm.quadratic.values()):
        return float("inf")  # an all-zero problem says nothing about the temperature
    try:
        temperature, _ = maximum_pseudolikelihood_temperature(bqm=spin_bqm,
                                                              sampleset=(np.asarray(spins), variables))
    except ZeroDivisionError:  # dwave-system divides by the estimate when every local field vanishes
        return float("inf")
    return float("inf") if temperature <= 0 else 1.0 / float(temperature)


@dataclass
class BetaEffEstimator:
    """Online estimate of ``beta_eff``, updated from every batch of hardware samples.

    The C3 update is a damped Newton step on ``<H>_beta = E_hw`` (the likelihood's
    stationary point): ``d<H>_beta / d beta = -Var_beta(H)``, so

        beta <- beta + damping * (E_aux[H] - E_hw[H]) / Var_aux(H),

    which converges at every graph size (near the solution the error shrinks by a factor
    ``1 - damping`` per update). The paper's fixed step ``learning_rate * (E_aux - E_hw)``
    converges only while ``learning_rate * Var(H) < 2``, and ``Var(H)`` grows with the
    number of units and with ``1 / beta_eff^2`` (the programmed scale): with the default
    0.01 it oscillated on a 288-unit Chimera. A step never changes ``beta`` by more than a
    factor :attr:`MAX_STEP_FACTOR`, so a start far from the answer (0.1 or 3.0 for a true
    0.5) approaches it in a few updates instead of overshooting to the bounds.

    Args:
        method: ``"mpl"`` or ``"c3"`` (see the module docstring).
        smoothing: weight of the newest MPL estimate in an exponential moving average
            (1 = use the newest alone).
        learning_rate: ``None`` (default): the damped Newton step alone. A number: the
            paper's fixed step, used where it is the smaller of the two, so it can slow the
            update but never make it oscillate.
        aux_sampler: the classical :class:`~qhvae.samplers.base.BoltzmannSampler` for C3's
            auxiliary expectation (by name: ``qhvae.get_sampler("qpu", aux_sampler="gibbs")``);
            ``None``: population annealing, built on the first C3 update.
        aux_samples: auxiliary samples per C3 update.
        bounds: ``beta_eff`` is kept inside these bounds.
        damping: fraction of the Newton step taken per C3 update, in (0, 1]; smaller
            values average the estimate over more calls (stationary noise
            ``sqrt(damping / (2 - damping))`` times one batch's).

    Attributes:
        history: every estimate, in order.
        last_stderr: the statistical error of the latest update's estimate from its batch
            alone (NaN before the first update; ``inf`` when the batch said nothing about
            the temperature).

    Example:
        >>> est = BetaEffEstimator("mpl", smoothing=1.0)
        >>> est.set_state({"history": np.array([1.0, 1.5])})
        >>> est.history, sorted(est.get_state())
        ([1.0, 1.5], ['history'])
    """

    method: str = "mpl"
    smoothing: float = 0.5
    learning_rate: float | None = None
    aux_sampler: BoltzmannSampler | None = None
    aux_samples: int = 500
    bounds: tuple[float, float] = (0.05, 50.0)
    damping: float = 0.5
    history: list[float] = field(default_factory=list)
    last_stderr: float = field(default=float("nan"), init=False, repr=False)

    #: The most a single update (or calibration step) multiplies or divides ``beta`` by.
    MAX_STEP_FACTOR: ClassVar[float] = 2.0
    #: Newton iterations at most per calibration estimate (:meth:`estimate`).
    MAX_CALIBRATION_STEPS: ClassVar[int] = 20

    def __post_init__(self):
        if self.method not in BETA_EFF_METHODS:
            raise ValueError(f"unknown beta_eff method {self.method!r}; choose one of {BETA_EFF_METHODS}")
        check_real("smoothing", self.smoothing, minimum=0, maximum=1)
        check_real("damping", self.damping, minimum=0, maximum=1)
        if self.smoothing == 0 or self.damping == 0:
            raise ValueError(f"smoothing and damping must lie in (0, 1], got smoothing={self.smoothing}, "
                             f"damping={self.damping}: 0 would never move beta_eff")
        if self.learning_rate is not None:
            check_real("learning_rate", self.learning_rate, minimum=0, inclusive=False)
        check_int("aux_samples", self.aux_samples)
        if len(tuple(self.bounds)) != 2:
            raise ValueError(f"bounds must be a pair (low, high), got {self.bounds!r}")
        lo, hi = (check_real("bounds", b, minimum=0, inclusive=False) for b in self.bounds)
        if lo >= hi:
            raise ValueError(f"bounds must be (low, high) with 0 < low < high, got {self.bounds}")
        if self.aux_sampler is not None and not isinstance(self.aux_sampler, BoltzmannSampler):
            raise TypeError(
                f"aux_sampler must be a qhvae BoltzmannSampler instance or None, got {self.aux_sampler!r}; "
                f"build one by name with qhvae.get_sampler({self.aux_sampler!r}), or pass aux_sampler by name "
                "to qhvae.get_sampler('qpu', ...), which builds it"
            )

    def update(self, beta: float, programmed: dimod.BinaryQuadraticModel, spins: np.ndarray, variables,
               seed: int | None = None) -> float:
        """A new ``beta_eff`` from hardware ``spins`` drawn for the ``programmed`` Ising problem.

        ``beta`` is the estimate the problem was programmed with. One step: the MPL moving
        average, or one damped Newton step of C3. Recorded in :attr:`history`.
        """
        if self.method == "mpl":
            estimate, self.last_stderr = self._mpl(programmed, spins, variables)
            new = beta if not np.isfinite(estimate) else (1 - self.smoothing) * beta + self.smoothing * estimate
        else:
            spin_bqm = programmed.change_vartype(dimod.SPIN, inplace=False)
            hw = self._hw_energies(spin_bqm, spins, variables)
            new, self.last_stderr = self._c3_step(beta, spin_bqm, hw, seed, self.damping, self.learning_rate,
                                                  self.aux_samples)
        new = self._clip(new)
        self.history.append(new)
        return new

    def estimate(self, beta: float, programmed: dimod.BinaryQuadraticModel, spins: np.ndarray, variables,
                 seed: int | None = None) -> tuple[float, float]:
        """``beta_eff`` from this batch alone, iterated until it settles, and its standard error.

        For calibration: nothing is recorded in :attr:`history`. MPL is direct (the
        maximum of the pseudo-likelihood; its error from the pseudo-likelihood's curvature,
        which ignores the correlations between units and so errs on the small side). C3
        takes full Newton steps on the same hardware samples, a fresh auxiliary sample at
        every step (as many as the hardware samples, ``aux_samples`` at least, so that the
        auxiliary mean is no less precise than the hardware's), until a step is smaller
        than the estimate's error (:attr:`MAX_CALIBRATION_STEPS` at most).

        Returns:
            ``(estimate, stderr)``; ``(beta, inf)`` when the samples say nothing about the
            temperature (an all-zero problem, or every sample a local minimum).
        """
        if self.method == "mpl":
            estimate, stderr = self._mpl(programmed, spins, variables)
            return (self._clip(estimate), stderr) if np.isfinite(estimate) else (float(beta), float("inf"))
        spin_bqm = programmed.change_vartype(dimod.SPIN, inplace=False)
        hw = self._hw_energies(spin_bqm, spins, variables)
        seeds = np.random.SeedSequence(seed).generate_state(self.MAX_CALIBRATION_STEPS, dtype=np.uint32)
        current, stderr = float(beta), float("inf")
        num_aux = max(self.aux_samples, hw.size)
        for step_seed in seeds:
            new, stderr = self._c3_step(current, spin_bqm, hw, int(step_seed >> 1), 1.0, None, num_aux)
            new = self._clip(new)
            moved = abs(new - current)
            current = new
            if not np.isfinite(stderr) or moved <= stderr:
                break
        return current, stderr

    def _clip(self, beta: float) -> float:
        return float(np.clip(beta, *self.bounds))

    # -- MPL -----------------------------------------------------------------------------

    @staticmethod
    def _mpl(programmed, spins, variables) -> tuple[float, float]:
        """The MPL estimate and its standard error ``1 / sqrt(I)`` from the observed information.

        With local fields ``F_i(s) = h_i + sum_j J_ij s_j``, the pseudo-log-likelihood's
        second derivative is ``-sum F_i^2 / cosh^2(beta F_i)`` over samples and units.
        """
        estimate = mpl_inverse_temperature(programmed, spins, variables)
        if not np.isfinite(estimate):
            return estimate, float("inf")
        spin_bqm = programmed.change_vartype(dimod.SPIN, inplace=False)
        labels = list(variables)
        h, (rows, cols, J), _ = spin_bqm.to_numpy_vectors(variable_order=labels)
        s = np.asarray(spins, np.float64)
        n = len(labels)
        couplings = coo_matrix((np.r_[J, J], (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n)).tocsr()
        fields = np.asarray(h, np.float64) + np.asarray(couplings @ s.T).T
        information = float(np.sum(fields**2 / np.cosh(np.clip(estimate * fields, -350, 350)) ** 2))
        return estimate, (1.0 / math.sqrt(information) if information > 0 else float("inf"))

    # -- C3 ------------------------------------------------------------------------------

    def _aux(self) -> BoltzmannSampler:
        if self.aux_sampler is None:
            # The paper's choice, and a sampler of the same layer: imported here so that
            # the MPL estimator never loads population annealing.
            from ..pa import PopulationAnnealingSampler

            self.aux_sampler = PopulationAnnealingSampler()
        return self.aux_sampler

    @staticmethod
    def _hw_energies(spin_bqm, spins, variables) -> np.ndarray:
        return spin_bqm.energies((np.asarray(spins), list(variables)))

    def _c3_step(self, beta: float, spin_bqm: dimod.BinaryQuadraticModel, hw_energy: np.ndarray, seed,
                 damping: float, learning_rate: float | None, num_aux: int) -> tuple[float, float]:
        """One C3 step from ``beta`` and the statistical error of the estimate it aims at.

        The step is ``damping`` times the Newton step ``(E_aux - E_hw) / Var_aux`` (the
        paper's ``learning_rate * (E_aux - E_hw)`` where that is smaller), then limited to
        a factor :attr:`MAX_STEP_FACTOR`. The error of the Newton target is
        ``sqrt(Var_hw / N_hw + Var_aux / N_aux) / Var_aux`` (the two means are independent).
        """
        aux_model = spin_bqm.copy()
        aux_model.scale(beta)
        bm, labels = BoltzmannMachine.from_bqm(aux_model)
        z = self._aux().sample_bm(bm, num_aux, seed=seed).samples
        aux_energy = spin_bqm.energies((binary_to_spins(z), labels))
        # d/dbeta log p_beta(s_hw) = -H(s_hw) + E_beta[H]: the paper's gradient
        gradient = float(aux_energy.mean() - hw_energy.mean())
        variance = float(aux_energy.var())
        scale = max(1.0, float(np.abs(aux_energy).max(initial=0.0)))
        if variance <= 1e-12 * scale**2:
            # One energy level only: no curvature to scale by. Move by the largest step
            # towards the hardware's energy (none if it agrees).
            stderr = float("inf")
            if abs(gradient) <= 1e-12 * scale:
                return beta, stderr
            newton = math.copysign(float("inf"), gradient)
        else:
            stderr = math.sqrt(hw_energy.var() / max(1, hw_energy.size) + variance / aux_energy.size) / variance
            newton = gradient / variance
        step = damping * newton
        if learning_rate is not None and abs(learning_rate * gradient) < abs(step):
            step = learning_rate * gradient
        new = min(max(beta + step, beta / self.MAX_STEP_FACTOR), beta * self.MAX_STEP_FACTOR)
        return float(new), float(stderr)

    def get_state(self) -> dict[str, np.ndarray]:
        """The history of estimates and, for C3, the auxiliary sampler's persistent state (``aux/...``).

        An auxiliary sampler with chains (Gibbs/PCD) continues them after a restore, so a
        resumed run takes the same next C3 step as an uninterrupted one.
        """
        state = {"history": np.asarray(self.history, np.float64)}
        if self.aux_sampler is not None:
            state.update({f"aux/{k}": v for k, v in self.aux_sampler.get_state().items()})
        return state

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned (missing keys: an empty history, fresh aux chains)."""
        self.history = [float(v) for v in np.asarray(state.get("history", []))]
        aux = {k.split("/", 1)[1]: v for k, v in state.items() if k.startswith("aux/")}
        if aux:
            self._aux().set_state(aux)
        elif self.aux_sampler is not None and self.aux_sampler.persistent:
            self.aux_sampler.set_state({})
