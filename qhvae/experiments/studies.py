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

Example:
    >>> exp = EXPERIMENTS["mapping"]
    >>> [arm.label for arm in exp.arms]
    ['bipartite', 'chains']
    >>> exp.base_config("cpu").prior
    'chimera'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigError, UnknownNameError
from ..training.config import TrainConfig

__all__ = ["Arm", "Budget", "BudgetChange", "Claim", "Experiment", "BUDGETS", "EXPERIMENTS", "EQUAL_48_UNITS", "get_experiment"]


@dataclass(frozen=True)
class Arm:
    """One configuration an experiment compares.

    Attributes:
        label: its name in tables and legends (also the run folder's prefix).
        overrides: :class:`~qhvae.training.TrainConfig` fields that make this arm what it is.
        color: the matplotlib colour of its curves (arms sharing a colour are one model).
        linestyle: the line style (e.g. ``"--"`` for the second dataset).
    """

    label: str
    overrides: dict[str, Any] = field(default_factory=dict)
    color: str | None = None
    linestyle: str = "-"


@dataclass(frozen=True)
class Budget:
    """How big every run of an experiment is.

    Attributes:
        name: ``smoke``, ``cpu``, ``mnist`` or ``paper``.
        config: :class:`~qhvae.training.TrainConfig` fields shared by every arm.
        seeds: independent runs per arm (the spread in the tables is over these).
        description: one line for tables and docs.
        graphs: latent-graph options per prior family, used when a run sets no
            ``graph_options`` (so priors compared at this budget have the same number of
            units); empty: the defaults (the paper's 288 units for 28x28 images).
    """

    name: str
    config: dict[str, Any]
    seeds: int
    description: str
    graphs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetChange:
    """How one study changes a shared :class:`Budget` (an entry of :attr:`Experiment.budgets`).

    Attributes:
        config: :class:`~qhvae.training.TrainConfig` fields that replace the budget's.
        seeds: seeds per arm instead of the budget's (``None``: the budget's).
        graphs: graph options per prior family instead of the budget's (``None``: the
            budget's; ``{}``: the families' defaults, the paper's 288 units).
        alias: another budget this study runs instead (the datasets study needs 28x28
            images: its ``cpu`` budget is the ``mnist`` one).
        description: the line that describes the budget when this change makes it
            something else than the shared one (``None``: the budget's).
    """

    config: dict[str, Any] = field(default_factory=dict)
    seeds: int | None = None
    graphs: dict[str, dict[str, Any]] | None = None
    alias: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Claim:
    """A finding of the paper, stated as a comparison of two arms' final ``metric``.

    ``relation`` is ``">"`` (``first`` beats ``second``), ``"<"`` (``first`` beats
    ``second`` by being lower: a distance) or ``"~"`` (they are the same within the runs'
    spread). The runner's verdicts: *reproduced* (the difference has the
    paper's sign and exceeds twice its standard error over seeds, or for ``~`` lies within
    it), *same direction, within noise*, *not reproduced*, or *not run*.
    """

    text: str
    metric: str
    first: str
    second: str
    relation: str = ">"
    source: str = ""


