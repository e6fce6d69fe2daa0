"""The four studies run at the headline's budget: ``headline``, ``recipe``, ``conditional`` and ``hidden``.

Each trains on full MNIST (the 50,000-image ``train`` split, all 10,000 test images) with
fully connected networks and the paper's 288 units, for :data:`HEADLINE_EPOCHS` epochs at
the ``cpu`` and ``mnist`` budgets (the paper's 2000 at ``paper``): the ``headline`` compares
a Boltzmann prior with independent Bernoulli units, ``recipe`` varies the KL warm-up
(:data:`RECIPE_KL_FRACTIONS`), ``conditional`` trains class-conditional models and
``hidden`` puts hidden units in the prior. :data:`HEADLINE_STUDIES` holds them in that
order; :data:`~qhvae.experiments.studies.EXPERIMENTS` lists them after the paper's six.

Example:
    >>> [exp.name for exp in HEADLINE_STUDIES]
    ['headline', 'recipe', 'conditional', 'hidden']
    >>> HEADLINE_STUDIES[0].budget("cpu").config["epochs"] == HEADLINE_EPOCHS
    True
"""

from __future__ import annotations

from ..training.config import DEFAULT_KL_ANNEAL_FRACTION
from .design import Arm, BudgetChange, Claim, Experiment

__all__ = ["HEADLINE_STUDIES", "HEADLINE_EPOCHS", "PAPER_KL_FRACTION", "RECIPE_KL_FRACTION", "RECIPE_KL_FRACTIONS"]

_STUDIES: list[Experiment] = []


#: The paper's KL warm-up: the KL term's weight rises from 0 to 1 over the first 10% of training.
PAPER_KL_FRACTION = 0.1

#: The KL warm-up the recipe study found best at the headline's budget (issue #25), which is
#: also what ``qhvae train`` and the six paper studies' cpu and mnist budgets use.
RECIPE_KL_FRACTION = DEFAULT_KL_ANNEAL_FRACTION

#: The headline study's runs: full MNIST (the 50,000-image ``train`` split; 10,000 held out
#: for validation; dynamic binarization, all 10,000 test images), fully connected networks,
#: the paper's 288 units, the paper's learning-rate and (K, D) schedules scaled to the epochs
#: and the recipe's KL warm-up. Sized so a block-Gibbs run takes well under an hour on two CPU
#: cores. Runs are named by their whole configuration, so the runs of the paper's warm-up
#: (``--set kl_anneal_fraction=0.1``: the published headline) keep their names and records.
HEADLINE_EPOCHS = 50
_HEADLINE = dict(
    dataset="mnist",
    train_limit=None,
    network="fc",
    network_options=None,
    epochs=HEADLINE_EPOCHS,
    batch_size=100,
    num_negative_samples=1000,
    k=1,
    d=8,
    kl_anneal_fraction=RECIPE_KL_FRACTION,
    learning_rate=3e-3,
    final_learning_rate=1e-4,
    eval_num_images=10000,
    eval_num_samples=1000,
    eval_log_z_replicas=10000,
    num_plot_samples=64,
    gibbs_chain_steps=64,
    track_every_epochs=5,
    track_num_images=1000,
    track_num_samples=100,
    track_log_z_replicas=2000,
)

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
        "paper": BudgetChange(
            config=dict(_HEADLINE, epochs=2000, track_every_epochs=20, kl_anneal_fraction=PAPER_KL_FRACTION),
            graphs={},
            description="the paper's 2000 epochs and schedules with fully connected networks (a GPU's work)",
        ),
    }


