"""Effective inverse temperature of an annealer's samples (paper Sec. II, App. C).

An annealer samples ``exp(-beta_eff * H_{h,J})`` with an unknown ``beta_eff``. To sample
the prior ``exp(-E_{b,W})`` the QPU sampler programs ``(h, J) = (b, W) / beta_eff`` (in
spin form), so it needs an estimate of ``beta_eff``, updated as the device drifts.
Two estimators:

* ``"mpl"``: maximum pseudo-likelihood from the hardware samples alone,
  :func:`dwave.system.temperatures.maximum_pseudolikelihood_temperature` (no classical
  sampling; it measures the rate of local excitations).
* ``"c3"``: the paper's Eq. C3, a stochastic-gradient step on the likelihood of the
  hardware samples under an auxiliary Boltzmann machine ``exp(-beta H_{h,J})``:
  ``beta <- beta + lr * (E_aux[H] - E_hw[H])``, with the auxiliary expectation from a
  classical sampler (population annealing by default).

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

from dataclasses import dataclass, field

import dimod
import numpy as np

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

    Args:
        method: ``"mpl"`` or ``"c3"`` (see the module docstring).
        smoothing: weight of the newest MPL estimate in an exponential moving average
            (1 = use the newest alone).
        learning_rate: step size of the C3 update.
        aux_sampler: name of the classical sampler for C3's auxiliary expectation.
        aux_samples: auxiliary samples per C3 update.
        bounds: ``beta_eff`` is kept inside these bounds.

    Attributes:
        history: every estimate, in order.
    """

    method: str = "mpl"
    smoothing: float = 0.5
    learning_rate: float = 0.01
    aux_sampler: str = "pa"
    aux_samples: int = 500
    bounds: tuple[float, float] = (0.05, 50.0)
    history: list[float] = field(default_factory=list)

    def __post_init__(self):
        if self.method not in BETA_EFF_METHODS:
            raise ValueError(f"unknown beta_eff method {self.method!r}; choose one of {BETA_EFF_METHODS}")
        if not 0 < self.smoothing <= 1 or self.learning_rate <= 0:
            raise ValueError("need 0 < smoothing <= 1 and learning_rate > 0")
        self._aux = None

    def update(self, beta: float, programmed: dimod.BinaryQuadraticModel, spins: np.ndarray, variables,
               seed: int | None = None) -> float:
        """A new ``beta_eff`` from hardware ``spins`` drawn for the ``programmed`` Ising problem."""
        if self.method == "mpl":
            estimate = mpl_inverse_temperature(programmed, spins, variables)
            new = beta if not np.isfinite(estimate) else (1 - self.smoothing) * beta + self.smoothing * estimate
        else:
            new = beta + self.learning_rate * self._c3_gradient(beta, programmed, spins, variables, seed)
        new = float(np.clip(new, *self.bounds))
        self.history.append(new)
        return new

    def _c3_gradient(self, beta, programmed, spins, variables, seed) -> float:
        from .registry import get_sampler
        from .samplers.base import BoltzmannMachine

        if self._aux is None:
            self._aux = get_sampler(self.aux_sampler)
        spin_bqm = programmed.change_vartype(dimod.SPIN, inplace=False)
        hw_energy = spin_bqm.energies((np.asarray(spins), list(variables))).mean()
        aux_model = spin_bqm.copy()
        aux_model.scale(beta)
        bm, labels = BoltzmannMachine.from_bqm(aux_model)
        z = self._aux.sample_bm(bm, self.aux_samples, seed=seed).samples
        aux_energy = spin_bqm.energies((2 * z.astype(np.int8) - 1, labels)).mean()
        # d/dbeta log p_beta(s_hw) = -H(s_hw) + E_beta[H]
        return float(aux_energy - hw_energy)

    def get_state(self) -> dict[str, np.ndarray]:
        return {"history": np.asarray(self.history, np.float64)}

    def set_state(self, state) -> None:
        self.history = [float(v) for v in np.asarray(state.get("history", []))]
