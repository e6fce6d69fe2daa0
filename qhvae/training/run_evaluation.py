"""What a trained run is worth: its test log-likelihood, and pictures of its prior.

:func:`evaluate_run` loads a run's last checkpoint and writes ``evaluation.json`` (test
log-likelihood, ELBO, active units, ``log Z``); :func:`write_samples` and
:func:`write_gibbs_chain` compute what the prior has learnt (decoded prior samples, a
block-Gibbs chain) and hand the arrays to :mod:`qhvae.plots`, which draws them. None of
them needs the sampler the run was trained with (a plugin may be gone, a QPU out of reach):
evaluation needs only the prior and ``log Z`` (exact or population annealing), pictures a
classical sampler of the prior (:func:`prior_sampler`). Block-Gibbs chains on the prior
(:func:`prior_chain_frames`) run on :class:`qhvae.samplers.gibbs.ChainRunner`, the kernel
of the ``gibbs`` sampler, so pictures and chain statistics see the same dynamics as training.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ConfigError
from ..plots import plot_gibbs_chain, plot_prior_samples, plot_training_curves
from ..samplers.base import adopt_graph
from ..samplers.gibbs import ChainRunner
from ..samplers.machine import BoltzmannMachine
from ..validation import is_integer
from .checkpoint import load_checkpoint
from .config import RunError, TrainConfig
from .console import say
from .guard import lock_holder
from .inputs import load_test_data
from .monitors import weights_finite
from .rundir import CHAIN_FILE, CURVES_FILE, EVALUATION_FILE, SAMPLES_FILE, read_config, write_json

__all__ = ["load_run", "evaluate_run", "evaluate_model_of_run", "evaluation_line", "write_samples",
           "prior_sampler", "log_z_from_sampler", "CLASSICAL_SAMPLERS", "prior_chain_frames", "gibbs_chain",
           "write_gibbs_chain", "save_run_plots", "MAX_CHAIN_BYTES", "MAX_PICTURE_STEPS"]

#: qhvae's own samplers that need neither a plugin nor a device: a run trained with one of
#: them draws its pictures with it (its restored chains included) unless told otherwise.
CLASSICAL_SAMPLERS = ("exact", "gibbs", "pa", "sa")

#: The most memory :func:`gibbs_chain` may take for its frames (float64 states and float32
#: decoded images): a chain that needs more is refused before anything is allocated.
MAX_CHAIN_BYTES = 2**31

#: The most frames :func:`write_gibbs_chain` draws. The picture has 8 frames a row, an inch a
#: row at 110 dpi: about 48 kB of canvas per frame, so 10,000 frames are ~0.5 GB and a minute
#: of drawing, and a longer film is no picture anyone reads (``gibbs_chain`` returns the states).
MAX_PICTURE_STEPS = 10_000


def load_run(run_dir: str | os.PathLike, console=None):
    """``(model, config, record)`` of a run's last checkpoint (sampler state restored).

    The training sampler is not built (``model.sampler`` builds it on first use), so a run
    loads after its sampler's plugin is gone or without the credentials of its device.

    Raises:
        RunError: not a run directory, no checkpoint, or an inconsistent one.
    """
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    try:
        model, record = load_checkpoint(run_dir, console)
    except RunError as exc:
        holder = lock_holder(run_dir)
        if holder is None:
            raise
        # Caught between two files of a checkpoint being written: not damage, just timing.
        raise RunError(f"{run_dir} is being trained by another qhvae process ({holder}) and its checkpoint was "
                       "being written; try again in a moment, or once that run has ended") from exc
    return model, config, record


def prior_sampler(model, config: TrainConfig, name: str | None = None, options: dict[str, Any] | None = None,
                  console=None):
    """The sampler that draws a loaded run's prior for pictures, and a note saying which.

    Args:
        model: the run's model.
        config: its configuration (the sampler it was trained with).
        name: a registered sampler; ``None``: the run's own when it is one of
            :data:`CLASSICAL_SAMPLERS`, else ``exact`` (an edge-free prior) or ``pa``.
        options: the configuration of the sampler named ``name``.
        console: where the note goes.

    Returns:
        A sampler, or ``None`` for the model's own (``model.generate``'s default).

    Raises:
        RunError: an unknown sampler, or one that refuses ``options``.
    """
    from ..registry import get_sampler
    from ..samplers.base import SamplerError

    trained = config.sampler
    if name is None and trained in CLASSICAL_SAMPLERS:
        say(console, f"[dim]the prior is sampled with the run's own sampler {trained!r} (--sampler chooses "
                     "another)[/dim]")
        return None
    if name is None:
        name = equilibrium_sampler_name(model)
    try:
        sampler = get_sampler(name, **dict(options or {}))
    except KeyError as exc:
        raise RunError(exc.args[0] if exc.args else str(exc)) from None
    except (TypeError, ValueError, SamplerError) as exc:
        raise RunError(str(exc)) from None
    adopt_graph(sampler, model.graph)
    say(console, f"[dim]note: the run was trained with sampler {trained!r}; its prior is sampled with {name!r} "
                 "(--sampler chooses another)[/dim]")
    return sampler


def equilibrium_sampler_name(model) -> str:
    """The sampler that draws ``model``'s prior at equilibrium whatever it was trained with:
    ``exact`` for an edge-free prior (independent units are sampled exactly), else ``pa``."""
    return "exact" if model.graph.num_edges == 0 else "pa"


def log_z_from_sampler(model, sampler, num_replicas: int, seed: int | None):
    """``log Z`` of the model's prior from a sampler that estimates it (``provides_log_z``: ``pa``, ``exact``);
    for a class-conditional model a list, ``log Z(y)`` of every class.

    Raises:
        RunError: the sampler gives no ``log Z``.
    """
    if not getattr(sampler, "provides_log_z", False):
        raise RunError(f"sampler {sampler.name!r} gives no log Z, which the evaluation needs; name one that does "
                       "(pa, exact) or leave --sampler out (exact when feasible, else population annealing)")
    if getattr(model, "num_classes", 0):
        # One estimate per class, seeds seed + y (as evaluate.class_log_partitions).
        return [_sampler_log_z(model, sampler, num_replicas, None if seed is None else seed + y, y)
                for y in range(model.num_classes)]
    return _sampler_log_z(model, sampler, num_replicas, seed, None)


def _sampler_log_z(model, sampler, num_replicas: int, seed: int | None, label: int | None):
    from ..evaluate.partition import LogPartition

    b, quadratic = model.prior.numpy_parameters(label)
    info = dict(sampler.sample_bm(BoltzmannMachine.from_arrays(b, quadratic), num_replicas, seed=seed).info)
    return LogPartition(float(info["log_z"]), float(info.get("log_z_stderr", float("nan"))), sampler.name, info)


def evaluation_line(results: dict[str, Any]) -> str:
    """One line summing up an evaluation (what training prints at its end)."""
    what = "test log p(x|y)" if results.get("conditional") else "test log-likelihood"
    extra = ""
    classifier = results.get("generative_classifier")
    if classifier:
        extra = (f"; generative classifier accuracy {classifier['accuracy']:.3f}, log p(x) "
                 f"{classifier['marginal_log_likelihood']:.3f} (K={classifier['num_samples']})")
    generated = results.get("generated")
    if generated:
        extra += (f"; samples classified as their label {generated['accuracy']:.3f}, Fréchet distance "
                  f"{generated['frechet_distance']:.2f}")
    return (f"{what} {results['log_likelihood']:.3f} ± {results['log_likelihood_stderr']:.3f} nats "
            f"(K={results['num_samples']}, {results['num_images']} images), ELBO {results['elbo']:.3f}, "
            f"active units {results['active_units']}/{results['units']}, log Z {results['log_z']:.3f} "
            f"± {results['log_z_stderr']:.3f} ({results['log_z_method']})" + extra)


def evaluate_model_of_run(model, config: TrainConfig, run_dir: str | os.PathLike, num_images: int | None,
                          num_samples: int, seed: int, console, record: dict[str, Any], log_z=None,
                          hidden_samples: int = 1) -> dict[str, Any]:
    """Evaluate ``model`` (the run's, already loaded) on the run's test split; writes ``evaluation.json``.

    Args:
        model: the run's :class:`~qhvae.vae.QVAE`.
        config: the run's configuration (its data and ``log Z`` settings).
        run_dir: the run directory.
        num_images: the first ``num_images`` test images (``None``: all).
        num_samples: importance samples per image.
        seed: the seed of the test set's fixed binarization and of the ``log Z`` estimate.
        console: a ``rich`` console for a status line, or ``None``.
        record: the checkpoint record (its epoch and step are written with the results).
        log_z: a :class:`~qhvae.evaluate.LogPartition` to use; ``None``: exact when
            feasible, else population annealing with the run's ``eval_log_z_replicas``.
        hidden_samples: with hidden units coupled to each other, draws of ``h`` per ``z``
            (:func:`qhvae.evaluate.importance_weighted_log_likelihood`).

    Returns:
        The results as written.
    """
    from ..evaluate import evaluate_model

    try:
        images, labels = load_test_data(config, num_images, seed=seed)
    except (ValueError, FileNotFoundError) as exc:
        raise RunError(str(exc)) from None
    if not getattr(model, "num_classes", 0):
        labels = None
    if tuple(images.shape[1:]) != tuple(model.image_shape):
        raise RunError(f"the test images have shape {tuple(images.shape[1:])} but the model was trained on "
                       f"{tuple(model.image_shape)}")
    start = time.perf_counter()
    what = f"evaluating on {len(images)} test images x {num_samples} importance samples"
    with console.status(what + " ...") if console is not None else contextlib.nullcontext():
        results = evaluate_model(model, images, num_samples=num_samples, seed=seed, log_z=log_z,
                                 log_z_replicas=config.eval_log_z_replicas, labels=labels,
                                 hidden_samples=hidden_samples)
        if labels is not None:
            results["generative_classifier"] = _generative_classifier(model, config, images, labels, results,
                                                                      num_samples)
            results["generated"] = generated_measures(model, config, images, seed, console)
    results = dict(results, dataset=config.dataset, split="test", binarization_seed=seed,
                   num_images_requested=num_images,
                   units=int(model.graph.num_latent), prior=model.graph.name, sampler=config.sampler,
                   epoch=int(record.get("epoch", 0)), step=int(record.get("step", 0)),
                   seconds=round(time.perf_counter() - start, 2))
    write_json(Path(run_dir) / EVALUATION_FILE, results)
    return results


#: Importance samples per image and class of the generative classifier (it costs C of them per image).
CLASSIFIER_SAMPLES = 100


def _generative_classifier(model, config: TrainConfig, images, labels, results, num_samples: int) -> dict[str, Any]:
    """The generative classifier's results on the test images, with ``p(y)`` the training labels' frequencies."""
    from ..evaluate import generative_classifier
    from ..evaluate.partition import LogPartition
    from .inputs import load_train_data

    per_class = [LogPartition(v, e, results["log_z_method"], {})
                 for v, e in zip(results["log_z_per_class"], results["log_z_stderr_per_class"], strict=True)]
    train_labels = load_train_data(config).labels
    prior = np.bincount(train_labels, minlength=model.num_classes)
    return generative_classifier(model, images, labels, per_class, class_prior=prior,
                                 num_samples=min(num_samples, CLASSIFIER_SAMPLES))


#: Images generated per class for the generated-image measures (at most; fewer when fewer are evaluated).
GENERATED_PER_CLASS = 1000


def generated_measures(model, config: TrainConfig, reference: np.ndarray, seed: int, console=None,
                       sampler=None) -> dict[str, Any]:
    """Whether a class-conditional run's samples of class ``y`` look like its class ``y``.

    Draws the same number of images of every class from ``p(z | y)`` in one sampler call,
    decodes them and draws binary images from the pixel probabilities (the test images are
    binary too), then asks qhvae's cached classifier of the dataset
    (:func:`qhvae.evaluate.load_classifier`, trained once on first use): the fraction
    classified as the label they were drawn for, per class, and the Fréchet distance between
    the classifier's features of generated and ``reference`` (test) images.

    The images come from the same kind of sampler for every run, whatever it was trained
    with (:func:`equilibrium_sampler_name`: exact, else population annealing), unless
    ``sampler`` is given: a persistent sampler's copy would continue its training chains
    for the first ``num_negative_samples / C`` images of a class and start the rest from
    random states with only its burn-in, so runs trained with Gibbs and with PA would be
    compared on samples of different quality.

    Returns:
        :meth:`qhvae.evaluate.GeneratedImageMeasures.to_dict`, with ``sampler``.
    """
    from ..evaluate import generated_image_measures, load_classifier

    classifier = load_classifier(config.dataset, data_dir=config.data_dir, console=console)
    per_class = max(1, min(GENERATED_PER_CLASS, len(reference) // model.num_classes))
    labels = np.repeat(np.arange(model.num_classes), per_class)
    if sampler is None:
        sampler = prior_sampler(model, config, equilibrium_sampler_name(model))
    probabilities, _ = model.generate(len(labels), seed=seed, sampler=sampler, labels=labels)
    rng = np.random.default_rng(seed)
    images = (rng.random(probabilities.shape) < probabilities).astype(np.float32)
    measures = generated_image_measures(classifier, images, labels, reference).to_dict()
    return dict(measures, sampler=sampler.name)


def rescore_generated(run_dir: str | os.PathLike, console=None, sampler: str | None = None,
                      sampler_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Draw a class-conditional run's generated-image measures again; updates ``evaluation.json``.

    Only the ``generated`` entry changes (:func:`generated_measures`, with the evaluation's
    test images and seed): the log-likelihoods, which cost most of an evaluation, are kept.

    Args:
        run_dir: an evaluated class-conditional run.
        console: a ``rich`` console for notes, or ``None``.
        sampler: the registered sampler that draws the images; ``None``:
            :func:`equilibrium_sampler_name`.
        sampler_options: its configuration.

    Raises:
        RunError: the run was not evaluated, is not class-conditional, or has trained on
            since it was evaluated (evaluate it again).
    """
    if sampler_options and sampler is None:
        raise RunError("sampler_options configure a sampler: name it too (sampler='pa')")
    run_dir = Path(run_dir)
    path = run_dir / EVALUATION_FILE
    if not path.exists():
        raise RunError(f"{run_dir} has no {EVALUATION_FILE}: evaluate it first (qhvae evaluate {run_dir})")
    try:
        results = json.loads(path.read_text())
    except ValueError as exc:
        raise RunError(f"{path} is not valid JSON ({exc}): evaluate the run again (qhvae evaluate {run_dir})") from None
    if not results.get("conditional"):
        raise RunError(f"{run_dir} is not a class-conditional run: it has no generated-image measures")
    model, config, record = load_run(run_dir, console)
    if int(record.get("step", 0)) != int(results.get("step", -1)):
        raise RunError(f"{path} scores step {results.get('step')} but the last checkpoint is step "
                       f"{record.get('step')}: evaluate the run again (qhvae evaluate {run_dir})")
    seed = int(results["binarization_seed"])
    try:
        images, _ = load_test_data(config, int(results["num_images"]), seed=seed)
    except (ValueError, FileNotFoundError) as exc:
        raise RunError(str(exc)) from None
    chosen = None if sampler is None else prior_sampler(model, config, sampler, sampler_options, console)
    results["generated"] = generated_measures(model, config, images, seed, console, sampler=chosen)
    write_json(path, results)
    return results


def evaluate_run(run_dir: str | os.PathLike, num_samples: int = 1000, num_images: int | None = None, seed: int = 0,
                 console=None, sampler: str | None = None, sampler_options: dict[str, Any] | None = None,
                 hidden_samples: int = 1) -> dict[str, Any]:
    """Evaluate a run's last checkpoint on its test split; writes ``evaluation.json``.

    The sampler the run was trained with is not needed: ``log Z`` is exact when feasible,
    else from population annealing, or from ``sampler``.

    Args:
        run_dir: the run directory.
        num_samples: importance samples per image (paper: 1000).
        num_images: the first ``num_images`` test images (default: all).
        seed: the seed of the test set's fixed binarization and of the ``log Z`` estimate.
        console: a ``rich`` console for notes and a status line, or ``None``.
        sampler: a registered sampler that estimates ``log Z`` (``provides_log_z``), with
            the run's ``eval_log_z_replicas`` samples; ``None``: the default estimate.
        sampler_options: its configuration.
        hidden_samples: with hidden units coupled to each other, draws of ``h`` per ``z`` that
            estimate its free energy (the bound tightens as it grows; cost grows with it).
    """
    if num_samples < 1 or (num_images is not None and num_images < 1) or hidden_samples < 1:
        raise RunError("need num_samples >= 1, num_images >= 1 and hidden_samples >= 1")
    if sampler_options and sampler is None:
        raise RunError("sampler_options configure a sampler: name it too (sampler='pa')")
    run_dir = Path(run_dir)
    model, config, record = load_run(run_dir, console)
    log_z = None
    if sampler is not None:
        chosen = prior_sampler(model, config, sampler, sampler_options)
        log_z = log_z_from_sampler(model, chosen, config.eval_log_z_replicas, seed)
    say(console, f"[dim]note: the run was trained with sampler {config.sampler!r}; the evaluation needs only its "
                 f"prior (log Z: {log_z.method if log_z else 'exact when feasible, else population annealing'})"
                 "[/dim]")
    return evaluate_model_of_run(model, config, run_dir, num_images, num_samples, seed, console, record, log_z=log_z,
                                 hidden_samples=hidden_samples)


# --------------------------------------------------------------------------------------
# pictures of the prior
# --------------------------------------------------------------------------------------


def write_samples(model, path: str | os.PathLike, num: int = 64, seed: int | None = 0, sampler=None,
                  label: int | None = None) -> Path:
    """A PNG grid of ``num`` images decoded from prior samples (pixel probabilities).

    A class-conditional model draws ``p(z | y)``: of class ``label``, or, by default, one
    row per class of ``max(1, num // C)`` images each.

    Args:
        model: the run's model.
        path: the PNG file.
        num: images.
        seed: seed of the sampler call.
        sampler: the sampler of the prior (see :func:`prior_sampler`); ``None``: the model's own.
        label: the class to draw (a class-conditional model only).
    """
    if num < 1:
        raise RunError(f"need at least one sample, got {num}")
    labels, per_class = None, None
    num_classes = getattr(model, "num_classes", 0)
    if label is not None:
        if not num_classes:
            raise ConfigError("--label: this run's model is unconditional (train with --conditional to generate "
                              "by class)")
        labels = model.check_labels(label, num)
    elif num_classes:
        per_class = max(1, num // num_classes)
        labels = np.repeat(np.arange(num_classes), per_class)
        num = len(labels)
    images, _ = model.generate(num, seed=seed, sampler=sampler, labels=labels)
    used = sampler if sampler is not None else model.sampler
    return plot_prior_samples(images, path, model.graph.name, used.name, per_class=per_class)


def prior_chain_frames(model, z0: np.ndarray, steps: int, seed: int | np.random.Generator | None = None, *,
                       per_sweep: bool = False, label: int | None = None) -> np.ndarray:
    """Block-Gibbs chains on the model's prior, frame by frame.

    With ``E(z) = b.z + sum W_ij z_i z_j``, a unit's conditional is
    ``P(z_i = 1 | rest) = sigmoid(-(b_i + sum_j W_ij z_j))``; the units of one colour class
    of ``model.graph.colors`` are conditionally independent and updated together. The
    updates are :class:`~qhvae.samplers.gibbs.ChainRunner` sweeps, the ``gibbs`` sampler's kernel.

    Args:
        model: a :class:`~qhvae.vae.QVAE`.
        z0: ``(C, L)`` start states of ``C`` chains in {0, 1} (not modified).
        steps: frames.
        seed: seed (or generator) of the chains' random streams.
        per_sweep: ``False``: one colour class updated per frame, the classes in turn (the
            film of the paper's Fig. 10); ``True``: one full sweep (every class once) per frame.
        label: a class-conditional model's class (its prior ``p(z | label)``); default 0.

    Returns:
        ``(steps, C, L)`` float64 states after each frame.
    """
    if getattr(model, "num_classes", 0):
        label = 0 if label is None else int(model.check_labels(label, 1)[0])
    elif label is not None:
        raise ConfigError("this model is unconditional: its prior takes no label")
    b, quadratic = model.prior.numpy_parameters(label)
    bm = BoltzmannMachine.from_arrays(b, quadratic)
    colors = np.asarray(model.graph.colors)
    start = np.array(z0, np.float64, ndmin=2)
    rng = np.random.default_rng(seed)
    z = np.ascontiguousarray(start.T.astype(np.uint8))  # (L, C): the kernels keep chains unit-major
    streams = rng.integers(1, 2 ** 64, len(start), dtype=np.uint64)  # one non-zero xorshift state per chain
    frames = np.empty((steps,) + start.shape, np.float64)
    if per_sweep:
        runner = ChainRunner(bm, colors)
        for t in range(steps):
            runner.sweep(z, streams, 1)
            frames[t] = z.T
        return frames
    # A sweep updates the colour classes in increasing colour; with the colours rotated so that
    # class k comes first, a sweep's first block update is class k's update from the current
    # state. Keeping only that block gives one class per frame from the sampler's own kernel.
    classes = np.unique(colors)
    rank = np.searchsorted(classes, colors)
    runners = [ChainRunner(bm, (rank - k) % len(classes)) for k in range(len(classes))]
    for t in range(steps):
        k = t % len(classes)
        trial = z.copy()
        runners[k].sweep(trial, streams, 1)
        z[rank == k] = trial[rank == k]
        frames[t] = z.T
    return frames


def gibbs_chain(model, steps: int = 64, seed: int | None = 0, z0: np.ndarray | None = None,
                label: int | None = None):
    """One block-Gibbs chain on the model's prior, one colour class updated per frame.

    Args:
        steps: frames (block updates).
        seed: seed of the start state (uniform random unless ``z0``) and the updates.
        z0: start state ``(L,)``.
        label: a class-conditional model's class (default 0).

    Returns:
        ``(z, images)``: ``(steps, L)`` states after each update and their decoded
        ``(steps, H, W, 1)`` pixel probabilities.
    """
    if steps < 1:
        raise RunError(f"need at least one step, got {steps}")
    n = int(model.graph.num_nodes)
    per_frame = 8 * n + 4 * int(np.prod(model.image_shape))
    if is_integer(steps) and steps * per_frame > MAX_CHAIN_BYTES:
        raise ConfigError(f"steps (--steps) = {steps} would need {steps * per_frame / 2**30:.1f} GiB for the chain's "
                         f"states and decoded images ({per_frame} bytes a frame); at most "
                         f"{MAX_CHAIN_BYTES // per_frame} steps ({MAX_CHAIN_BYTES / 2**30:g} GiB) for this model")
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n).astype(np.float64) if z0 is None else np.asarray(z0, np.float64).copy()
    frames = prior_chain_frames(model, z[None, :], steps, rng, label=label)[:, 0, :]
    return frames, model.decode(frames)


def write_gibbs_chain(model, path: str | os.PathLike, steps: int = 64, seed: int | None = 0,
                      label: int | None = None) -> Path:
    """The paper's Fig. 10: a PNG of one block-Gibbs chain's states, decoded, frame by frame.

    Raises:
        ConfigError: ``steps`` beyond :data:`MAX_PICTURE_STEPS` (refused before any work); a ValueError.
    """
    if is_integer(steps) and steps > MAX_PICTURE_STEPS:
        raise ConfigError(f"steps (--steps) must be at most {MAX_PICTURE_STEPS} frames for a picture, got {steps}: "
                         f"the PNG takes ~48 kB of canvas a frame (8 frames a row); gibbs_chain(model, steps) "
                         "returns the states of a longer chain without drawing them")
    _, images = gibbs_chain(model, steps, seed, label=label)
    return plot_gibbs_chain(images, path, model.graph.name, model.graph.num_colors)


def save_run_plots(model, config: TrainConfig, run_dir: str | os.PathLike, record: dict[str, Any], console,
                   samples: bool = True) -> None:
    """Write a run's ``training_curves.png`` and, when its weights are finite, its sample and chain pictures.

    Args:
        model: the run's model.
        config: its configuration (picture sizes and seed).
        run_dir: the run directory.
        record: the progress record (history, epoch, status).
        console: a ``rich`` console that is told what was written, or ``None``.
        samples: also draw ``samples.png`` and ``gibbs_chain.png`` (not for a diverged run).
    """
    run_dir = Path(run_dir)
    title = (f"{config.dataset}, prior {model.graph.name}, sampler {config.sampler}: "
             f"{record['epoch']} of {config.epochs} epochs ({record.get('status', '')})")
    written = [plot_training_curves(record.get("history", {}), run_dir / CURVES_FILE, title)]
    if samples and weights_finite(model):
        if config.num_plot_samples:
            written.append(write_samples(model, run_dir / SAMPLES_FILE, config.num_plot_samples, seed=config.seed))
        if config.gibbs_chain_steps:
            written.append(write_gibbs_chain(model, run_dir / CHAIN_FILE, config.gibbs_chain_steps, seed=config.seed))
    say(console, "wrote " + ", ".join(str(p) for p in written))
