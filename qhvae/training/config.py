"""What a training run is: :class:`TrainConfig`, its validation, and the run errors.

A configuration is plain data (it is stored as ``config.json`` in the run directory) and
is checked without touching TensorFlow, so importing this module is cheap: the command
line validates options and prints errors before any model is built.

Example:
    >>> cfg = TrainConfig(epochs=3, sampler="gibbs")
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> TrainConfig(epochs=0).validate()
    Traceback (most recent call last):
    ...
    qhvae.exceptions.RunError: epochs must be a positive integer, got 0
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import RunError, TrainingDiverged, TrainingFailed
from ..validation import check_int, check_num_negative_samples

__all__ = [
    "DEFAULT_KL_ANNEAL_FRACTION",
    "TrainConfig",
    "RunError",
    "TrainingDiverged",
    "TrainingFailed",
    "default_graph_options",
    "is_file_dataset",
    "DEFAULT_RUN_DIR",
    "RESUME_OPTIONS",
    "SMALL_GRAPH_OPTIONS",
    "LATER_DEFAULTS",
    "option",
    "option_flag",
    "check_resume_changes",
]

#: The KL warm-up qhvae trains with unless told otherwise: the KL term's weight rises from 0 to 1
#: over the first half of the epochs. At the headline's budget (50 epochs of full MNIST) the
#: recipe study found it best for both priors it tried (issue #25, docs/reproducing.md "The
#: recipe"); the paper's 0.1 suits its 2000-epoch runs.
DEFAULT_KL_ANNEAL_FRACTION = 0.5

#: Where ``qhvae train`` writes when no ``--out`` is given.
DEFAULT_RUN_DIR = "qhvae-run"

#: Latent graphs sized for small (<= 16x16) images such as the 8x8 digits: about 32 units
#: instead of the paper's 288 (which the family constructors default to, used for MNIST).
SMALL_GRAPH_OPTIONS: dict[str, dict[str, Any]] = {
    "chimera": {"m": 2},
    "pegasus": {"m": 2, "rows": 1, "cols": 1},
    "zephyr": {"m": 1, "num_units": 32},
    "rbm": {"n_left": 16},
    "full": {"num_nodes": 32},
    "bernoulli": {"num_nodes": 32},
}


_NO_EARLIER = object()


def option(default: Any = dataclasses.MISSING, *, flag: str | None = None, help: str = "", resumable: bool = False,
           earlier: Any = _NO_EARLIER, cli: str = "value", metavar: str | None = None,
           default_factory: Any = dataclasses.MISSING, minimum: int | None = None):
    """A :class:`TrainConfig` field with everything the rest of qhvae derives from it.

    The command line's argument, the resume rules and the run names are generated from
    these, so a new option is one field here (CONTRIBUTING.md).

    Args:
        default, default_factory: as :func:`dataclasses.field`.
        flag: its ``qhvae train`` option (``None``: Python and ``--set`` only).
        help: the option's help; ``{default}`` is replaced by the default.
        resumable: whether it may change when a run resumes (it leaves the model, its
            data and its sampler alone).
        earlier: for a field added after runs were first named by a hash of their
            configuration, the value runs had before it existed: a configuration that
            leaves it there hashes as before (and a ``config.json`` without it reads so).
        cli: how the flag takes its value: ``value`` (typed by the field), ``pairs``
            (repeatable ``KEY=VALUE``), ``switch`` (a flag that sets ``True``) or
            ``negate`` (a flag that sets ``False``).
        metavar: the value's name in the help.
        minimum: the smallest value an integer option takes on the command line (0: the
            command line refuses negative values as it parses them).
    """
    metadata = {"flag": flag, "help": help, "resumable": resumable, "cli": cli, "metavar": metavar,
                "minimum": minimum}
    if earlier is not _NO_EARLIER:
        metadata["earlier"] = earlier
    if default_factory is not dataclasses.MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def default_graph_options(prior: str, image_size: int) -> dict[str, Any]:
    """Graph options when none are given: ~32 units for small images, the paper's size otherwise.

    Example:
        >>> default_graph_options("chimera", 8), default_graph_options("chimera", 28)
        ({'m': 2}, {})
    """
    if image_size <= 16:
        return dict(SMALL_GRAPH_OPTIONS.get(prior, {}))
    return {}


@dataclass
class TrainConfig:
    """Everything a training run needs; stored as ``config.json`` in the run directory.

    Attributes:
        dataset: a name of :data:`qhvae.data.DATASETS` or a ``.npy``/``.npz`` file of images
            (``.npz``: arrays ``train`` and ``test``, or one array whose last sixth is held
            out for testing; ``.npy``: the same hold-out rule).
        data_dir: where to look for dataset files first.
        train_limit: train on the first ``train_limit`` images only (quick runs).
        prior: latent graph family: chimera, pegasus, zephyr, rbm, full, bernoulli.
        graph_options: arguments of the family (e.g. ``{"m": 4}``); ``None``: ~32 units for
            images up to 16x16, the paper's 288 units for larger ones.
        mapping: hierarchical groups on the graph, ``bipartite`` or ``chains``.
        sampler: negative-phase sampler name (``qhvae samplers`` lists them).
        sampler_options: its configuration.
        epochs, batch_size: the training budget.
        learning_rate, final_learning_rate: Adam's rate, decayed exponentially between
            them over 90% of the epochs (paper: 3e-3 to 1e-4).
        kl_anneal_fraction: fraction of the epochs over which the KL weight rises from 0
            to 1 (paper: 200 of 2000 epochs, 0.1).
        num_negative_samples: model samples per step (paper: 1000).
        k, d: initial importance and gradient samples per image (then the paper's
            ``(K, D)`` schedule, changed every 10% of the epochs).
        tau: relaxation temperature (paper: 1/7).
        network: ``fc`` (fully connected encoder and decoder, the DVAE papers' MNIST
            networks; the default: about 90x cheaper per step than ``conv`` on a CPU for MNIST,
            3x for the 8x8 digits, at the same test log-likelihood) or ``conv`` (the paper's
            gated convolutions, App. A; a GPU's model, and the studies' ``cpu``/``mnist``
            budgets).
        network_options: for ``fc``: ``hidden`` (widths, default ``[512, 256]``) and
            ``activation`` (default ``tanh``); ``None``: the defaults.
        base_filters, hidden: widths of the ``conv`` networks (paper: 32 and 512).
        seed: seed of initialisation, data order, binarization and sampler calls.
        prefetch: draw the next step's negative phase while the current one trains.
        checkpoint_every_steps: also checkpoint every this many optimizer steps.
        eval_num_images, eval_num_samples: the evaluation after training (test images,
            importance samples per image); ``eval_num_images=0`` skips it.
        eval_log_z_replicas: population-annealing replicas of the ``log Z`` estimate.
        num_plot_samples: images in ``samples.png``; ``gibbs_chain_steps``: frames in
            ``gibbs_chain.png``.
        track_every_epochs: evaluate ``track_num_images`` test images every this many
            epochs during training (log-likelihood with ``track_num_samples`` importance
            samples and ``log Z`` from ``track_log_z_replicas`` PA replicas, active units),
            logged as ``test_*`` in the history; ``0`` turns it off.
        tensorboard: write TensorBoard logs in ``RUN/tensorboard`` (epoch scalars, prior
            samples and a Gibbs chain about ten times per run).
        hidden_sweeps: block-Gibbs sweeps of ``h | z`` per training step for a prior whose
            hidden units are coupled to each other (``QVAE(hidden_sweeps=...)``).
        conditional: train a class-conditional model (``QVAE(num_classes=C)``, ``C`` from
            the training labels): ``p(x | y)`` with the prior ``p(z | y)``.
    """

    dataset: str = option("digits", flag="--dataset", help="digits, mnist, binarized_mnist, fashion_mnist, or a "
                          ".npy/.npz file of images (default {default})")
    data_dir: str | None = option(None, flag="--data-dir", help="folder to look for dataset files first")
    train_limit: int | None = option(None, flag="--limit", help="train on the first N training images only")
    prior: str = option("chimera", flag="--prior", help="latent graph: chimera, pegasus, zephyr, rbm, full, "
                                                        "bernoulli (default {default})")
    graph_options: dict[str, Any] | None = option(
        None, flag="--graph-option", cli="pairs", help="option of the latent graph, e.g. m=4 for a 4x4 Chimera "
        "(repeatable; default: ~32 units for images up to 16x16, the paper's 288 otherwise)")
    mapping: str = option("bipartite", flag="--mapping", help="hierarchical groups: bipartite or chains "
                                                              "(default {default})")
    sampler: str = option("gibbs", flag="--sampler", help="negative-phase sampler, see `qhvae samplers` "
                                                          "(default {default})")
    sampler_options: dict[str, Any] = option(default_factory=dict, flag="--sampler-option", cli="pairs",
                                             help="sampler configuration (repeatable)")
    epochs: int = option(60, flag="--epochs", resumable=True, help="default {default}; with --resume: a new total")
    batch_size: int = option(32, flag="--batch-size", help="default {default}")
    learning_rate: float = option(3e-3, flag="--learning-rate", resumable=True,
                                  help="initial Adam rate (default {default})")
    final_learning_rate: float = option(1e-4, flag="--final-learning-rate", resumable=True,
                                        help="rate after 90%% of the epochs (default {default})")
    kl_anneal_fraction: float = option(DEFAULT_KL_ANNEAL_FRACTION, flag="--kl-anneal-fraction",
                                       help="fraction of the epochs over which the KL weight rises to 1 (default "
                                            "{default}; the paper's 0.1 suits long runs)")
    num_negative_samples: int = option(500, flag="--num-negative-samples",
                                       help="model samples per step (default {default}; paper 1000; at most 10**7)")
    k: int = option(1)
    d: int = option(8)
    tau: float = option(1.0 / 7.0, flag="--tau", help="relaxation temperature (default 1/7)")
    network: str = option("fc", flag="--network", earlier="conv",
                          help="encoder/decoder: fc (fully connected; ~90x cheaper per step than conv on a CPU for "
                               "MNIST) or conv (the paper's gated convolutions, a GPU's model) (default {default})")
    network_options: dict[str, Any] | None = option(None, flag="--network-option", cli="pairs", earlier=None,
                                                    help="with --network fc: hidden=512,256 (widths), activation=tanh")
    base_filters: int = option(16, flag="--base-filters",
                               help="with --network conv: convolution width (default {default}; paper 32)")
    hidden: int = option(128, flag="--hidden", help="with --network conv: dense width (default {default}; paper 512)")
    seed: int = option(0, flag="--seed", minimum=0, help="default {default}")
    prefetch: bool = option(False, flag="--prefetch", cli="switch",
                            help="draw the next negative phase while a step trains")
    checkpoint_every_steps: int | None = option(None, flag="--checkpoint-every", resumable=True, metavar="STEPS",
                                                help="also checkpoint every STEPS optimizer steps (default: at "
                                                     "epoch ends only)")
    eval_num_images: int = option(500, flag="--eval-images", resumable=True,
                                  help="test images of the final evaluation, 0 skips it (default {default})")
    eval_num_samples: int = option(1000, flag="--eval-samples", resumable=True,
                                   help="importance samples per image (default {default})")
    eval_log_z_replicas: int = option(4000, resumable=True)
    num_plot_samples: int = option(64, resumable=True)
    gibbs_chain_steps: int = option(64, resumable=True)
    track_every_epochs: int = option(0, resumable=True)
    track_num_images: int = option(200, resumable=True)
    track_num_samples: int = option(100, resumable=True)
    track_log_z_replicas: int = option(1000, resumable=True)
    hidden_sweeps: int = option(10, flag="--hidden-sweeps", earlier=10,
                                help="a prior whose hidden units are coupled to each other (--graph-option hidden=... "
                                     "hidden_from=random): block-Gibbs sweeps of h | z per training step (default "
                                     "{default})")
    conditional: bool = option(False, flag="--conditional", cli="switch", earlier=False,
                               help="train a class-conditional model p(x|y) with prior p(z|y) (labelled data: "
                                    "mnist, fashion_mnist, digits); `qhvae sample RUN --label Y` then draws class Y")
    tensorboard: bool = option(True, flag="--no-tensorboard", cli="negate", resumable=True, earlier=True,
                               help="do not write TensorBoard logs (default: RUN/tensorboard; "
                                    "`tensorboard --logdir RUN`)")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a JSON-ready dict (what ``config.json`` holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict (e.g. ``config.json``); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise RunError(f"unknown training options {unknown}; known: {', '.join(sorted(names))}")
        return cls(**data)

    def validate(self) -> TrainConfig:
        """Check names and ranges without touching TensorFlow; raises :class:`RunError`."""
        from ..data import DATASETS
        from ..registry import default_registry
        from ..topology import GRAPH_FAMILIES

        if self.prior not in GRAPH_FAMILIES:
            raise RunError(f"unknown prior {self.prior!r}; known priors (latent graphs): "
                           f"{', '.join(sorted(GRAPH_FAMILIES))}")
        if not is_file_dataset(self.dataset):
            canon = str(self.dataset).strip().lower().replace("-", "_")
            if canon not in DATASETS:
                raise RunError(f"unknown dataset {self.dataset!r}; known datasets: {', '.join(DATASETS)} "
                               "(or a path to a .npy/.npz file of images)")
        registry = default_registry()
        known = registry.names()
        reason = registry.unavailable_reason(self.sampler)
        if reason is not None:
            raise RunError(f"sampler {self.sampler!r} is unavailable: {reason}")
        if self.sampler not in known:
            raise RunError(f"unknown sampler {self.sampler!r}; known samplers: {', '.join(known)} "
                           "(`qhvae samplers` lists them with any broken plugins)")
        if self.network not in ("conv", "fc"):
            raise RunError(f"unknown network {self.network!r}; use 'conv' (the paper's convolutional networks) "
                           "or 'fc' (fully connected)")
        if self.network_options is not None and self.network != "fc":
            raise RunError("network_options apply to network 'fc'; the conv networks take base_filters and hidden")
        if self.network_options is not None and not isinstance(self.network_options, dict):
            raise RunError(f"network_options must be a dict, got {type(self.network_options).__name__}")
        if self.data_dir is not None:
            self.check_data_dir()
        if self.mapping not in ("bipartite", "chains"):
            raise RunError(f"unknown mapping {self.mapping!r}; use 'bipartite' or 'chains'")
        check_num_negative_samples(self.num_negative_samples, error=RunError)  # the model's own rule
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "k": self.k, "d": self.d,
                    "hidden_sweeps": self.hidden_sweeps,
                    "base_filters": self.base_filters, "hidden": self.hidden,
                    "eval_num_samples": self.eval_num_samples, "eval_log_z_replicas": self.eval_log_z_replicas,
                    "track_num_images": self.track_num_images, "track_num_samples": self.track_num_samples,
                    "track_log_z_replicas": self.track_log_z_replicas}
        for name, value in positive.items():
            check_int(name, value, error=RunError)
        for name in ("train_limit", "checkpoint_every_steps"):
            check_int(name, getattr(self, name), allow_none=True, error=RunError)
        for name in ("eval_num_images", "num_plot_samples", "gibbs_chain_steps", "track_every_epochs"):
            check_int(name, getattr(self, name), minimum=0, error=RunError)
        for name in ("learning_rate", "final_learning_rate", "tau"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise RunError(f"{name} must be a positive number, got {value!r}")
        if not isinstance(self.tensorboard, bool):
            raise RunError(f"tensorboard must be true or false, got {self.tensorboard!r}")
        if not isinstance(self.conditional, bool):
            raise RunError(f"conditional must be true or false, got {self.conditional!r}")
        if self.conditional and is_file_dataset(self.dataset):
            raise RunError(f"--conditional needs labelled data, and an image file ({self.dataset}) carries no "
                           "labels; use mnist, fashion_mnist or digits")
        if not (0 < self.kl_anneal_fraction <= 1):
            raise RunError(f"kl_anneal_fraction must be in (0, 1], got {self.kl_anneal_fraction!r}")
        return self

    def check_data_dir(self, name: str = "data_dir") -> None:
        """Refuse a ``data_dir`` that is not an existing folder (it would be skipped silently).

        Args:
            name: how the user named it (``--data-dir`` on the command line), for the message.

        Raises:
            RunError: the folder does not exist or is a file.
        """
        from ..data.lookup import check_data_dir

        try:
            check_data_dir(self.data_dir, name)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise RunError(str(exc)) from None


#: Options that may change when a run resumes (they leave the model, its data and its sampler alone).
RESUME_OPTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["resumable"])

#: Options added after runs were first named by configuration hash, with the value runs had
#: before: a configuration that leaves them at these values hashes as it did before they
#: existed, so the runs of earlier studies keep their names.
LATER_DEFAULTS: dict[str, Any] = {f.name: f.metadata["earlier"] for f in dataclasses.fields(TrainConfig)
                                  if "earlier" in f.metadata}


def option_flag(name: str) -> str:
    """How a user names a :class:`TrainConfig` field: its ``qhvae train`` flag, else the field's name.

    Example:
        >>> option_flag("train_limit"), option_flag("track_num_images")
        ('--limit', 'track_num_images')
    """
    for f in dataclasses.fields(TrainConfig):
        if f.name == name:
            return f.metadata["flag"] or name
    raise KeyError(name)


def check_resume_changes(changes: dict[str, Any]) -> None:
    """Refuse, naming them as the user did, options that cannot change when a run resumes.

    Raises:
        RunError: some of ``changes`` are not :data:`RESUME_OPTIONS`; the message lists those that are.

    Example:
        >>> check_resume_changes({"epochs": 80})
        >>> check_resume_changes({"prior": "rbm", "epochs": 80})  # doctest: +NORMALIZE_WHITESPACE
        Traceback (most recent call last):
        ...
        qhvae.exceptions.RunError: --prior cannot change when resuming: the run's config.json holds its settings
        (--epochs, --learning-rate, --final-learning-rate, --checkpoint-every, --eval-images, --eval-samples,
        eval_log_z_replicas, num_plot_samples, gibbs_chain_steps, track_every_epochs, track_num_images,
        track_num_samples, track_log_z_replicas and --no-tensorboard may change)
    """
    refused = [option_flag(name) for name in changes if name not in RESUME_OPTIONS]
    if refused:
        allowed = [option_flag(name) for name in RESUME_OPTIONS]
        raise RunError(f"{', '.join(refused)} cannot change when resuming: the run's config.json holds its "
                       f"settings ({', '.join(allowed[:-1])} and {allowed[-1]} may change)")


def is_file_dataset(name: str) -> bool:
    """Whether a run's ``dataset`` names a ``.npy``/``.npz`` file of images rather than a known dataset.

    Example:
        >>> is_file_dataset("images.npz"), is_file_dataset("mnist")
        (True, False)
    """
    return str(name).endswith((".npy", ".npz"))