@dataclass(frozen=True)
class Experiment:
    """One of the paper's studies.

    Attributes:
        name: the ``qhvae experiment NAME`` name.
        title: a heading.
        figure: where the paper shows it.
        summary: what is compared, one paragraph.
        arms: the configurations compared.
        claims: the paper's findings, checked against our results.
        curves: history keys drawn over training (``test_log_likelihood``, ...).
        columns: final metrics in the summary table, in order.
        config: :class:`~qhvae.training.TrainConfig` fields shared by the arms (before the
            budget's: e.g. the prior of the mapping study).
        budgets: per budget name, how this study changes the shared budget (a
            :class:`BudgetChange`: its fields, seeds, graphs, another budget to run instead,
            and the line that then describes it); budgets not named are the shared ones.
        analysis: extra per-run analysis the runner does: ``"modes"`` (block-Gibbs chains).
        reuses_records_of: studies whose archived records (``OUT/../NAME/records``) this one
            reads for runs it shares with them instead of training them again (the recipe
            study's paper-schedule arms are the headline's runs).
    """

    name: str
    title: str
    figure: str
    summary: str
    arms: tuple[Arm, ...]
    claims: tuple[Claim, ...] = ()
    curves: tuple[str, ...] = ("test_log_likelihood", "test_active_units")
    columns: tuple[str, ...] = ("log_likelihood", "active_units", "elbo", "weight_l1")
    config: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, BudgetChange] = field(default_factory=dict)
    analysis: str | None = None
    reuses_records_of: tuple[str, ...] = ()

    def budget(self, name: str) -> Budget:
        """The budget ``name`` with this experiment's adjustments."""
        if name not in BUDGETS:
            raise ConfigError(f"unknown budget {name!r}; known budgets: {', '.join(BUDGETS)}")
        change = self.budgets.get(name, BudgetChange())
        base = BUDGETS[change.alias or name]
        return Budget(name, {**base.config, **self.config, **change.config},
                      base.seeds if change.seeds is None else change.seeds,
                      change.description or base.description,
                      base.graphs if change.graphs is None else change.graphs)

    def base_config(self, budget: str = "cpu", overrides: dict[str, Any] | None = None) -> TrainConfig:
        """The :class:`~qhvae.training.TrainConfig` every arm starts from (``overrides`` last)."""
        return TrainConfig.from_dict({**TrainConfig().to_dict(), **self.budget(budget).config, **(overrides or {})})

    def arm(self, label: str) -> Arm:
        for arm in self.arms:
            if arm.label == label:
                return arm
        raise UnknownNameError(f"experiment {self.name!r} has no arm {label!r}; its arms: "
                       f"{', '.join(a.label for a in self.arms)}")


# --------------------------------------------------------------------------------------
# budgets
# --------------------------------------------------------------------------------------

#: 48 units in every family, for 8x8 images: the paper compares priors on equal unit counts
#: (288), and 48 is the smallest count that Chimera (2x3 cells), Pegasus (1x2 nice-cell
#: positions) and a balanced RBM share. Couplings: 0, 124, 220 and 576.
EQUAL_48_UNITS: dict[str, dict[str, Any]] = {
    "bernoulli": {"num_nodes": 48},
    "chimera": {"m": 2, "n": 3},
    "pegasus": {"m": 3, "rows": 1, "cols": 2},
    "zephyr": {"m": 1, "num_units": 48},
    "rbm": {"n_left": 24},
    "full": {"num_nodes": 48},
}

_EVAL_SMOKE = dict(eval_num_images=24, eval_num_samples=16, eval_log_z_replicas=200, num_plot_samples=16,
                   gibbs_chain_steps=8, track_every_epochs=1, track_num_images=24, track_num_samples=8,
                   track_log_z_replicas=200)

