"""The paper's studies as data: which runs each one trains, at which budget, and what the paper found.

An :class:`Experiment` is a list of :class:`Arm` s (the configurations compared, each a
set of :class:`~qhvae.training.TrainConfig` fields), a number of seeds, and the paper's
findings written as :class:`Claim` s that the runner checks against our numbers. A
:class:`Budget` sets everything the arms leave alone (data, epochs, network widths,
evaluation sizes, the negative-phase sampler), so one experiment runs in seconds
(``smoke``), on two CPU cores (``cpu``, the default: for the paper's six studies 8x8 digits
and 48 units, within an hour in all; the ``headline`` and ``recipe`` studies adjust it to
full MNIST with 288 units, under an hour per run), at the paper's image and latent sizes on
a CPU (``mnist``: 288 units, a few epochs) or at the paper's scale (``paper``, which needs
a GPU: 2000 epochs of 50,000 MNIST images per run). A study's own meaning of a budget is
its :meth:`Experiment.budget` description (``qhvae experiment NAME --dry-run`` prints it).

The classes and the shared budgets are in :mod:`~qhvae.experiments.design`; this module
holds the paper's six studies and :data:`EXPERIMENTS`, every study by name, which adds the
four run at the headline's budget from :mod:`~qhvae.experiments.headline_studies`
(``headline``, ``recipe``, ``conditional`` and ``hidden``); it re-exports the names of both.

Example:
    >>> exp = EXPERIMENTS["mapping"]
    >>> [arm.label for arm in exp.arms]
    ['bipartite', 'chains']
    >>> exp.base_config("cpu").prior
    'chimera'
"""

from __future__ import annotations

from ..exceptions import UnknownNameError
from .design import BUDGETS, EQUAL_48_UNITS, Arm, Budget, BudgetChange, Claim, Experiment
from .headline_studies import HEADLINE_EPOCHS, HEADLINE_STUDIES, RECIPE_KL_FRACTIONS

__all__ = ["Arm", "Budget", "BudgetChange", "Claim", "Experiment", "BUDGETS", "EXPERIMENTS", "EQUAL_48_UNITS",
           "get_experiment", "HEADLINE_EPOCHS", "RECIPE_KL_FRACTIONS"]


# --------------------------------------------------------------------------------------
# the paper's studies
# --------------------------------------------------------------------------------------

_CONNECTIVITY_ARMS = (
    Arm("bernoulli", {"prior": "bernoulli"}, color="C0"),
    Arm("chimera", {"prior": "chimera"}, color="C1"),
    Arm("pegasus", {"prior": "pegasus"}, color="C2"),
    Arm("rbm", {"prior": "rbm"}, color="C3"),
)

_LOW_NOISE = {"noise_profile": "low"}  # the same runs as the noise study's "low" arm

#: Every study by name: the paper's six, then the four at the headline's budget
#: (:mod:`~qhvae.experiments.headline_studies`).
EXPERIMENTS: dict[str, Experiment] = {}


def _add(exp: Experiment) -> None:
    EXPERIMENTS[exp.name] = exp


_add(Experiment(
    name="connectivity",
    title="Connectivity of the prior: Bernoulli vs Chimera vs Pegasus vs full RBM",
    figure="Fig. 6 (and Table I, Fig. 5 for Chimera vs Bernoulli)",
    summary=("The same encoder and decoder with four priors on the same number of latent units: independent "
             "Bernoulli units, a Chimera graph, a Pegasus graph and a complete bipartite RBM. Test "
             "log-likelihood and active units over training."),
    arms=_CONNECTIVITY_ARMS,
    claims=(
        Claim("a denser prior gives a better log-likelihood: Pegasus beats Chimera", "log_likelihood",
              "pegasus", "chimera", source="Fig. 6 left"),
        Claim("a denser prior gives a better log-likelihood: the full RBM beats Chimera", "log_likelihood",
              "rbm", "chimera", source="Fig. 6 left"),
        Claim("Chimera beats the Bernoulli baseline", "log_likelihood", "chimera", "bernoulli",
              source="Table I: -82.8 vs -84.2 nats (PA)"),
        Claim("Pegasus uses more latent units than Chimera", "active_units", "pegasus", "chimera",
              source="Fig. 6 right: well above vs well below 150 of 288"),
        Claim("the full RBM uses more latent units than Chimera", "active_units", "rbm", "chimera",
              source="Fig. 6 right"),
        Claim("Chimera uses more latent units than Bernoulli", "active_units", "chimera", "bernoulli",
              source="Fig. 5"),
    ),
))