_STUDIES.append(
    Experiment(
        name="headline",
        title="The headline on full MNIST: a Boltzmann prior vs independent Bernoulli units",
        figure="Table I, Fig. 5, Fig. 6",
        summary=(
            "Fully connected encoder and decoder (784-512-256 and back, tanh) on full MNIST with 288 latent units: "
            "independent Bernoulli units; a Chimera prior trained with population annealing, with block Gibbs "
            "and with the emulated annealer ('low' noise, beta_eff estimated online); and the full 144+144 RBM. "
            "The paper's claim: the Chimera prior beats Bernoulli units, denser graphs do better still, and the "
            "annealer matches PA."
        ),
        arms=(
            Arm("bernoulli", {"prior": "bernoulli", "sampler": "gibbs"}, color="C0"),
            Arm("chimera/pa", {"prior": "chimera", "sampler": "pa"}, color="C1"),
            Arm("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, color="C1", linestyle="--"),
            Arm("rbm", {"prior": "rbm", "sampler": "gibbs"}, color="C3"),
            Arm(
                "chimera/annealer",
                {"prior": "chimera", "sampler": "emulator", "sampler_options": _HEADLINE_ANNEALER},
                color="C4",
            ),
        ),
        claims=(
            Claim(
                "Chimera (PA) beats the Bernoulli baseline",
                "log_likelihood",
                "chimera/pa",
                "bernoulli",
                source="Table I: -82.8 ± 0.3 vs -84.2 ± 0.05 nats",
            ),
            Claim(
                "Chimera (block Gibbs) beats the Bernoulli baseline",
                "log_likelihood",
                "chimera/gibbs",
                "bernoulli",
                source="Table I (with our Gibbs negative phase)",
            ),
            Claim("the denser full RBM beats Chimera", "log_likelihood", "rbm", "chimera/gibbs", source="Fig. 6 left"),
            Claim(
                "the annealer-trained Chimera model matches the PA-trained one",
                "log_likelihood",
                "chimera/annealer",
                "chimera/pa",
                relation="~",
                source="Table I: -82.8 both",
            ),
            Claim(
                "annealer-trained Chimera beats the Bernoulli baseline",
                "log_likelihood",
                "chimera/annealer",
                "bernoulli",
                source="Table I: -82.8 vs -84.2",
            ),
            Claim(
                "Chimera uses more latent units than Bernoulli",
                "active_units",
                "chimera/pa",
                "bernoulli",
                source="Fig. 5",
            ),
        ),
        curves=("test_log_likelihood", "test_active_units", "weight_l1", "beta_eff"),
        columns=("log_likelihood", "elbo", "active_units", "weight_l1", "beta_eff"),
        budgets={
            "smoke": BudgetChange(
                config=dict(
                    network="fc", network_options={"hidden": [32]}, num_negative_samples=64, kl_anneal_fraction=0.5
                )
            ),
            # the paper's 288 units (graphs={}: the families' defaults)
            **_headline_budgets(
                f"two CPU cores, under an hour per run: full MNIST (50,000 training images, all 10,000 test "
                f"images), fully connected networks, 288 latent units, {HEADLINE_EPOCHS} epochs, 3 seeds"
            ),
        },
        # its Bernoulli and Chimera/Gibbs runs at the recipe's warm-up are the recipe study's
        reuses_records_of=("recipe",),
    )
)


#: The recipe study's KL annealing fractions: the paper's 0.1 (the headline's runs, whose
#: records it reuses) and two longer warm-ups.
RECIPE_KL_FRACTIONS = (PAPER_KL_FRACTION, 0.3, RECIPE_KL_FRACTION)

_RECIPE_ARMS = tuple(
    Arm(
        f"{label}/kl{fraction}",
        {**overrides, "kl_anneal_fraction": fraction},
        color=color,
        linestyle={0.1: ":", 0.3: "--", 0.5: "-"}[fraction],
    )
    for label, overrides, color in (
        ("bernoulli", {"prior": "bernoulli", "sampler": "gibbs"}, "C0"),
        ("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, "C1"),
    )
    for fraction in RECIPE_KL_FRACTIONS
)

_STUDIES.append(
    Experiment(
        name="recipe",
        title="The recipe: does Chimera's lead over Bernoulli survive a better-tuned KL schedule?",
        figure="Table I (headline) with the KL warm-up varied",
        summary=(
            "The headline's two fast arms (independent Bernoulli units; Chimera with a block-Gibbs negative "
            "phase) on full MNIST at the headline's budget, with the KL term annealed over the first 10% "
            "(the paper's schedule: the headline's own runs), 30% or 50% of training. The question: is "
            "'Chimera beats Bernoulli' an artefact of an under-tuned baseline?"
        ),
        arms=_RECIPE_ARMS,
        claims=tuple(
            Claim(
                f"Chimera (block Gibbs) beats Bernoulli with KL warm-up {fraction}",
                "log_likelihood",
                f"chimera/gibbs/kl{fraction}",
                f"bernoulli/kl{fraction}",
                source="Table I, with our schedules",
            )
            for fraction in RECIPE_KL_FRACTIONS
        )
        + tuple(
            Claim(
                f"{label}: a KL warm-up of {fraction} beats the paper's 0.1",
                "log_likelihood",
                f"{label}/kl{fraction}",
                f"{label}/kl0.1",
                source="issue #25",
            )
            for label in ("bernoulli", "chimera/gibbs")
            for fraction in RECIPE_KL_FRACTIONS[1:]
        )
        + tuple(
            Claim(
                f"{label}: a KL warm-up of {RECIPE_KL_FRACTIONS[2]} beats {RECIPE_KL_FRACTIONS[1]}",
                "log_likelihood",
                f"{label}/kl{RECIPE_KL_FRACTIONS[2]}",
                f"{label}/kl{RECIPE_KL_FRACTIONS[1]}",
                source="issue #25: which warm-up the defaults take",
            )
            for label in ("bernoulli", "chimera/gibbs")
        )
        + tuple(
            Claim(
                f"Chimera uses more latent units than Bernoulli with KL warm-up {fraction}",
                "active_units",
                f"chimera/gibbs/kl{fraction}",
                f"bernoulli/kl{fraction}",
                source="Fig. 5",
            )
            for fraction in RECIPE_KL_FRACTIONS
        ),
        curves=("test_log_likelihood", "test_active_units", "weight_l1"),
        columns=("log_likelihood", "elbo", "active_units", "weight_l1"),
        budgets={
            "smoke": BudgetChange(config=dict(network="fc", network_options={"hidden": [32]}, num_negative_samples=64)),
            **_headline_budgets(
                f"as the headline: full MNIST (50,000 training images, all 10,000 test images), fully connected "
                f"networks, 288 latent units, {HEADLINE_EPOCHS} epochs, 3 seeds"
            ),
        },
        reuses_records_of=("headline",),
    )
)


_CONDITIONAL_ARMS = (
    Arm("bernoulli", {"prior": "bernoulli", "sampler": "gibbs"}, color="C0"),
    Arm("chimera/pa", {"prior": "chimera", "sampler": "pa"}, color="C1"),
    Arm("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, color="C1", linestyle="--"),
    Arm("rbm", {"prior": "rbm", "sampler": "gibbs"}, color="C3"),
)

_STUDIES.append(
    Experiment(
        name="conditional",
        title="Conditional generation: does a coupled prior carry class structure better than independent units?",
        figure="issue #23 (no figure of the paper: its priors are unconditional)",
        summary=(
            "Class-conditional models p(x|y) on full MNIST at the headline's budget: the label y shifts the "
            "prior's biases, p(z|y) = exp(-E(z) - U_y.z) / Z(y); the encoder sees the label, the decoder only z, "
            "so the class must travel through the prior. Independent Bernoulli units (the label shifts each unit "
            "alone) against a Chimera prior (population annealing and block Gibbs negative phases, every class "
            "in one sampler call) and the full 144+144 RBM. Measured: log p(x|y), the generative classifier "
            "argmax_y log p(x|y) + log p(y), the marginal log p(x), and whether the samples of class y look like "
            "a y to a classifier qhvae trains itself (accuracy per class, Fréchet distance of its features)."
        ),
        arms=_CONDITIONAL_ARMS,
        config={"conditional": True},
        claims=(
            Claim(
                "conditional Chimera (block Gibbs) beats conditional Bernoulli on log p(x|y)",
                "log_likelihood",
                "chimera/gibbs",
                "bernoulli",
                source="issue #23",
            ),
            Claim(
                "conditional Chimera (PA) beats conditional Bernoulli on log p(x|y)",
                "log_likelihood",
                "chimera/pa",
                "bernoulli",
                source="issue #23",
            ),
            Claim(
                "the conditional RBM beats conditional Chimera on log p(x|y)",
                "log_likelihood",
                "rbm",
                "chimera/gibbs",
                source="as the headline's Fig. 6 left",
            ),
            Claim(
                "Chimera's generative classifier beats Bernoulli's",
                "classifier_accuracy",
                "chimera/gibbs",
                "bernoulli",
                source="issue #23",
            ),
            Claim(
                "Chimera's samples of class y are classified as y more often than Bernoulli's",
                "sample_accuracy",
                "chimera/gibbs",
                "bernoulli",
                source="issue #23",
            ),
            Claim(
                "Chimera's samples are closer to the test images than Bernoulli's (Fréchet distance)",
                "frechet_distance",
                "chimera/gibbs",
                "bernoulli",
                relation="<",
                source="issue #23",
            ),
            Claim(
                "PA and block Gibbs negative phases train the same conditional Chimera model",
                "log_likelihood",
                "chimera/pa",
                "chimera/gibbs",
                relation="~",
                source="the headline's chimera/pa vs chimera/gibbs",
            ),
        ),
        curves=("test_log_likelihood", "test_active_units", "weight_l1"),
        columns=(
            "log_likelihood",
            "marginal_log_likelihood",
            "classifier_accuracy",
            "sample_accuracy",
            "frechet_distance",
            "elbo",
            "active_units",
            "weight_l1",
        ),
        budgets={
            "smoke": BudgetChange(
                config=dict(
                    network="fc", network_options={"hidden": [32]}, num_negative_samples=64, kl_anneal_fraction=0.5
                )
            ),
            **_headline_budgets(
                f"as the headline: full MNIST (50,000 training images, all 10,000 test images, 1,000 generated "
                f"images per class), fully connected networks, 288 latent units, {HEADLINE_EPOCHS} epochs, 3 seeds"
            ),
        },
    )
)


_STUDIES.append(
    Experiment(
        name="hidden",
        title="Hidden units in the prior: at equal qubit count and at equal latent count",
        figure="issue #24 (the paper's priors have none)",
        summary=(
            "Full MNIST at the headline's budget. At 288 qubits: the 144+144 RBM and Chimera-288 with every unit a "
            "latent (all-latent Chimera: the recipe study's runs) against the same graphs with 144 units hidden, "
            "marginalised by the "
            "prior: the RBM's left layer (the classical RBM prior over 144 latents) and one of Chimera's two "
            "colour classes (hidden units not coupled to each other: exact free energy), or 144 Chimera units "
            "chosen at random (coupled to each other: h | z sampled). At 144 latents: the same priors against "
            "graphs of 144 units with none hidden (RBM 72+72, a 6x3 Chimera)."
        ),
        arms=(
            Arm("rbm", {"prior": "rbm", "sampler": "gibbs"}, color="C3"),
            Arm(
                "rbm/144h",
                {"prior": "rbm", "sampler": "gibbs", "graph_options": {"hidden": 0.5}},
                color="C3",
                linestyle="--",
            ),
            Arm(
                "rbm72",
                {"prior": "rbm", "sampler": "gibbs", "graph_options": {"n_left": 72}},
                color="C3",
                linestyle=":",
            ),
            Arm("chimera/gibbs", {"prior": "chimera", "sampler": "gibbs"}, color="C1"),
            Arm(
                "chimera/144h",
                {"prior": "chimera", "sampler": "gibbs", "graph_options": {"hidden": 0.5}},
                color="C1",
                linestyle="--",
            ),
            Arm(
                "chimera/144h-coupled",
                {"prior": "chimera", "sampler": "gibbs", "graph_options": {"hidden": 0.5, "hidden_from": "random"}},
                color="C2",
                linestyle="--",
            ),
            Arm(
                "chimera144",
                {"prior": "chimera", "sampler": "gibbs", "graph_options": {"m": 6, "n": 3}},
                color="C1",
                linestyle=":",
            ),
        ),
        claims=(
            Claim(
                "at 288 qubits, the RBM prior with 144 hidden units beats the all-latent RBM",
                "log_likelihood",
                "rbm/144h",
                "rbm",
                source="issue #24",
            ),
            Claim(
                "at 288 qubits, Chimera with 144 hidden units beats all-latent Chimera",
                "log_likelihood",
                "chimera/144h",
                "chimera/gibbs",
                source="issue #24",
            ),
            Claim(
                "at 144 latents, hidden units help the RBM (144+144h vs 72+72)",
                "log_likelihood",
                "rbm/144h",
                "rbm72",
                source="issue #24",
            ),
            Claim(
                "at 144 latents, hidden units help Chimera (288 with 144 hidden vs 144)",
                "log_likelihood",
                "chimera/144h",
                "chimera144",
                source="issue #24",
            ),
            Claim(
                "coupled hidden units do as well as uncoupled ones",
                "log_likelihood",
                "chimera/144h-coupled",
                "chimera/144h",
                relation="~",
                source="issue #24",
            ),
        ),
        curves=("test_log_likelihood", "test_active_units", "weight_l1"),
        columns=("log_likelihood", "elbo", "active_units", "active_hidden_units", "weight_l1"),
        budgets={
            # the cpu budget's graph sizes (288 qubits), so that every arm compares as it will there
            "smoke": BudgetChange(
                config=dict(
                    network="fc", network_options={"hidden": [32]}, num_negative_samples=64, kl_anneal_fraction=0.5
                ),
                graphs={"rbm": {"n_left": 144}, "chimera": {"m": 6}},
            ),
            **_headline_budgets(
                f"as the headline: full MNIST (50,000 training images, all 10,000 test images), fully connected "
                f"networks, 288 qubits (144 latents where hidden), {HEADLINE_EPOCHS} epochs, 3 seeds"
            ),
        },
        reuses_records_of=("headline", "recipe"),
    )
)


#: The studies at the headline's budget, in the order ``qhvae experiment --list`` shows them.
HEADLINE_STUDIES: tuple[Experiment, ...] = tuple(_STUDIES)