BUDGETS: dict[str, Budget] = {
    # Fully connected networks: a tiny conv model costs three times as long to trace as to train.
    "smoke": Budget("smoke", dict(dataset="digits", sampler="pa", train_limit=96, epochs=2, batch_size=32,
                                  num_negative_samples=64, network="fc", network_options={"hidden": [32]},
                                  **_EVAL_SMOKE),
                    seeds=1, description="seconds: wiring checks only (96 digits, 2 epochs, tiny fc networks)",
                    graphs=EQUAL_48_UNITS),
    # The cpu, mnist and paper budgets name their network: they were designed, and their runs
    # named, with the paper's conv networks, which were TrainConfig's default then.
    "cpu": Budget("cpu", dict(dataset="digits", sampler="pa", network="conv", epochs=40, batch_size=32, num_negative_samples=500,
                              base_filters=16, hidden=128, kl_anneal_fraction=0.5, eval_num_images=297,
                              eval_num_samples=1000, eval_log_z_replicas=4000, num_plot_samples=64,
                              gibbs_chain_steps=64, track_every_epochs=4, track_num_images=200,
                              track_num_samples=100, track_log_z_replicas=1000),
                  seeds=3, description="two CPU cores, well under an hour per experiment: 8x8 digits (1,250 "
                                       "training images), 48 latent units, 40 epochs",
                  graphs=EQUAL_48_UNITS),
    "mnist": Budget("mnist", dict(dataset="mnist", sampler="gibbs", network="conv", train_limit=10000, epochs=10, batch_size=100,
                                  num_negative_samples=500, base_filters=8, hidden=256, kl_anneal_fraction=0.5,
                                  eval_num_images=300, eval_num_samples=200, eval_log_z_replicas=4000,
                                  num_plot_samples=64, gibbs_chain_steps=64, track_every_epochs=2,
                                  track_num_images=200, track_num_samples=50, track_log_z_replicas=1000),
                    seeds=1, description="two CPU cores, the paper's image and latent sizes: 10,000 MNIST (or "
                                         "Fashion-MNIST) images, 288 latent units, 10 epochs (1,000 steps), "
                                         "block-Gibbs negative phase"),
    "paper": Budget("paper", dict(dataset="mnist", sampler="pa", network="conv", epochs=2000, batch_size=100, num_negative_samples=1000,
                                  base_filters=32, hidden=512, kl_anneal_fraction=0.1, learning_rate=3e-3,
                                  final_learning_rate=1e-4, eval_num_images=10000, eval_num_samples=1000,
                                  eval_log_z_replicas=10000, track_every_epochs=20, track_num_images=1000,
                                  track_num_samples=100, track_log_z_replicas=4000),
                    seeds=5, description="the paper's scale (GPU): MNIST, 288 latent units, 2000 epochs of "
                                         "batch 100, 5 seeds"),
}

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


#: The headline study's runs: full MNIST (the 50,000-image ``train`` split; 10,000 held out for validation; dynamic binarization, all
#: 10,000 test images), fully connected networks, the paper's 288 units, schedules scaled to
#: the epochs. Sized so a block-Gibbs run takes well under an hour on two CPU cores.
HEADLINE_EPOCHS = 50
_HEADLINE = dict(dataset="mnist", train_limit=None, network="fc", network_options=None, epochs=HEADLINE_EPOCHS,
                 batch_size=100, num_negative_samples=1000, k=1, d=8, kl_anneal_fraction=0.1,
                 learning_rate=3e-3, final_learning_rate=1e-4, eval_num_images=10000, eval_num_samples=1000,
                 eval_log_z_replicas=10000, num_plot_samples=64, gibbs_chain_steps=64,
                 track_every_epochs=5, track_num_images=1000, track_num_samples=100, track_log_z_replicas=2000)

#: The emulated annealer of the headline study: the 'low' noise profile, beta_eff estimated
#: online (MPL) on every 10th call, and 64 block-Gibbs sweeps per read instead of the profile's
#: 1024. At 1024 sweeps (and an estimate every call) one call of 1000 reads took 0.7 s on two
#: cores, six hours per run; with these settings it takes about 0.1 s.
_HEADLINE_ANNEALER = {"noise_profile": "low", "num_sweeps": 64, "estimate_every": 10}


def _headline_budgets(cpu_description: str) -> dict[str, BudgetChange]:
    """The ``cpu``, ``mnist`` and ``paper`` budgets of the studies run at the headline's budget."""
    return {
        "cpu": BudgetChange(config=_HEADLINE, seeds=3, graphs={}, description=cpu_description),
        "mnist": BudgetChange(config=_HEADLINE, seeds=3, graphs={}, description="as cpu"),
        "paper": BudgetChange(config=dict(_HEADLINE, epochs=2000, track_every_epochs=20), graphs={},
                              description="the paper's 2000 epochs with fully connected networks (a GPU's work)"),
    }

