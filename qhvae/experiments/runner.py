"""Running an experiment: train its runs (resumably), then tables, plots and the paper's claims checked.

Every (arm, seed) pair is one training run of :mod:`qhvae.training` in a folder named by
its data, prior, sampler, seed and a hash of its full configuration, under ``runs_dir`` (default
``OUT/runs``). Running an experiment again continues where it stopped: finished runs
are read back, interrupted ones resume from their last checkpoint (sampler state
included), missing ones are trained. Because folders are named by configuration,
experiments that share a ``runs_dir`` share identical runs (``modes`` reuses the
``connectivity`` models and ``mapping``'s bipartite arm is ``connectivity``'s Chimera),
and a changed option trains new runs instead of mixing
results.

The output folder gets:

- ``experiment.json``: what was run: experiment, budget, base configuration, run folders
- ``results.csv``: one row per run: arm, seed, status, final metrics, minutes
- ``summary.csv``/``.md``: per arm: mean, standard deviation and range over seeds; the
  paper's claims with our verdicts (Markdown)
- ``curves.png``: tracked metrics over training: the mean over seeds, the band from the
  smallest to the largest run (the paper's style)
- ``differences.png``: each claim's difference over training, with twice its standard error
- ``samples.png``: decoded prior samples of each arm's first seed
- ``chains.png``: (``modes``) block-Gibbs chains decoded, one row per arm
- ``strips/``: those pictures' rows as drawn, so that records alone draw them again
- ``records/``: each ended run's small files, so that the report outlives the run folders

Reading the runs back and judging the claims is :mod:`~qhvae.experiments.analysis`; the
tables and figures are :mod:`~qhvae.experiments.report`.

Example:
    >>> from qhvae.experiments import plan_runs
    >>> [(p.arm.label, p.seed) for p in plan_runs("mapping", "/tmp/x", budget="smoke")]
    [('bipartite', 0), ('chains', 0)]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError
from ..training.config import LATER_DEFAULTS, RunError, TrainConfig, is_file_dataset
from ..training.rundir import write_json
from .analysis import archive_run, check_claims, collect_results, run_source, run_state, summarize
from .executors import Executor, LocalExecutor
from .report import write_report
from .studies import Arm, Experiment, get_experiment

__all__ = ["PlannedRun", "plan_runs", "run_name", "config_key", "run_experiment", "MANIFEST_FILE", "RECORDS_DIR"]

#: The folder of an experiment's output that keeps every finished run's record.
RECORDS_DIR = "records"

MANIFEST_FILE = "experiment.json"


@dataclass(frozen=True)
class PlannedRun:
    """One (arm, seed) of an experiment and where its run lives."""

    arm: Arm
    seed: int
    config: TrainConfig
    run_dir: Path
    record_dir: Path | None = None  # the finished run's archived record (see analysis.RECORD_FILES)


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in label)


def config_key(config: TrainConfig) -> str:
    """A short hash of everything in ``config`` (runs with equal keys are the same run)."""
    data = {k: v for k, v in config.to_dict().items() if not (k in LATER_DEFAULTS and v == LATER_DEFAULTS[k])}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def run_name(config: TrainConfig, seed: int) -> str:
    """A run folder's name: what it trains, in words, and the hash of its whole configuration.

    Named by configuration, not by arm: the same run is the ``chimera`` arm of one study
    and the ``bipartite`` arm of another, and is trained once.

    Example:
        >>> run_name(TrainConfig(prior="chimera", sampler="pa"), 0)[:23]
        'digits-chimera-pa-seed0'
    """
    dataset = Path(config.dataset).stem if is_file_dataset(config.dataset) else config.dataset
    return "-".join(_slug(str(part)) for part in (dataset, config.prior, config.sampler)) + \
        f"-seed{seed}-{config_key(config)}"


def plan_runs(experiment: str | Experiment, out: str | os.PathLike, *, budget: str = "cpu",
              seeds: int | None = None, overrides: dict[str, Any] | None = None,
              runs_dir: str | os.PathLike | None = None, arms: Sequence[str] | None = None) -> list[PlannedRun]:
    """The runs of an experiment, seed by seed (every arm's seed 0 first), without running anything.

    Args:
        experiment: a name of :data:`~qhvae.experiments.EXPERIMENTS` or an :class:`Experiment`.
        out: the experiment's output folder.
        budget: ``smoke``, ``cpu``, ``mnist`` or ``paper`` (what each means for a study: its
            :meth:`~Experiment.budget` description).
        seeds: seeds per arm (default: the budget's).
        overrides: :class:`~qhvae.training.TrainConfig` fields for every arm (an arm's own
            fields still win: the ``datasets`` study sets each arm's dataset).
        runs_dir: where run folders live (default ``out/runs``).
        arms: only these arm labels.

    Raises:
        ValueError: unknown budget, arm or option, or a configuration that does not validate.
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    chosen = list(exp.arms) if arms is None else [exp.arm(label) for label in arms]
    try:
        base = exp.base_config(budget, overrides)
    except RunError as exc:
        raise ConfigError(str(exc)) from None
    budget_info = exp.budget(budget)
    n_seeds = budget_info.seeds if seeds is None else int(seeds)
    if n_seeds < 1:
        raise ConfigError(f"need at least one seed, got {n_seeds}")
    runs_dir = Path(out) / "runs" if runs_dir is None else Path(runs_dir)
    planned = []
    for seed in range(n_seeds):
        for arm in chosen:
            data = {**base.to_dict(), **arm.overrides, "seed": base.seed + seed}
            if data.get("graph_options") is None and data["prior"] in budget_info.graphs:
                data["graph_options"] = dict(budget_info.graphs[data["prior"]])
            try:
                config = TrainConfig.from_dict(data).validate()
            except RunError as exc:
                raise ConfigError(f"experiment {exp.name!r}, arm {arm.label!r}: {exc}") from None
            name = run_name(config, seed)
            planned.append(PlannedRun(arm, seed, config, runs_dir / name, Path(out) / RECORDS_DIR / name))
    return planned


def _import_shared_records(exp: Experiment, out: Path, planned: Sequence[PlannedRun]) -> None:
    """Copy the records of runs this study shares with the studies it reuses (see
    :attr:`~qhvae.experiments.Experiment.reuses_records_of`), so they are read, not retrained.

    Runs are named by their whole configuration, so a record found under the same name is
    the same run.
    """
    for run in planned:
        if run.record_dir is None or (run.record_dir / "config.json").exists() or \
                (run.run_dir / "config.json").exists():
            continue
        for other in exp.reuses_records_of:
            shared = out.parent / other / RECORDS_DIR / run.record_dir.name
            if (shared / "config.json").exists():
                archive_run(shared, run.record_dir)
                break


def _run_exists(run: PlannedRun) -> bool:
    """Whether a planned run has begun: its folder or its record holds it."""
    return run_state(run_source(run)) != "new"


def _reported_runs(exp: Experiment, out: Path, chosen: set[Path], *, budget: str,
                   seeds: int | None, overrides: dict[str, Any] | None,
                   runs_dir: str | os.PathLike | None) -> list[PlannedRun]:
    """The runs a report covers: each seed below ``N`` of every arm that this call trains (its
    run folders are ``chosen``) or that has a run on disk (folder or record). ``N`` is ``seeds``
    (default: the budget's), raised to cover every seed that has a run on disk."""
    def plan(n: int) -> list[PlannedRun]:
        runs = plan_runs(exp, out, budget=budget, seeds=n, overrides=overrides, runs_dir=runs_dir)
        _import_shared_records(exp, out, runs)
        return runs

    n = exp.budget(budget).seeds if seeds is None else int(seeds)
    planned = plan(n)
    while True:
        more = plan(n + 1)[len(planned):]
        if not any(_run_exists(run) for run in more):
            break
        planned, n = planned + more, n + 1
    arms = {run.arm.label for run in planned if run.run_dir in chosen or _run_exists(run)}
    return [run for run in planned if run.arm.label in arms]


def _keep_record(run: PlannedRun) -> None:
    """Archive a run's record if its folder holds a run that has ended (finished or diverged)."""
    if run.record_dir is not None and run_state(run.run_dir) in ("finished", "diverged"):
        archive_run(run.run_dir, run.record_dir)


def run_experiment(experiment: str | Experiment, out: str | os.PathLike, *, budget: str = "cpu",
                   seeds: int | None = None, overrides: dict[str, Any] | None = None,
                   runs_dir: str | os.PathLike | None = None, arms: Sequence[str] | None = None,
                   console=None, train: bool = True, executor: Executor | None = None) -> dict[str, Any]:
    """Train (or resume) the runs of an experiment, then write its tables and plots into ``out``.

    ``arms`` and ``seeds`` choose which runs this call trains. The manifest and the report cover
    every arm that this call trains or that has a run on disk (its folder or its record), each
    at ``seeds`` seeds (default: the budget's) or as many as are on disk. A study trained arm by
    arm, or seed by seed, keeps one report of all its runs, and a side study of two arms reports
    those two.

    A run that diverges is reported as such in the tables (the paper's noisiest annealer
    diverged too) and the experiment goes on; a configuration or data error stops it
    with the run's message. Interrupting and calling again continues.

    Args:
        experiment, budget, seeds, overrides, runs_dir, arms: see :func:`plan_runs`.
        out: the output folder.
        console: a ``rich.console.Console`` for progress (``None``: quiet).
        train: ``False`` only writes the report from the runs already on disk.
        executor: who trains the runs (:mod:`~qhvae.experiments.executors`); default: this
            process, one run after another.

    Returns:
        A dict: ``rows`` (one per reported run), ``selected`` (the rows of the runs that ``arms``
        and ``seeds`` chose), ``summary`` (per arm), ``claims`` (verdicts) and ``files`` (paths).

    Example:
        >>> import tempfile
        >>> result = run_experiment("mapping", tempfile.mkdtemp(), budget="smoke", train=False)
        >>> [row["status"] for row in result["rows"]]
        ['new', 'new']
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    out = Path(out)
    selected = plan_runs(exp, out, budget=budget, seeds=seeds, overrides=overrides, runs_dir=runs_dir, arms=arms)
    chosen = {run.run_dir for run in selected}
    out.mkdir(parents=True, exist_ok=True)
    planned = _reported_runs(exp, out, chosen, budget=budget, seeds=seeds, overrides=overrides, runs_dir=runs_dir)
    write_json(out / MANIFEST_FILE, {
        "experiment": exp.name, "title": exp.title, "figure": exp.figure, "budget": budget,
        "budget_description": exp.budget(budget).description, "overrides": overrides or {},
        "runs": [{"arm": p.arm.label, "seed": p.seed, "run_dir": os.path.relpath(p.run_dir, out)} for p in planned],
    })
    if train:
        def describe(index: int, run: PlannedRun, state: str) -> str:
            return (f"[bold]{exp.name}[/bold] run {index}/{len(selected)}: {run.arm.label}, seed {run.seed} "
                    f"({state})")

        # Each record is kept as its run ends: a sitting cut short, or a later run that fails,
        # loses no finished run.
        (executor or LocalExecutor()).run_all(selected, exp.analysis, console=console, describe=describe,
                                              on_done=lambda run, state: _keep_record(run))
    for run in planned:  # also runs finished or evaluated outside this call (``qhvae evaluate RUN``)
        _keep_record(run)
    rows = collect_results(exp, planned)
    summary = summarize(exp, rows)
    claims = check_claims(exp, summary)
    files = write_report(exp, out, planned, rows, summary, claims, budget)
    if console is not None:
        for claim in claims:
            console.print(f"  {claim['verdict']:<32} {claim['text']}")
        console.print(f"wrote {', '.join(str(f) for f in files)}")
    return {"rows": rows, "selected": [row for run, row in zip(planned, rows, strict=True)
                                      if run.run_dir in chosen],
            "summary": summary, "claims": claims, "files": files}