_add(Experiment(
    name="mapping",
    title="Hierarchical posterior mapping on Chimera: chains vs bipartite",
    figure="Fig. 8",
    summary=("A Chimera prior with the two-group hierarchical posterior laid out two ways: the groups are the "
             "two sides of the bipartite graph, or alternate along the chains. Test log-likelihood and active "
             "units over training."),
    arms=(Arm("bipartite", {"mapping": "bipartite"}, color="C1"),
          Arm("chains", {"mapping": "chains"}, color="C4")),
    claims=(
        Claim("the chains mapping gives a better log-likelihood", "log_likelihood", "chains", "bipartite",
              source="Fig. 8 left"),
        Claim("the chains mapping uses more latent units", "active_units", "chains", "bipartite",
              source="Fig. 8 right"),
    ),
    config={"prior": "chimera"},
))

_add(Experiment(
    name="samplers",
    title="Samplers: population annealing vs the (emulated) quantum annealer, each with its Bernoulli baseline",
    figure="Table I, Fig. 5",
    summary=("A Chimera prior and its Bernoulli baseline, trained with negative phases from population annealing "
             "or from the qpu path on the noise-injecting emulator (the 'low' profile, beta_eff estimated online). "
             "The Bernoulli prior's samples come from the same sampler, so each pair shares everything but the "
             "couplings."),
    arms=(Arm("pa/chimera", {"prior": "chimera", "sampler": "pa"}, color="C1"),
          Arm("pa/bernoulli", {"prior": "bernoulli", "sampler": "pa"}, color="C0"),
          Arm("emulator/chimera", {"prior": "chimera", "sampler": "emulator", "sampler_options": _LOW_NOISE},
              color="C1", linestyle="--"),
          Arm("emulator/bernoulli", {"prior": "bernoulli", "sampler": "emulator", "sampler_options": _LOW_NOISE},
              color="C0", linestyle="--")),
    claims=(
        Claim("with PA, Chimera beats its Bernoulli baseline", "log_likelihood", "pa/chimera", "pa/bernoulli",
              source="Table I: -82.8 ± 0.3 vs -84.2 ± 0.05"),
        Claim("with the annealer, Chimera beats its Bernoulli baseline", "log_likelihood", "emulator/chimera",
              "emulator/bernoulli", source="Table I: -82.8 ± 0.3 vs -83.7 ± 0.2 (DW2000Q)"),
        Claim("the annealer-trained Chimera model matches the PA-trained one", "log_likelihood",
              "emulator/chimera", "pa/chimera", relation="~", source="Table I: -82.8 both"),
        Claim("PA-trained Chimera uses more units than annealer-trained Chimera", "active_units", "pa/chimera",
              "emulator/chimera", source="Fig. 5"),
        Claim("annealer-trained Chimera uses more units than its Bernoulli baseline", "active_units",
              "emulator/chimera", "emulator/bernoulli", source="Fig. 5"),
    ),
    curves=("test_log_likelihood", "test_active_units", "beta_eff"),
    columns=("log_likelihood", "active_units", "elbo", "weight_l1", "beta_eff"),
))