_add(Experiment(
    name="headline",
    title="The headline on full MNIST: a Boltzmann prior vs independent Bernoulli units",
    figure="Table I, Fig. 5, Fig. 6",
    summary=("Fully connected encoder and decoder (784-512-256 and back, tanh) on full MNIST with 288 latent units: "
             "independent Bernoulli units; a Chimera prior trained with population annealing, with block Gibbs "
             "and with the emulated annealer ('low' noise, beta_eff estimated online); and the full 144+144 RBM. "
             "The paper's claim: the Chimera prior beats Bernoulli units, denser graphs do better still, and the "
             "annealer matches PA."),
    arms=(
        Arm("bernoulli", {"prior": "bernoulli", "sampler": "gibbs"}, color="C0"),
        Arm("chimera/pa", {"prior": "chimera", "sampler": "pa"}, color="C1"),
        Arm("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, color="C1", linestyle="--"),
        Arm("rbm", {"prior": "rbm", "sampler": "gibbs"}, color="C3"),
        Arm("chimera/annealer", {"prior": "chimera", "sampler": "emulator", "sampler_options": _HEADLINE_ANNEALER},
            color="C4"),
    ),
    claims=(
        Claim("Chimera (PA) beats the Bernoulli baseline", "log_likelihood", "chimera/pa", "bernoulli",
              source="Table I: -82.8 ± 0.3 vs -84.2 ± 0.05 nats"),
        Claim("Chimera (block Gibbs) beats the Bernoulli baseline", "log_likelihood", "chimera/gibbs", "bernoulli",
              source="Table I (with our Gibbs negative phase)"),
        Claim("the denser full RBM beats Chimera", "log_likelihood", "rbm", "chimera/gibbs", source="Fig. 6 left"),
        Claim("the annealer-trained Chimera model matches the PA-trained one", "log_likelihood",
              "chimera/annealer", "chimera/pa", relation="~", source="Table I: -82.8 both"),
        Claim("annealer-trained Chimera beats the Bernoulli baseline", "log_likelihood", "chimera/annealer",
              "bernoulli", source="Table I: -82.8 vs -84.2"),
        Claim("Chimera uses more latent units than Bernoulli", "active_units", "chimera/pa", "bernoulli",
              source="Fig. 5"),
    ),
    curves=("test_log_likelihood", "test_active_units", "weight_l1", "beta_eff"),
    columns=("log_likelihood", "elbo", "active_units", "weight_l1", "beta_eff"),
    budgets={
        "smoke": BudgetChange(config=dict(network="fc", network_options={"hidden": [32]}, num_negative_samples=64,
                                          kl_anneal_fraction=0.5)),
        # the paper's 288 units (graphs={}: the families' defaults)
        **_headline_budgets(
            f"two CPU cores, under an hour per run: full MNIST (50,000 training images, all 10,000 test "
            f"images), fully connected networks, 288 latent units, {HEADLINE_EPOCHS} epochs, 3 seeds"),
    },
))


#: The recipe study's KL annealing fractions: the paper's 0.1 (the headline's runs, whose
#: records it reuses) and two longer warm-ups.
RECIPE_KL_FRACTIONS = (0.1, 0.3, 0.5)

_RECIPE_ARMS = tuple(
    Arm(f"{label}/kl{fraction}", {**overrides, "kl_anneal_fraction": fraction}, color=color,
        linestyle={0.1: ":", 0.3: "--", 0.5: "-"}[fraction])
    for label, overrides, color in (("bernoulli", {"prior": "bernoulli", "sampler": "gibbs"}, "C0"),
                                    ("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, "C1"))
    for fraction in RECIPE_KL_FRACTIONS
)

_add(Experiment(
    name="recipe",
    title="The recipe: does Chimera's lead over Bernoulli survive a better-tuned KL schedule?",
    figure="Table I (headline) with the KL warm-up varied",
    summary=("The headline's two fast arms (independent Bernoulli units; Chimera with a block-Gibbs negative "
             "phase) on full MNIST at the headline's budget, with the KL term annealed over the first 10% "
             "(the paper's schedule: the headline's own runs), 30% or 50% of training. The question: is "
             "'Chimera beats Bernoulli' an artefact of an under-tuned baseline?"),
    arms=_RECIPE_ARMS,
    claims=tuple(
        Claim(f"Chimera (block Gibbs) beats Bernoulli with KL warm-up {fraction}", "log_likelihood",
              f"chimera/gibbs/kl{fraction}", f"bernoulli/kl{fraction}", source="Table I, with our schedules")
        for fraction in RECIPE_KL_FRACTIONS
    ) + tuple(
        Claim(f"{label}: a KL warm-up of {fraction} beats the paper's 0.1", "log_likelihood",
              f"{label}/kl{fraction}", f"{label}/kl0.1", source="issue #25")
        for label in ("bernoulli", "chimera/gibbs") for fraction in RECIPE_KL_FRACTIONS[1:]
    ) + tuple(
        Claim(f"Chimera uses more latent units than Bernoulli with KL warm-up {fraction}", "active_units",
              f"chimera/gibbs/kl{fraction}", f"bernoulli/kl{fraction}", source="Fig. 5")
        for fraction in RECIPE_KL_FRACTIONS
    ),
    curves=("test_log_likelihood", "test_active_units", "weight_l1"),
    columns=("log_likelihood", "elbo", "active_units", "weight_l1"),
    budgets={
        "smoke": BudgetChange(config=dict(network="fc", network_options={"hidden": [32]}, num_negative_samples=64)),
        **_headline_budgets(
            f"as the headline: full MNIST (50,000 training images, all 10,000 test images), fully connected "
            f"networks, 288 latent units, {HEADLINE_EPOCHS} epochs, 3 seeds"),
    },
    reuses_records_of=("headline",),
))


_CONDITIONAL_ARMS = (
    Arm("bernoulli", {"prior": "bernoulli", "sampler": "gibbs"}, color="C0"),
    Arm("chimera/pa", {"prior": "chimera", "sampler": "pa"}, color="C1"),
    Arm("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, color="C1", linestyle="--"),
    Arm("rbm", {"prior": "rbm", "sampler": "gibbs"}, color="C3"),
)

_add(Experiment(
    name="conditional",
    title="Conditional generation: does a coupled prior carry class structure better than independent units?",
    figure="issue #23 (no figure of the paper: its priors are unconditional)",
    summary=("Class-conditional models p(x|y) on full MNIST at the headline's budget: the label y shifts the "
             "prior's biases, p(z|y) = exp(-E(z) - U_y.z) / Z(y); the encoder sees the label, the decoder only z, "
             "so the class must travel through the prior. Independent Bernoulli units (the label shifts each unit "
             "alone) against a Chimera prior (population annealing and block Gibbs negative phases, every class "
             "in one sampler call) and the full 144+144 RBM. Measured: log p(x|y), the generative classifier "
             "argmax_y log p(x|y) + log p(y), the marginal log p(x), and whether the samples of class y look like "
             "a y to a classifier qhvae trains itself (accuracy per class, Fréchet distance of its features)."),
    arms=_CONDITIONAL_ARMS,
    config={"conditional": True},
    claims=(
        Claim("conditional Chimera (block Gibbs) beats conditional Bernoulli on log p(x|y)", "log_likelihood",
              "chimera/gibbs", "bernoulli", source="issue #23"),
        Claim("conditional Chimera (PA) beats conditional Bernoulli on log p(x|y)", "log_likelihood", "chimera/pa",
              "bernoulli", source="issue #23"),
        Claim("the conditional RBM beats conditional Chimera on log p(x|y)", "log_likelihood", "rbm",
              "chimera/gibbs", source="as the headline's Fig. 6 left"),
        Claim("Chimera's generative classifier beats Bernoulli's", "classifier_accuracy", "chimera/gibbs",
              "bernoulli", source="issue #23"),
        Claim("Chimera's samples of class y are classified as y more often than Bernoulli's", "sample_accuracy",
              "chimera/gibbs", "bernoulli", source="issue #23"),
        Claim("Chimera's samples are closer to the test images than Bernoulli's (Fréchet distance)",
              "frechet_distance", "chimera/gibbs", "bernoulli", relation="<", source="issue #23"),
        Claim("PA and block Gibbs negative phases train the same conditional Chimera model", "log_likelihood",
              "chimera/pa", "chimera/gibbs", relation="~", source="the headline's chimera/pa vs chimera/gibbs"),
    ),
    curves=("test_log_likelihood", "test_active_units", "weight_l1"),
    columns=("log_likelihood", "marginal_log_likelihood", "classifier_accuracy", "sample_accuracy",
             "frechet_distance", "elbo", "active_units", "weight_l1"),
    budgets={
        "smoke": BudgetChange(config=dict(network="fc", network_options={"hidden": [32]}, num_negative_samples=64,
                                          kl_anneal_fraction=0.5)),
        **_headline_budgets(
            f"as the headline: full MNIST (50,000 training images, all 10,000 test images, 1,000 generated "
            f"images per class), fully connected networks, 288 latent units, {HEADLINE_EPOCHS} epochs, 3 seeds"),
    },
))


_add(Experiment(
    name="hidden",
    title="Hidden units in the prior: at equal qubit count and at equal latent count",
    figure="issue #24 (the paper's priors have none)",
    summary=("Full MNIST at the headline's budget. At 288 qubits: the 144+144 RBM and Chimera-288 with every unit a "
             "latent (the headline's own runs) against the same graphs with 144 units hidden, marginalised by the "
             "prior: the RBM's left layer (the classical RBM prior over 144 latents) and one of Chimera's two "
             "colour classes (hidden units not coupled to each other: exact free energy), or 144 Chimera units "
             "chosen at random (coupled to each other: h | z sampled). At 144 latents: the same priors against "
             "graphs of 144 units with none hidden (RBM 72+72, a 6x3 Chimera)."),
    arms=(
        Arm("rbm", {"prior": "rbm", "sampler": "gibbs"}, color="C3"),
        Arm("rbm/144h", {"prior": "rbm", "sampler": "gibbs", "graph_options": {"hidden": 0.5}}, color="C3",
            linestyle="--"),
        Arm("rbm72", {"prior": "rbm", "sampler": "gibbs", "graph_options": {"n_left": 72}}, color="C3",
            linestyle=":"),
        Arm("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, color="C1"),
        Arm("chimera/144h", {"prior": "chimera", "sampler": "gibbs", "graph_options": {"hidden": 0.5}}, color="C1",
            linestyle="--"),
        Arm("chimera/144h-coupled", {"prior": "chimera", "sampler": "gibbs",
                                     "graph_options": {"hidden": 0.5, "hidden_from": "random"}}, color="C2",
            linestyle="--"),
        Arm("chimera144", {"prior": "chimera", "sampler": "gibbs", "graph_options": {"m": 6, "n": 3}}, color="C1",
            linestyle=":"),
    ),
    claims=(
        Claim("at 288 qubits, the RBM prior with 144 hidden units beats the all-latent RBM", "log_likelihood",
              "rbm/144h", "rbm", source="issue #24"),
        Claim("at 288 qubits, Chimera with 144 hidden units beats all-latent Chimera", "log_likelihood",
              "chimera/144h", "chimera/gibbs", source="issue #24"),
        Claim("at 144 latents, hidden units help the RBM (144+144h vs 72+72)", "log_likelihood", "rbm/144h", "rbm72",
              source="issue #24"),
        Claim("at 144 latents, hidden units help Chimera (288 with 144 hidden vs 144)", "log_likelihood",
              "chimera/144h", "chimera144", source="issue #24"),
        Claim("coupled hidden units do as well as uncoupled ones", "log_likelihood", "chimera/144h-coupled",
              "chimera/144h", relation="~", source="issue #24"),
    ),
    curves=("test_log_likelihood", "test_active_units", "weight_l1"),
    columns=("log_likelihood", "elbo", "active_units", "active_hidden_units", "weight_l1"),
    budgets={
        # the cpu budget's graph sizes (288 qubits), so that every arm compares as it will there
        "smoke": BudgetChange(config=dict(network="fc", network_options={"hidden": [32]}, num_negative_samples=64,
                                          kl_anneal_fraction=0.5),
                              graphs={"rbm": {"n_left": 144}, "chimera": {"m": 6}}),
        **_headline_budgets(
            f"as the headline: full MNIST (50,000 training images, all 10,000 test images), fully connected "
            f"networks, 288 qubits (144 latents where hidden), {HEADLINE_EPOCHS} epochs, 3 seeds"),
    },
    reuses_records_of=("headline",),
))


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
