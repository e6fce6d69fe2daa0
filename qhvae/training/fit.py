"""Train, resume and finish a run: the model built from its configuration and the fit loop.

:func:`train_run` trains a :class:`~qhvae.training.config.TrainConfig` into a fresh run
directory; :func:`resume_run` loads the last checkpoint (weights, optimizer and sampler
state: :mod:`~qhvae.training.checkpoint`) and continues ``fit`` at the checkpointed epoch.
From a mid-epoch (step) checkpoint it first trains the rest of that epoch (the batches not
yet done, in a fresh shuffle order), so a resumed run makes the same number of optimizer
steps as one that was never interrupted. Both end by writing the plots and ``evaluation.json``.

When the loss or a weight becomes non-finite, :class:`~qhvae.training.monitors.StopOnNaN`
stops training, the run is marked ``diverged`` (its last finite checkpoint stays) and
:class:`~qhvae.training.config.TrainingDiverged` is raised.

A process trains a run only while it holds the run's lock
(:class:`~qhvae.training.guard.RunLock`); ``progress.json`` then says how the run ended:
``finished``, ``interrupted`` (Ctrl-C or SIGTERM, honoured at once even while a sampler
hangs: :class:`~qhvae.training.guard.InterruptWatch`), ``diverged`` or
``failed`` with the error (:class:`~qhvae.training.config.TrainingFailed`).

With the same configuration and seed, a run is the same on one machine: the seed sets
Keras's and TensorFlow's generators before the model is built, TensorFlow's op
determinism is on, the negative phase's sampler calls are seeded from it, and the data
order and dynamic binarization are seeded from it (docs/vae.md says what still varies
between machines).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..tfutil import import_tensorflow_quietly

import_tensorflow_quietly()  # before Keras: its import prints TensorFlow's notices otherwise

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from .. import topology
from ..samplers.base import BoltzmannSampler
from ..vae import QVAE
from ..vae.training_schedules import paper_schedules
from .checkpoint import RunCheckpoint, commit_checkpoint, has_checkpoint, load_checkpoint
from .config import (
    DEFAULT_RUN_DIR,
    RunError,
    TrainConfig,
    TrainingDiverged,
    TrainingFailed,
    check_resume_changes,
    default_graph_options,
)
from .console import say
from .guard import InterruptWatch, RunLock, check_run_dir, sigterm_as_interrupt
from .history import HistoryCSVLogger, restore_history_csv
from .inputs import load_test_data, load_train_data, num_classes_of
from .monitors import RichProgress, SamplerMonitor, StopOnNaN, TestSetTracker, weights_finite
from .run_evaluation import evaluate_model_of_run, evaluation_line, save_run_plots
from .rundir import (
    CONFIG_FILE,
    HISTORY_FILE,
    describe_position,
    holds_run,
    mark_ended,
    new_record,
    read_config,
    read_progress,
    write_json,
    write_progress,
)
from .tensorboard import TENSORBOARD_DIR, QVAETensorBoard, images_every_for, tensorboard_installed

__all__ = ["build_model", "build_sampler", "seed_run", "network_arguments", "training_callbacks", "fit_run",
           "train_run", "resume_run", "finish_run"]


def _graph(config: TrainConfig, image_size: int):
    factory = topology.GRAPH_FAMILIES[config.prior]
    options = dict(default_graph_options(config.prior, image_size) if config.graph_options is None
                   else config.graph_options)
    params = list(inspect.signature(factory).parameters) + list(topology.HIDDEN_OPTIONS)
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise RunError(f"prior {config.prior!r} has no option {', '.join(map(repr, unknown))}; "
                       f"its options are {', '.join(params)}")
    try:
        return topology.by_name(config.prior, **options)
    except (TypeError, ValueError) as exc:
        raise RunError(f"prior {config.prior!r} with options {options}: {exc}") from None


def network_arguments(config: TrainConfig) -> dict[str, Any]:
    """The :class:`~qhvae.vae.QVAE` width arguments of ``config``'s network.

    Example:
        >>> network_arguments(TrainConfig(network="fc", network_options={"hidden": [64]}))
        {'network_options': {'hidden': [64]}}
        >>> network_arguments(TrainConfig(network="conv", base_filters=8, hidden=32))
        {'base_filters': 8, 'hidden': 32}
    """
    if config.network == "fc":
        return {"network_options": config.network_options}
    return {"base_filters": config.base_filters, "hidden": config.hidden}


def seed_run(seed: int) -> None:
    """Make what follows reproducible from ``seed`` on this machine.

    Seeds Python's, numpy's, Keras's and TensorFlow's generators
    (``keras.utils.set_random_seed``) and turns on TensorFlow's op determinism (for the
    rest of the process: TensorFlow cannot turn it off again).
    """
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def build_sampler(config: TrainConfig) -> BoltzmannSampler:
    """The run's negative-phase sampler, built from ``config.sampler`` and ``config.sampler_options``.

    A sampler that takes a seed of its own (the emulator: its device's offsets and drift;
    the qpu sampler) gets the run's ``seed`` unless ``sampler_options`` give one, so the same
    seed gives the same run with it too.

    Raises:
        RunError: an unknown or unavailable sampler, or one that refuses its options
            (a non-integer sweep count, an unknown option, missing credentials).
    """
    from ..registry import default_registry
    from ..samplers.base import SamplerError

    registry = default_registry()
    try:
        return registry.get(config.sampler, **registry.seeded_options(config.sampler, config.sampler_options,
                                                                       config.seed))
    except KeyError as exc:
        raise RunError(exc.args[0] if exc.args else str(exc)) from None
    except (TypeError, ValueError, SamplerError) as exc:
        raise RunError(str(exc)) from None


def build_model(config: TrainConfig, image_shape: Sequence[int], sampler: BoltzmannSampler | None = None,
                num_classes: int = 0):
    """A compiled :class:`~qhvae.vae.QVAE` for ``config`` (used by :func:`train_run`).

    Args:
        config: the run's configuration.
        image_shape: ``(H, W, 1)``.
        sampler: the sampler built by :func:`build_sampler` (``None``: built here).
        num_classes: the classes of a class-conditional run (``config.conditional``).

    Raises:
        RunError: unknown graph options or sampler configuration.
    """
    graph = _graph(config, int(image_shape[0]))
    if sampler is None:
        sampler = build_sampler(config)
    model = QVAE(
        image_shape, graph, mapping=config.mapping, sampler=sampler,
        sampler_config=dict(config.sampler_options), num_negative_samples=config.num_negative_samples,
        tau=config.tau, k=config.k, d=config.d, prefetch=config.prefetch, seed=config.seed,
        network=config.network, num_classes=num_classes, hidden_sweeps=config.hidden_sweeps,
        **network_arguments(config),
    )
    model.sampler_name = config.sampler  # the name it was registered under, which a loaded model builds again
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model


def training_callbacks(config: TrainConfig) -> list[keras.callbacks.Callback]:
    """The paper's schedules, then the callbacks that add to the epoch logs (before any logger sees them).

    Raises:
        RunError: ``track_every_epochs`` is set but the test split cannot be loaded.
    """
    callbacks = paper_schedules(config.epochs, initial_lr=config.learning_rate, final_lr=config.final_learning_rate,
                                kl_fraction=config.kl_anneal_fraction) + [SamplerMonitor()]
    if config.track_every_epochs:
        try:
            images, labels = load_test_data(config, config.track_num_images, seed=0)
        except (ValueError, FileNotFoundError) as exc:
            raise RunError(f"track_every_epochs needs the test split: {exc}") from None
        callbacks.append(TestSetTracker(images, every=config.track_every_epochs,
                                        num_samples=config.track_num_samples,
                                        log_z_replicas=config.track_log_z_replicas, seed=0,
                                        labels=labels if config.conditional else None))
    return callbacks


def run_tensorboard(config: TrainConfig, run_dir: Path, console=None) -> list[keras.callbacks.Callback]:
    """The run's TensorBoard callback (in ``RUN/tensorboard``), or none when ``config.tensorboard`` is off.

    ``tensorboard`` is a requirement of qhvae, but an environment can still lack it (a
    ``--no-deps`` install, a stripped image): then the run trains without the logs and says
    so in one line, instead of failing at the first ``tf.summary`` call.
    """
    if not config.tensorboard:
        return []
    if not tensorboard_installed():
        say(console, "[yellow]note:[/yellow] TensorBoard logs skipped: the tensorboard package is not installed "
                     "(pip install tensorboard; or --no-tensorboard to silence this)")
        return []
    return [QVAETensorBoard(run_dir / TENSORBOARD_DIR, images_every=images_every_for(config.epochs),
                            num_samples=min(config.num_plot_samples, 64), chain_steps=min(config.gibbs_chain_steps, 32),
                            seed=config.seed)]


def _op_error_message(exc) -> str:
    """The Python error inside a TensorFlow op error (e.g. a sampler's), without TF's traceback."""
    text = str(getattr(exc, "message", exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return line
    return lines[0] if lines else type(exc).__name__


def fit_run(model, config: TrainConfig, run_dir: str | os.PathLike, train, record: dict[str, Any], console=None,
            extra_callbacks: Iterable = ()) -> dict[str, Any]:
    """Train from ``record`` (epoch, batch) to ``config.epochs``, checkpointing; returns the final record.

    Args:
        model: the compiled model (fresh, or loaded from the checkpoint of ``record``).
        config: the run's configuration.
        run_dir: the run directory.
        train: the training :class:`qhvae.data.Dataset`.
        record: the last committed checkpoint record.
        console: a ``rich`` console for progress, or ``None``.
        extra_callbacks: more Keras callbacks (after the run's own).

    Raises:
        TrainingDiverged: a non-finite loss or weight; the run is marked ``diverged``.
        RunError: a TensorFlow op failed with the weights still finite (e.g. a sampler error).
    """
    run_dir = Path(run_dir)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    start_epoch, start_batch = int(record["epoch"]), int(record["batch"])
    if start_batch >= steps_per_epoch:
        start_epoch, start_batch = start_epoch + 1, 0
    keras.utils.set_random_seed(config.seed + int(record["step"]))
    # A new pipeline seed after a resume: the first iteration of a fresh pipeline would
    # otherwise replay epoch 0's order and binarization draws.
    data_seed = config.seed + 7919 * int(record["step"])
    segments = []
    if start_batch:
        segments.append((start_epoch, start_batch))
    if start_epoch + (1 if start_batch else 0) < config.epochs:
        segments.append((start_epoch + (1 if start_batch else 0), 0))
    extra_callbacks = list(extra_callbacks)
    for first_epoch, skip in segments:
        ds = train.to_tf(config.batch_size, shuffle=True, seed=data_seed + first_epoch, with_labels=config.conditional)
        last_epoch = first_epoch + 1 if skip else config.epochs
        if skip:
            ds = ds.skip(skip)
        stop = StopOnNaN()
        checkpoint = RunCheckpoint(run_dir, record, config.checkpoint_every_steps, skip, steps_per_epoch)
        callbacks = training_callbacks(config) + [
            stop,
            RichProgress(console=console) if console is not None else keras.callbacks.Callback(),
            HistoryCSVLogger(run_dir / HISTORY_FILE),
        ] + run_tensorboard(config, run_dir, console) + [checkpoint] + extra_callbacks
        failure = None
        try:
            # Ctrl-C and SIGTERM set the negative phase's abort event at once: a sampler call that
            # hangs is abandoned and the interrupt reaches this thread.
            with InterruptWatch(model.negative_phase.abort), warnings.catch_warnings():
                # Keras warns that fit's shuffle=True is ignored for a tf.data input (ours shuffles itself).
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(ds, epochs=last_epoch, initial_epoch=first_epoch, callbacks=callbacks, verbose=0)
        except Exception as exc:
            if model.negative_phase.abort.is_set():
                raise KeyboardInterrupt from None  # however TensorFlow reported the abandoned step
            if not isinstance(exc, tf.errors.OpError):
                raise
            failure = _op_error_message(exc)
            if weights_finite(model):
                raise TrainingFailed(f"training failed: {failure}. {run_dir} keeps the checkpoint of "
                                     f"{describe_position(checkpoint.record)}; once the cause is fixed, "
                                     f"`qhvae train --resume {run_dir}` continues from it"
                                     ) from model.negative_phase.last_error
        if model.negative_phase.abort.is_set():
            raise KeyboardInterrupt  # Ctrl-C during the last step of fit: stop before anything else
        record = checkpoint.record
        if stop.message or checkpoint.diverged or failure:
            if stop.message:
                message = stop.message
            elif failure:  # a step with a finite loss left non-finite weights; the next sampler call refused them
                message = (f"the weights became non-finite and training stopped ({failure}); the last checkpoint "
                           "holds the last finite state")
            else:
                message = ("the loss or a weight became non-finite; training stopped and the last checkpoint holds "
                           "the last finite state")
            record = dict(record, status="diverged", message=message)
            write_progress(run_dir, record)
            save_run_plots(model, config, run_dir, record, console, samples=False)
            raise TrainingDiverged(
                f"{message}. {run_dir} keeps the checkpoint of {describe_position(record)} (step {record['step']}); "
                f"`qhvae train --resume {run_dir}` continues from it (add a lower --learning-rate if the loss "
                "diverged again)", run_dir)
        if model.stop_training:
            break  # some user callback stopped training; the checkpoint callback saved where
    return record


def train_run(config: TrainConfig, out: str | os.PathLike = DEFAULT_RUN_DIR, console=None,
              callbacks: Iterable = ()) -> Path:
    """Train a QVAE as described by ``config`` into the run directory ``out``.

    Writes the checkpoint files during training and, at the end, the plots and
    ``evaluation.json``. ``console`` (a ``rich.console.Console``) shows progress;
    ``callbacks`` are extra Keras callbacks.

    Returns:
        The run directory.

    Raises:
        RunError: bad configuration, missing data, ``out`` already holds a run, cannot be
            written, or is being trained by another process.
        TrainingDiverged: the loss became non-finite (the last good checkpoint stays).
        TrainingFailed: an error while training (a sampler's); the last checkpoint stays.
    """
    config = TrainConfig.from_dict(config.to_dict()).validate()
    run_dir = check_run_dir(out)
    _refuse_existing_run(run_dir)
    config, train, model = _prepare_fresh(config)
    with RunLock(run_dir):
        _refuse_existing_run(run_dir)  # another process may have started it meanwhile
        return _train_prepared(config, run_dir, train, model, console, callbacks)


def _hidden_note(graph) -> str:
    """``", 144 of them hidden (uncoupled: exact free energy)"`` for a graph with hidden units, else ``""``."""
    if graph.hidden is None:
        return ""
    how = "coupled to each other: h | z sampled" if graph.hidden_coupled else "uncoupled: exact free energy"
    return f", {graph.num_hidden} of them hidden ({how})"


def _refuse_existing_run(run_dir: Path) -> None:
    if holds_run(run_dir):
        progress = read_progress(run_dir)
        where = f" (epoch {progress.get('epoch', 0)} of {progress.get('epochs', '?')})" if progress else ""
        raise RunError(f"{run_dir} already holds a run{where}; resume it with `qhvae train --resume {run_dir}` "
                       "or choose another folder with --out")


def _prepare_fresh(config: TrainConfig):
    """``(config, train, model)`` of a new run: seeds first, the sampler before the data (its errors first)."""
    seed_run(config.seed)
    sampler = build_sampler(config)
    train = load_train_data(config)
    if config.graph_options is None:
        config.graph_options = default_graph_options(config.prior, train.images.shape[1])
    model = build_model(config, train.image_shape, sampler, num_classes_of(train) if config.conditional else 0)
    # A sampler that can tell it cannot sample this prior (the exact sampler and a component
    # too large to enumerate) says so now, before a run folder exists, not at the first step.
    check = getattr(sampler, "check_structure", None)
    if check is not None:
        try:
            check(model.graph.num_nodes, model.graph.edges)
        except ValueError as exc:
            raise RunError(f"sampler {config.sampler!r} cannot train prior {model.graph.name}: {exc}") from None
    return config, train, model


@contextlib.contextmanager
def _ending_recorded(run_dir: Path):
    """Record in ``progress.json`` how training ended when it ends by an exception (``diverged`` is already).

    SIGTERM counts as an interrupt meanwhile, so ``kill PID`` leaves ``interrupted``, not ``training``.
    """
    try:
        with sigterm_as_interrupt():
            yield
    except KeyboardInterrupt:
        mark_ended(run_dir, "interrupted", "interrupted (Ctrl-C or SIGTERM); the last checkpoint stays, "
                                           f"`qhvae train --resume {run_dir}` continues from it")
        raise
    except BaseException as exc:
        mark_ended(run_dir, "failed", str(exc) if isinstance(exc, RunError) else f"{type(exc).__name__}: {exc}")
        raise


def _train_prepared(config: TrainConfig, run_dir: Path, train, model, console, callbacks: Iterable) -> Path:
    """Train a prepared new run into ``run_dir`` (the caller holds its lock)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / HISTORY_FILE).unlink(missing_ok=True)
    write_json(run_dir / CONFIG_FILE, config.to_dict())
    say(console, f"[bold]qhvae train[/bold] -> {run_dir.resolve()}\n"
                 f"  data {config.dataset} ({len(train)} training images {train.image_shape[0]}x"
                 f"{train.image_shape[1]}), prior {model.graph.name} ({model.graph.num_nodes} units"
                 f"{_hidden_note(model.graph)}, "
                 f"{model.graph.num_edges} couplings), sampler {config.sampler}, {config.epochs} epochs of batch "
                 f"{config.batch_size}, {int(model.count_params()):,} parameters")
    with _ending_recorded(run_dir):
        record = new_record(config)
        if not model.optimizer.built:
            # Otherwise the epoch-0 checkpoint saves an optimizer without its slots, and a run
            # resumed from it warns that Keras skipped loading the optimizer's variables.
            model.optimizer.build(model.trainable_variables)
        record = commit_checkpoint(model, run_dir, record)  # epoch 0: a run killed in its first epoch restarts here
        record = fit_run(model, config, run_dir, train, record, console, callbacks)
        return finish_run(model, config, run_dir, record, console)


def resume_run(run_dir: str | os.PathLike, console=None, callbacks: Iterable = (), epochs: int | None = None,
               overrides: dict[str, Any] | None = None) -> Path:
    """Continue an interrupted run from its last checkpoint; finish it (plots, evaluation).

    Args:
        run_dir: the run directory.
        console: a ``rich.console.Console`` for progress, or ``None``.
        callbacks: extra Keras callbacks.
        epochs: a new total number of epochs (the schedules are rescaled to it).
        overrides: new values of :data:`~qhvae.training.config.RESUME_OPTIONS` (e.g. a lower
            ``learning_rate`` after a divergence); saved to ``config.json``.

    Returns:
        The run directory.
    """
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    with RunLock(run_dir):
        return _resume_locked(run_dir, config, console, callbacks, epochs, overrides)


def _resume_locked(run_dir: Path, config: TrainConfig, console, callbacks: Iterable, epochs: int | None,
                   overrides: dict[str, Any] | None) -> Path:
    try:
        config.validate()
    except RunError as exc:
        if f"sampler {config.sampler!r}" not in str(exc):
            raise RunError(f"{run_dir / CONFIG_FILE}: {exc}") from None
        raise _sampler_gone(run_dir, config, exc) from None
    changes = dict(overrides or {})
    if epochs is not None:
        changes["epochs"] = epochs
    check_resume_changes(changes)
    updated = TrainConfig.from_dict({**config.to_dict(), **changes}).validate()
    seed_run(updated.seed)
    if not has_checkpoint(run_dir):
        # killed before its first checkpoint: start again with the saved configuration
        say(console, f"[yellow]note:[/yellow] {run_dir} has no checkpoint yet; training starts from the beginning")
        updated, train, model = _prepare_fresh(updated)
        return _train_prepared(updated, run_dir, train, model, console, callbacks)
    model, record = load_checkpoint(run_dir, console)
    if updated.epochs < record["epoch"]:
        raise RunError(f"{run_dir} has already trained {record['epoch']} epochs; --epochs {updated.epochs} is fewer")
    try:
        # Reading the property builds a loaded model's training sampler (it is built on first
        # use): resuming needs it, so a sampler that cannot be built any more fails here.
        _ = model.sampler
    except Exception as exc:
        raise _sampler_gone(run_dir, config, exc) from None
    train = load_train_data(updated)
    for key in sorted(changes):
        if getattr(config, key) != getattr(updated, key):
            say(console, f"[yellow]note:[/yellow] {key} {getattr(config, key)} -> {getattr(updated, key)}"
                         + ("; the schedules are rescaled" if key == "epochs" else ""))
    if updated != config:
        write_json(run_dir / CONFIG_FILE, updated.to_dict())
    config = updated
    record = dict(record, epochs=config.epochs, status="training", message=None)
    with _ending_recorded(run_dir):
        # The logger appends to history.csv: it must first hold what the record holds.
        note = restore_history_csv(run_dir / HISTORY_FILE, record)
        if note:
            say(console, f"[yellow]note:[/yellow] {note}")
        if record["epoch"] >= config.epochs:
            say(console, f"{run_dir}: all {config.epochs} epochs are trained; writing plots and evaluation")
            return finish_run(model, config, run_dir, record, console)
        write_progress(run_dir, record)  # a process trains it again (until it says how it ended)
        say(console, f"[bold]resuming[/bold] {run_dir.resolve()} from {describe_position(record)} "
                     f"(step {record['step']}) of {config.epochs} epochs")
        record = fit_run(model, config, run_dir, train, record, console, callbacks)
        return finish_run(model, config, run_dir, record, console)


def _sampler_gone(run_dir: Path, config: TrainConfig, exc: BaseException) -> RunError:
    """The error of a run whose training sampler cannot be built any more (a plugin gone, no credentials)."""
    why = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return RunError(f"{run_dir} was trained with sampler {config.sampler!r}, which cannot be built here: {why}. "
                    "Resuming needs it (install the plugin again, or supply the credentials); evaluate, sample and "
                    "gibbs-chain do not")


def finish_run(model, config: TrainConfig, run_dir: str | os.PathLike, record: dict[str, Any], console=None) -> Path:
    """Mark a run ``finished`` (or ``stopped`` early by a callback), write its plots and evaluation.

    Returns:
        The run directory.
    """
    run_dir = Path(run_dir)
    # "stopped": a user callback ended training early; --resume continues it
    record = dict(record, status="finished" if record["epoch"] >= config.epochs else "stopped")
    write_progress(run_dir, record)
    save_run_plots(model, config, run_dir, record, console)
    if config.eval_num_images:
        results = evaluate_model_of_run(model, config, run_dir, config.eval_num_images, config.eval_num_samples, 0,
                                        console, record)
        say(console, evaluation_line(results))
    minutes, cpu_minutes = record.get("train_seconds", 0.0) / 60, record.get("cpu_seconds", float("nan")) / 60
    cpu = f" ({cpu_minutes:.1f} CPU min)" if math.isfinite(cpu_minutes) else ""
    say(console, f"[green]done[/green]: {record['epoch']} epochs in {minutes:.1f} min of training{cpu}; results in "
                 f"{run_dir.resolve()}")
    return run_dir