_add(Experiment(
    name="noise",
    title="Noise: training on emulated annealers with different noise profiles",
    figure="Fig. 11",
    summary=("The Chimera model trained on the emulator with its 'ideal', 'low' and 'high' noise profiles "
             "(docs/emulator.md lists every parameter) and with noiseless population annealing: log-likelihood, "
             "weight L1 (W in units of beta_eff, Eq. 17), active units and the beta_eff estimate over training."),
    arms=(Arm("pa", {"sampler": "pa"}, color="k"),
          Arm("ideal", {"sampler": "emulator", "sampler_options": {"noise_profile": "ideal"}}, color="C2"),
          Arm("low", {"sampler": "emulator", "sampler_options": {"noise_profile": "low"}}, color="C0"),
          Arm("high", {"sampler": "emulator", "sampler_options": {"noise_profile": "high"}}, color="C3")),
    claims=(
        Claim("the low-noise annealer reaches the log-likelihood of PA", "log_likelihood", "low", "pa",
              relation="~", source="Fig. 11(a)"),
        Claim("the low-noise annealer beats the noisier one", "log_likelihood", "low", "high",
              source="Fig. 11(a): the Baseline DW2000Q diverged"),
        Claim("PA uses more latent units than the noisy annealer", "active_units", "pa", "high",
              source="Fig. 11(c)"),
        Claim("PA uses more latent units than the low-noise annealer", "active_units", "pa", "low",
              source="Fig. 11(c)"),
        Claim("the lower-noise annealer uses more latent units than the noisier one", "active_units", "low",
              "high", source="Fig. 11(c)"),
    ),
    curves=("test_log_likelihood", "weight_l1", "test_active_units", "beta_eff"),
    columns=("log_likelihood", "active_units", "weight_l1", "beta_eff", "elbo"),
    config={"prior": "chimera"},
))

_add(Experiment(
    name="datasets",
    title="Datasets: active units on MNIST vs Fashion-MNIST",
    figure="Fig. 9",
    summary=("The connectivity study's four priors trained on MNIST and on Fashion-MNIST (Debian's "
             "dataset-fashion-mnist), both 28x28 with dynamic binarization: active units over training. The "
             "paper: every sparse prior uses many more units on the more complex Fashion-MNIST; the fully "
             "connected one does not."),
    arms=tuple(
        Arm(f"{data}/{arm.label}", {**arm.overrides, "dataset": data}, color=arm.color, linestyle=style)
        for data, style in (("mnist", "--"), ("fashion_mnist", "-")) for arm in _CONNECTIVITY_ARMS
    ),
    claims=tuple(
        Claim(f"{label} uses more latent units on Fashion-MNIST than on MNIST", "active_units",
              f"fashion_mnist/{label}", f"mnist/{label}", source="Fig. 9 right")
        for label in ("bernoulli", "chimera", "pegasus")
    ),
    curves=("test_active_units", "test_log_likelihood"),
    columns=("active_units", "log_likelihood", "elbo"),
    budgets={
        "smoke": BudgetChange(config={"train_limit": 64, "eval_num_images": 16, "track_num_images": 16}),
        "cpu": BudgetChange(alias="mnist", seeds=1),  # 28x28 images at a CPU budget: the mnist budget, one seed
    },
))

_add(Experiment(
    name="modes",
    title="Modes: block-Gibbs chains on the trained priors, decoded to images",
    figure="Fig. 10",
    summary=("For each connectivity, block-Gibbs chains on the trained prior from uniformly random states, one "
             "full sweep (every colour class once) per frame, decoded to images. Denser priors should develop "
             "well-defined modes: consecutive frames stay similar for longer. Two statistics over many chains: "
             "the lag-1 autocorrelation of the latent units between sweeps, and the distance between "
             "consecutive decoded frames relative to frames of two different chains (1: uncorrelated)."),
    arms=_CONNECTIVITY_ARMS,
    claims=(
        Claim("Chimera chains are more correlated than Bernoulli ones", "latent_autocorrelation", "chimera",
              "bernoulli", source="Fig. 10(a), (b)"),
        Claim("Pegasus chains are more correlated than Chimera ones", "latent_autocorrelation", "pegasus",
              "chimera", source="Fig. 10(b), (c)"),
        Claim("full-RBM chains are more correlated than Chimera ones", "latent_autocorrelation", "rbm", "chimera",
              source="Fig. 10(d)"),
    ),
    columns=("latent_autocorrelation", "frame_distance_ratio", "active_units", "log_likelihood"),
    analysis="modes",
))

# then the four at the headline's budget
EXPERIMENTS.update({exp.name: exp for exp in HEADLINE_STUDIES})


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; a clear error lists the others.

    Example:
        >>> get_experiment("noise").figure
        'Fig. 11'
    """
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise UnknownNameError(f"unknown experiment {name!r}; known experiments: {', '.join(EXPERIMENTS)}") from None
