"""Who trains an experiment's runs: this process, one after another, or a Ray cluster, side by side.

Both executors train the same :class:`~qhvae.experiments.runner.PlannedRun` objects with
the same function, :func:`train_planned_run`, which is resumable by construction: a finished
run is left alone, an interrupted one resumes from its checkpoint (sampler state included), a
missing one is trained. That is what makes an experiment safe to hand to a cluster: a task
whose worker dies is simply run again (Ray's ``max_retries``) and continues from the last
checkpoint, and the finished runs' folders are never touched again.

- :class:`LocalExecutor` (the default): sequential, in this process, with a rich progress
  display per run.
- :class:`RayExecutor`: one Ray task per run, with its resources declared (CPUs, and GPUs
  when asked), on a local Ray instance or an existing cluster (``address``). Ray is an
  optional extra: ``pip install "qhvae[ray]"``. The run folders must be on a file system
  every node sees (on one machine, any folder; on a cluster, a shared mount).

Example:
    >>> executor_by_name("local").name
    'local'
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import ConfigError
from ..training.config import TrainingDiverged
from ..training.console import say

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "executor_by_name", "train_planned_run", "EXECUTORS"]

#: Environment variables handed to Ray workers as they are here (data location, log levels).
FORWARDED_ENV = ("QHVAE_DATA_DIR", "TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")


def train_planned_run(run, analysis: str | None = None, console=None) -> str:
    """Bring one planned run to an end: train it, resume it, or leave it; returns its final state.

    Args:
        run: a :class:`~qhvae.experiments.runner.PlannedRun`.
        analysis: the experiment's extra per-run analysis (``"modes"``), or ``None``.
        console: a ``rich`` console for progress, or ``None``.

    Returns:
        ``"finished"``, ``"diverged"`` or (a run stopped by a callback) ``"partial"``.

    Raises:
        RunError: a configuration or data problem (the experiment should stop).
    """
    from ..training.fit import resume_run, train_run  # TensorFlow loads here, not when options are checked
    from .analysis import modes_statistics, run_source, run_state

    state = run_state(run_source(run))
    if state == "new":
        if run.run_dir.exists():  # a run killed before its first checkpoint: nothing to keep
            shutil.rmtree(run.run_dir)
        try:
            train_run(run.config, run.run_dir, console=console)
        except TrainingDiverged as exc:
            say(console, f"[yellow]diverged[/yellow]: {exc}")
    elif state == "partial":
        try:
            resume_run(run.run_dir, console=console)
        except TrainingDiverged as exc:
            say(console, f"[yellow]diverged[/yellow]: {exc}")
    final = run_state(run.run_dir) if run.run_dir.exists() else state
    if analysis == "modes" and final == "finished":
        modes_statistics(run.run_dir, console=console)
    return final


class Executor:
    """Trains a list of planned runs; subclasses decide where and in what order."""

    name = "executor"

    def run_all(self, runs: Sequence, analysis: str | None = None, console=None,
                describe: Callable[[int, Any, str], str] | None = None,
                on_done: Callable[[Any, str], None] | None = None) -> list[str]:
        """Train every run (resuming what is partial); returns their final states, in order.

        ``on_done(run, state)`` is called in this process as each run ends (the study keeps
        the run's record then, not only when every run has ended).
        """
        raise NotImplementedError


class LocalExecutor(Executor):
    """One run after another in this process: the default, and what a laptop wants."""

    name = "local"

    def run_all(self, runs, analysis=None, console=None, describe=None, on_done=None):
        from .analysis import run_source, run_state

        states = []
        for index, run in enumerate(runs, 1):
            state = run_state(run_source(run))
            if console is not None and describe is not None:
                console.rule(describe(index, run, state))
            states.append(state if state == "diverged" else train_planned_run(run, analysis, console))
            if on_done is not None:
                on_done(run, states[-1])
        return states


class RayExecutor(Executor):
    """Each run a Ray task: runs proceed side by side as far as the cluster's resources allow.

    Args:
        address: an existing cluster (``"ray://host:10001"``, ``"auto"``, ``"host:6379"``);
            ``None`` starts a local instance with ``num_cpus`` CPUs.
        num_cpus: CPUs of the local instance (``None``: all of this machine's).
        cpus_per_run: CPUs each run declares (and the TensorFlow and numba thread pools it
            is given, so that runs side by side do not oversubscribe the cores).
        gpus_per_run: GPUs each run declares (0: CPU only).
        max_retries: how often a run whose worker died is started again (it resumes from
            its last checkpoint).

    Raises:
        ImportError: (on use) Ray is not installed; the message says how to install it.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, cpus_per_run: float = 1,
                 gpus_per_run: float = 0, max_retries: int = 3):
        if cpus_per_run <= 0 or gpus_per_run < 0 or max_retries < 0:
            raise ConfigError("cpus_per_run must be positive, gpus_per_run and max_retries not negative")
        self.address, self.num_cpus = address, num_cpus
        self.cpus_per_run, self.gpus_per_run, self.max_retries = cpus_per_run, gpus_per_run, int(max_retries)

    @staticmethod
    def _ray():
        try:
            import ray
        except ImportError:
            raise ImportError('the ray executor needs Ray: pip install "qhvae[ray]"') from None
        return ray

    def _runtime_env(self) -> dict[str, Any]:
        threads = str(max(1, int(self.cpus_per_run)))
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        env.update(TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS="1", NUMBA_NUM_THREADS=threads,
                   OMP_NUM_THREADS=threads)
        return {"env_vars": env}

    def run_all(self, runs, analysis=None, console=None, describe=None, on_done=None):
        ray = self._ray()
        started_here = not ray.is_initialized()
        if started_here:
            kwargs: dict[str, Any] = {"runtime_env": self._runtime_env()}
            if self.address is None:  # a cluster (or a Ray Client address) refuses local-only options
                kwargs.update(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False)
            ray.init(address=self.address, **kwargs)
        try:
            return self._run_tasks(ray, runs, analysis, console, describe, on_done)
        finally:
            if started_here:
                ray.shutdown()

    def _run_tasks(self, ray, runs, analysis, console, describe, on_done):
        from .analysis import run_source, run_state

        task = ray.remote(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                          max_retries=self.max_retries)(train_planned_run)
        states: list[str | None] = [None] * len(runs)
        pending = {}
        for index, run in enumerate(runs):
            state = run_state(run_source(run))
            if state in ("finished", "diverged"):
                states[index] = state
                continue
            pending[task.remote(run, analysis)] = index
        if console is not None:
            console.print(f"ray: {len(pending)} run(s) to train, {len(runs) - len(pending)} already done; "
                          f"{self.cpus_per_run} CPU(s) and {self.gpus_per_run} GPU(s) per run; cluster "
                          f"{ray.cluster_resources()}")
        first_error = None
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(done[0])
            try:
                states[index] = ray.get(done[0])
            except Exception as exc:  # the run's own error, re-raised once every other run has ended
                states[index] = "failed"
                first_error = first_error or _task_error(exc)
            if console is not None and describe is not None:
                console.print(describe(index + 1, runs[index], states[index]))
            if on_done is not None and states[index] != "failed":
                on_done(runs[index], states[index])
        if first_error is not None:
            raise first_error
        return states


def _task_error(exc: BaseException) -> BaseException:
    """The exception a Ray task raised (a RunError stays a RunError), not Ray's wrapper."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


#: Executors by their command-line name.
EXECUTORS = {"local": LocalExecutor, "ray": RayExecutor}


def executor_by_name(name: str, **options) -> Executor:
    """An executor from its name (``local`` or ``ray``) and options.

    Raises:
        ValueError: unknown name.
    """
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name](**options)
