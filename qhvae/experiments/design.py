"""How a study is written down: the arms it compares, the paper's claims, and the budgets it runs at.

An :class:`Experiment` is a list of :class:`Arm` s (the configurations compared, each a
set of :class:`~qhvae.training.TrainConfig` fields), a number of seeds, and the paper's
findings written as :class:`Claim` s that the runner checks against our numbers. A
:class:`Budget` (one of :data:`BUDGETS`: ``smoke``, ``cpu``, ``mnist``, ``paper``) sets
everything the arms leave alone, and a study changes it for itself with a
:class:`BudgetChange`.

The studies themselves are in :mod:`~qhvae.experiments.studies` (the paper's six, and
:data:`~qhvae.experiments.studies.EXPERIMENTS`, every study by name) and
:mod:`~qhvae.experiments.headline_studies` (the four at the headline's budget).

Example:
    >>> BUDGETS["smoke"].seeds
    1
    >>> Experiment("demo", "Demo", "-", "-", arms=(Arm("a"),)).budget("cpu").config["dataset"]
    'digits'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigError, UnknownNameError
from ..training.config import DEFAULT_KL_ANNEAL_FRACTION, TrainConfig

__all__ = ["Arm", "Budget", "BudgetChange", "Claim", "Experiment", "BUDGETS", "EQUAL_48_UNITS"]


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
        return Budget(
            name,
            {**base.config, **self.config, **change.config},
            base.seeds if change.seeds is None else change.seeds,
            change.description or base.description,
            base.graphs if change.graphs is None else change.graphs,
        )

    def base_config(self, budget: str = "cpu", overrides: dict[str, Any] | None = None) -> TrainConfig:
        """The :class:`~qhvae.training.TrainConfig` every arm starts from (``overrides`` last)."""
        return TrainConfig.from_dict({**TrainConfig().to_dict(), **self.budget(budget).config, **(overrides or {})})

    def arm(self, label: str) -> Arm:
        for arm in self.arms:
            if arm.label == label:
                return arm
        raise UnknownNameError(
            f"experiment {self.name!r} has no arm {label!r}; its arms: {', '.join(a.label for a in self.arms)}"
        )


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

_EVAL_SMOKE = dict(
    eval_num_images=24,
    eval_num_samples=16,
    eval_log_z_replicas=200,
    num_plot_samples=16,
    gibbs_chain_steps=8,
    track_every_epochs=1,
    track_num_images=24,
    track_num_samples=8,
    track_log_z_replicas=200,
)

BUDGETS: dict[str, Budget] = {
    # Fully connected networks: a tiny conv model costs three times as long to trace as to train.
    "smoke": Budget(
        "smoke",
        dict(
            dataset="digits",
            sampler="pa",
            train_limit=96,
            epochs=2,
            batch_size=32,
            num_negative_samples=64,
            network="fc",
            network_options={"hidden": [32]},
            **_EVAL_SMOKE,
        ),
        seeds=1,
        description="seconds: wiring checks only (96 digits, 2 epochs, tiny fc networks)",
        graphs=EQUAL_48_UNITS,
    ),
    # The cpu, mnist and paper budgets name their network: they were designed, and their runs
    # named, with the paper's conv networks, which were TrainConfig's default then.
    "cpu": Budget(
        "cpu",
        dict(
            dataset="digits",
            sampler="pa",
            network="conv",
            epochs=40,
            batch_size=32,
            num_negative_samples=500,
            base_filters=16,
            hidden=128,
            kl_anneal_fraction=DEFAULT_KL_ANNEAL_FRACTION,
            eval_num_images=297,
            eval_num_samples=1000,
            eval_log_z_replicas=4000,
            num_plot_samples=64,
            gibbs_chain_steps=64,
            track_every_epochs=4,
            track_num_images=200,
            track_num_samples=100,
            track_log_z_replicas=1000,
        ),
        seeds=3,
        description="two CPU cores, well under an hour per experiment: 8x8 digits (1,250 "
        "training images), 48 latent units, 40 epochs",
        graphs=EQUAL_48_UNITS,
    ),
    "mnist": Budget(
        "mnist",
        dict(
            dataset="mnist",
            sampler="gibbs",
            network="conv",
            train_limit=10000,
            epochs=10,
            batch_size=100,
            num_negative_samples=500,
            base_filters=8,
            hidden=256,
            kl_anneal_fraction=DEFAULT_KL_ANNEAL_FRACTION,
            eval_num_images=300,
            eval_num_samples=200,
            eval_log_z_replicas=4000,
            num_plot_samples=64,
            gibbs_chain_steps=64,
            track_every_epochs=2,
            track_num_images=200,
            track_num_samples=50,
            track_log_z_replicas=1000,
        ),
        seeds=1,
        description="two CPU cores, the paper's image and latent sizes: 10,000 MNIST (or "
        "Fashion-MNIST) images, 288 latent units, 10 epochs (1,000 steps), "
        "block-Gibbs negative phase",
    ),
    "paper": Budget(
        "paper",
        dict(
            dataset="mnist",
            sampler="pa",
            network="conv",
            epochs=2000,
            batch_size=100,
            num_negative_samples=1000,
            base_filters=32,
            hidden=512,
            kl_anneal_fraction=0.1,
            learning_rate=3e-3,
            final_learning_rate=1e-4,
            eval_num_images=10000,
            eval_num_samples=1000,
            eval_log_z_replicas=10000,
            track_every_epochs=20,
            track_num_images=1000,
            track_num_samples=100,
            track_log_z_replicas=4000,
        ),
        seeds=5,
        description="the paper's scale (GPU): MNIST, 288 latent units, 2000 epochs of batch 100, 5 seeds",
    ),
}
