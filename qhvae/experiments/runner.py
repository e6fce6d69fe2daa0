"""Running an experiment: train its runs (resumably), then tables, plots and the paper's claims checked.

Every (arm, seed) pair is one training run of :mod:`qhvae.runs` in a folder named by
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
- ``samples.png``: decoded prior samples of each arm's first seed
- ``chains.png``: (``modes``) block-Gibbs chains decoded, one row per arm

Example:
    >>> from qhvae.experiments import plan_runs
    >>> [(p.arm.label, p.seed) for p in plan_runs("mapping", "/tmp/x", budget="smoke")]
    [('bipartite', 0), ('chains', 0)]
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..runs import (EVALUATION_FILE, RunError, TrainConfig, TrainingDiverged, _pyplot, _write_json,
                    finish_epoch_axis, read_progress, resume_run, save_figure, train_run)
from .catalogue import Arm, Claim, Experiment, get_experiment

__all__ = ["PlannedRun", "plan_runs", "run_name", "config_key", "run_experiment", "collect_results", "summarize", "check_claims",
           "write_report", "modes_statistics"]

MANIFEST_FILE = "experiment.json"
MODES_FILE = "modes.json"
METRIC_LABELS = {
    "log_likelihood": "test log-likelihood (nats)",
    "active_units": "active units",
    "elbo": "ELBO (nats)",
    "weight_l1": "weight L1",
    "beta_eff": "beta_eff (final)",
    "latent_autocorrelation": "latent autocorrelation (lag 1 sweep)",
    "frame_distance_ratio": "consecutive / independent frame distance",
    "test_log_likelihood": "test log-likelihood (tracked)",
    "test_active_units": "active units",
    "train_minutes": "training minutes",
}


@dataclass(frozen=True)
class PlannedRun:
    """One (arm, seed) of an experiment and where its run lives."""

    arm: Arm
    seed: int
    config: TrainConfig
    run_dir: Path


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in label)


def config_key(config: TrainConfig) -> str:
    """A short hash of everything in ``config`` (runs with equal keys are the same run)."""
    text = json.dumps(config.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def run_name(config: TrainConfig, seed: int) -> str:
    """A run folder's name: what it trains, in words, and the hash of its whole configuration.

    Named by configuration, not by arm: the same run is the ``chimera`` arm of one study
    and the ``bipartite`` arm of another, and is trained once.

    Example:
        >>> run_name(TrainConfig(prior="chimera", sampler="pa"), 0)[:23]
        'digits-chimera-pa-seed0'
    """
    dataset = Path(config.dataset).stem if str(config.dataset).endswith((".npy", ".npz")) else config.dataset
    return "-".join(_slug(str(part)) for part in (dataset, config.prior, config.sampler)) + \
        f"-seed{seed}-{config_key(config)}"


def plan_runs(experiment: str | Experiment, out: str | os.PathLike, *, budget: str = "cpu",
              seeds: int | None = None, overrides: dict[str, Any] | None = None,
              runs_dir: str | os.PathLike | None = None, arms: Sequence[str] | None = None) -> list[PlannedRun]:
    """The runs of an experiment, seed by seed (every arm's seed 0 first), without running anything.

    Args:
        experiment: a name of :data:`~qhvae.experiments.EXPERIMENTS` or an :class:`Experiment`.
        out: the experiment's output folder.
        budget: ``smoke``, ``cpu`` or ``paper``.
        seeds: seeds per arm (default: the budget's).
        overrides: :class:`~qhvae.runs.TrainConfig` fields for every arm (an arm's own
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
        raise ValueError(str(exc)) from None
    budget_info = exp.budget(budget)
    n_seeds = budget_info.seeds if seeds is None else int(seeds)
    if n_seeds < 1:
        raise ValueError(f"need at least one seed, got {n_seeds}")
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
                raise ValueError(f"experiment {exp.name!r}, arm {arm.label!r}: {exc}") from None
            run_dir = runs_dir / run_name(config, seed)
            planned.append(PlannedRun(arm, seed, config, run_dir))
    return planned


def _run_state(run_dir: Path) -> str:
    """``new``, ``finished`` (trained and evaluated), ``diverged`` or ``partial``."""
    if not (run_dir / "config.json").exists():
        return "new"
    progress = read_progress(run_dir)
    status = progress.get("status")
    if status == "diverged":
        return "diverged"
    if status == "finished" and ((run_dir / EVALUATION_FILE).exists() or not _wants_evaluation(run_dir)):
        return "finished"
    return "partial"


def _wants_evaluation(run_dir: Path) -> bool:
    try:
        return bool(json.loads((run_dir / "config.json").read_text()).get("eval_num_images", 1))
    except (OSError, ValueError):
        return True


def run_experiment(experiment: str | Experiment, out: str | os.PathLike, *, budget: str = "cpu",
                   seeds: int | None = None, overrides: dict[str, Any] | None = None,
                   runs_dir: str | os.PathLike | None = None, arms: Sequence[str] | None = None,
                   console=None, train: bool = True) -> dict[str, Any]:
    """Train (or resume) every run of an experiment, then write its tables and plots into ``out``.

    A run that diverges is reported as such in the tables (the paper's noisiest annealer
    diverged too) and the experiment goes on; a configuration or data error stops it
    with the run's message. Interrupting and calling again continues.

    Args:
        experiment, budget, seeds, overrides, runs_dir, arms: see :func:`plan_runs`.
        out: the output folder.
        console: a ``rich.console.Console`` for progress (``None``: quiet).
        train: ``False`` only writes the report from the runs already on disk.

    Returns:
        ``{"rows": per-run rows, "summary": per-arm summary, "claims": verdicts, "files": paths}``.

    Example:
        >>> import tempfile
        >>> result = run_experiment("mapping", tempfile.mkdtemp(), budget="smoke", train=False)
        >>> [row["status"] for row in result["rows"]]
        ['new', 'new']
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    out = Path(out)
    planned = plan_runs(exp, out, budget=budget, seeds=seeds, overrides=overrides, runs_dir=runs_dir, arms=arms)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / MANIFEST_FILE, {
        "experiment": exp.name, "title": exp.title, "figure": exp.figure, "budget": budget,
        "budget_description": exp.budget(budget).description, "overrides": overrides or {},
        "runs": [{"arm": p.arm.label, "seed": p.seed, "run_dir": os.path.relpath(p.run_dir, out)} for p in planned],
    })
    if train:
        for index, run in enumerate(planned, 1):
            state = _run_state(run.run_dir)
            if console is not None:
                console.rule(f"[bold]{exp.name}[/bold] run {index}/{len(planned)}: {run.arm.label}, seed {run.seed} "
                             f"({state})")
            if state == "diverged":
                continue
            try:
                if state == "new":
                    if run.run_dir.exists():  # a run killed before its first checkpoint: nothing to keep
                        shutil.rmtree(run.run_dir)
                    train_run(run.config, run.run_dir, console=console)
                elif state == "partial":
                    resume_run(run.run_dir, console=console)
            except TrainingDiverged as exc:
                if console is not None:
                    console.print(f"[yellow]diverged[/yellow]: {exc}")
            if exp.analysis == "modes" and _run_state(run.run_dir) == "finished":
                modes_statistics(run.run_dir, console=console)
    rows = collect_results(exp, planned)
    summary = summarize(exp, rows)
    claims = check_claims(exp, summary)
    files = write_report(exp, out, planned, rows, summary, claims, budget)
    if console is not None:
        for claim in claims:
            console.print(f"  {claim['verdict']:<32} {claim['text']}")
        console.print(f"wrote {', '.join(str(f) for f in files)}")
    return {"rows": rows, "summary": summary, "claims": claims, "files": files}


# --------------------------------------------------------------------------------------
# reading runs back
# --------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _last(values: Sequence | None) -> float:
    for value in reversed(values or []):
        if value is not None:
            return float(value)
    return float("nan")


def collect_results(experiment: str | Experiment, planned: Sequence[PlannedRun]) -> list[dict[str, Any]]:
    """One row per planned run with its status and final metrics (NaN where missing)."""
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    rows = []
    for run in planned:
        progress = read_progress(run.run_dir) if (run.run_dir / "config.json").exists() else {}
        evaluation = _read_json(run.run_dir / EVALUATION_FILE)
        modes = _read_json(run.run_dir / MODES_FILE)
        history = progress.get("history", {})
        row = {
            "arm": run.arm.label, "seed": run.seed, "status": _run_state(run.run_dir),
            "epochs": int(progress.get("epoch", 0)), "of_epochs": run.config.epochs,
            "train_minutes": round(float(progress.get("train_seconds", 0.0)) / 60.0, 2),
            "eval_minutes": round(float(evaluation.get("seconds", 0.0)) / 60.0, 2),
            "log_likelihood": evaluation.get("log_likelihood", float("nan")),
            "log_likelihood_stderr": evaluation.get("log_likelihood_stderr", float("nan")),
            "elbo": evaluation.get("elbo", float("nan")),
            "active_units": evaluation.get("active_units", float("nan")),
            "units": evaluation.get("units", float("nan")),
            "weight_l1": evaluation.get("weight_l1", _last(history.get("weight_l1"))),
            "beta_eff": _last(history.get("beta_eff")),
            "log_z": evaluation.get("log_z", float("nan")),
            "latent_autocorrelation": modes.get("latent_autocorrelation", float("nan")),
            "frame_distance_ratio": modes.get("frame_distance_ratio", float("nan")),
            "run_dir": str(run.run_dir),
            "history": history,
        }
        rows.append(row)
    return rows


def _stats(values: Sequence[float]) -> dict[str, float]:
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if not len(x):
        return {"n": 0, "mean": float("nan"), "std": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"n": int(len(x)), "mean": float(x.mean()), "std": float(x.std(ddof=1)) if len(x) > 1 else float("nan"),
            "min": float(x.min()), "max": float(x.max())}


def summarize(experiment: str | Experiment, rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per arm: runs finished/planned and, for each metric, mean, std, min, max over seeds."""
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    summary = {}
    metrics = list(dict.fromkeys(exp.columns + ("train_minutes",)))
    for arm in exp.arms:
        mine = [r for r in rows if r["arm"] == arm.label]
        if not mine:
            continue
        done = [r for r in mine if r["status"] == "finished"]
        entry = {"planned": len(mine), "finished": len(done),
                 "diverged": sum(r["status"] == "diverged" for r in mine)}
        for metric in metrics:
            entry[metric] = _stats([r[metric] for r in done])
        summary[arm.label] = entry
    return summary


def check_claims(experiment: str | Experiment, summary: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of the paper's claims with our verdict and the numbers behind it.

    The difference of the two arms' means is compared with twice its standard error
    ``sqrt(s1^2/n1 + s2^2/n2)`` over seeds; with a single seed per arm there is no
    spread, and only the sign is reported.

    Example:
        >>> from qhvae.experiments import Claim, Experiment, Arm
        >>> exp = Experiment("x", "", "", "", (Arm("a"), Arm("b")), (Claim("a > b", "m", "a", "b"),), columns=("m",))
        >>> s = {"a": {"m": {"n": 3, "mean": 2.0, "std": 0.1}}, "b": {"m": {"n": 3, "mean": 1.0, "std": 0.1}}}
        >>> check_claims(exp, s)[0]["verdict"]
        'reproduced'
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    verdicts = []
    for claim in exp.claims:
        a = summary.get(claim.first, {}).get(claim.metric)
        b = summary.get(claim.second, {}).get(claim.metric)
        entry = {"text": claim.text, "metric": claim.metric, "first": claim.first, "second": claim.second,
                 "relation": claim.relation, "source": claim.source}
        if not a or not b or not a["n"] or not b["n"]:
            verdicts.append(dict(entry, verdict="not run", ours=""))
            continue
        diff = a["mean"] - b["mean"]
        spreads = [s["std"] ** 2 / s["n"] for s in (a, b) if s["n"] > 1 and np.isfinite(s["std"])]
        stderr = math.sqrt(sum(spreads)) if len(spreads) == 2 else float("nan")
        if claim.relation == "~":
            if not np.isfinite(stderr):
                verdict = "one seed: no spread to judge"
            else:
                verdict = "reproduced" if abs(diff) <= 2 * stderr else "not reproduced"
        elif not np.isfinite(stderr):
            verdict = ("same direction (one seed)" if diff > 0 else "no difference (one seed)" if diff == 0
                       else "not reproduced (one seed)")
        elif diff > 2 * stderr:
            verdict = "reproduced"
        elif diff > 0:
            verdict = "same direction, within noise"
        elif diff == 0:
            verdict = "no difference"
        elif diff < -2 * stderr:
            verdict = "not reproduced"
        else:
            verdict = "opposite direction, within noise"
        ours = f"{a['mean']:.4g} vs {b['mean']:.4g} (difference {diff:+.3g}"
        ours += f" ± {stderr:.2g})" if np.isfinite(stderr) else ")"
        verdicts.append(dict(entry, verdict=verdict, ours=ours, difference=diff, stderr=stderr))
    return verdicts


# --------------------------------------------------------------------------------------
# the modes study's chain statistics
# --------------------------------------------------------------------------------------


def modes_statistics(run_dir: str | os.PathLike, chains: int = 32, sweeps: int = 64, seed: int = 0,
                     console=None) -> dict[str, float]:
    """Chain statistics of a trained prior (the paper's Fig. 10, in numbers); cached in ``modes.json``.

    Runs ``chains`` block-Gibbs chains from uniform random states for ``sweeps`` full
    sweeps (every colour class once per sweep) and reports:

    - ``latent_autocorrelation``: the lag-1-sweep autocorrelation of the units, pooled
      over units that move (0 for independent units, towards 1 when chains stay in a mode);
    - ``frame_distance_ratio``: the mean L1 distance between consecutive decoded frames
      of a chain over that between frames of two different chains at the same sweep
      (1: consecutive frames are as different as independent samples; towards 0 when a
      chain stays in a mode).

    The first 8 sweeps are burn-in and are not used.
    """
    from ..runs import block_gibbs_frames, load_run

    run_dir = Path(run_dir)
    cached = _read_json(run_dir / MODES_FILE)
    if cached.get("chains") == chains and cached.get("sweeps") == sweeps and cached.get("seed") == seed:
        return cached
    model, _, _ = load_run(run_dir)
    rng = np.random.default_rng(seed)
    n, colors = int(model.graph.num_nodes), int(model.graph.num_colors)
    z0 = rng.integers(0, 2, (chains, n)).astype(np.float64)
    frames = block_gibbs_frames(model, z0, sweeps * colors, rng)[colors - 1::colors]  # (sweeps, C, L)
    burn = 8
    kept = frames[burn:]
    centred = kept - kept.mean(axis=(0, 1))
    var = (centred ** 2).mean(axis=(0, 1))
    moving = var > 1e-3
    if moving.any():
        cov1 = (centred[1:] * centred[:-1]).mean(axis=(0, 1))
        autocorrelation = float(cov1[moving].sum() / var[moving].sum())
    else:
        autocorrelation = float("nan")
    images = np.asarray(model.decode(kept.reshape(-1, n))).reshape(len(kept), chains, -1)
    near = np.abs(images[1:] - images[:-1]).mean()
    apart = np.abs(images - np.roll(images, 1, axis=1)).mean()  # the same sweep of two different chains
    stats = {"latent_autocorrelation": autocorrelation,
             "frame_distance_ratio": float(near / apart) if apart > 0 else float("nan"),
             "moving_units": int(moving.sum()), "chains": chains, "sweeps": sweeps, "seed": seed,
             "colors": colors}
    _write_json(run_dir / MODES_FILE, stats)
    if console is not None:
        console.print(f"modes: latent autocorrelation {autocorrelation:.3f}, frame distance ratio "
                      f"{stats['frame_distance_ratio']:.3f}")
    return stats


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------

_CSV_COLUMNS = ("arm", "seed", "status", "epochs", "of_epochs", "train_minutes", "eval_minutes", "log_likelihood",
                "log_likelihood_stderr", "elbo", "active_units", "units", "weight_l1", "beta_eff", "log_z",
                "latent_autocorrelation", "frame_distance_ratio", "run_dir")


def _fmt(value: float, digits: int = 4) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    return f"{value:.{digits}g}"


def _fmt_stats(s: dict[str, float]) -> str:
    if not s["n"]:
        return "—"
    text = _fmt(s["mean"])
    if s["n"] > 1:
        text += f" ± {_fmt(s['std'], 2)} [{_fmt(s['min'])}, {_fmt(s['max'])}]"
    return text


def write_report(exp: Experiment, out: Path, planned: Sequence[PlannedRun], rows: Sequence[dict[str, Any]],
                 summary: dict[str, dict[str, Any]], claims: Sequence[dict[str, Any]], budget: str) -> list[Path]:
    """``results.csv``, ``summary.csv``, ``summary.md`` and the PNGs; returns the paths written."""
    out = Path(out)
    files = []
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "run_dir": os.path.relpath(row["run_dir"], out)})
    files.append(out / "results.csv")

    metrics = list(dict.fromkeys(exp.columns + ("train_minutes",)))
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["arm", "finished", "planned", "diverged"]
                        + [f"{m}_{k}" for m in metrics for k in ("mean", "std", "min", "max")])
        for label, entry in summary.items():
            writer.writerow([label, entry["finished"], entry["planned"], entry["diverged"]]
                            + [entry[m][k] for m in metrics for k in ("mean", "std", "min", "max")])
    files.append(out / "summary.csv")

    budget_info = exp.budget(budget)
    lines = [f"# {exp.title}", "", f"Paper: {exp.figure}. {exp.summary}", "",
             f"Budget `{budget}`: {budget_info.description}. Values are the mean ± standard deviation "
             "[smallest, largest] over seeds; the log-likelihood is the importance-weighted estimate with "
             "K discrete samples on the test images and log Z from population annealing (or exact).", "",
             "| arm | runs | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics) + " |",
             "|---|---:|" + "---:|" * len(metrics)]
    for label, entry in summary.items():
        runs = f"{entry['finished']}/{entry['planned']}" + (f" ({entry['diverged']} diverged)"
                                                             if entry["diverged"] else "")
        lines.append(f"| {label} | {runs} | " + " | ".join(_fmt_stats(entry[m]) for m in metrics) + " |")
    minutes = sum(r["train_minutes"] + r["eval_minutes"] for r in rows)
    lines += ["", f"Compute: {len(rows)} runs, {minutes:.0f} minutes of training (with the tracked test metrics) and "
                  "final evaluation in all, on the machine that ran them (runs shared with another study through "
                  "`--runs-dir` were trained once)."]
    if claims:
        lines += ["", "## The paper's findings, checked", "",
                  "| finding | paper | ours (first vs second) | verdict |", "|---|---|---|---|"]
        for c in claims:
            lines.append(f"| {c['text']} ({c['metric']}) | {c['source']} | {c['ours']} | {c['verdict']} |")
        lines += ["", "*reproduced*: the difference has the paper's sign and exceeds twice its standard error "
                      "over seeds (for a claimed tie: lies within it)."]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    files.append(out / "summary.md")

    files.append(plot_curves(exp, rows, out / "curves.png", budget_info.description))
    grid = plot_samples(exp, rows, out / "samples.png")
    if grid is not None:
        files.append(grid)
    if exp.analysis == "modes":
        chains = plot_chains(exp, rows, out / "chains.png")
        if chains is not None:
            files.append(chains)
    return files


def plot_curves(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, subtitle: str = "") -> Path:
    """One panel per tracked metric: each arm's mean over seeds and its min-max band."""
    plt = _pyplot()
    keys = list(exp.curves)
    cols = min(len(keys), 2)
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.0 * cols, 4.0 * nrows), squeeze=False)
    for ax, key in zip(axes.ravel(), keys):
        drawn = False
        for arm in exp.arms:
            series = [r["history"].get(key) or [] for r in rows if r["arm"] == arm.label]
            length = max((len(s) for s in series), default=0)
            if not length:
                continue
            table = np.full((len(series), length), np.nan)
            for i, s in enumerate(series):
                table[i, :len(s)] = [np.nan if v is None else v for v in s]
            epochs = np.flatnonzero(np.isfinite(table).any(axis=0))
            if not len(epochs):
                continue
            values = table[:, epochs]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns of unfinished runs
                mean, low, high = np.nanmean(values, 0), np.nanmin(values, 0), np.nanmax(values, 0)
            x = epochs + 1
            ax.plot(x, mean, color=arm.color, ls=arm.linestyle, marker="." if len(x) < 30 else None,
                    label=f"{arm.label} ({len(series)} run{'s' if len(series) > 1 else ''})")
            if len(series) > 1:
                ax.fill_between(x, low, high, color=arm.color, alpha=0.15, lw=0)
            drawn = True
        label = METRIC_LABELS.get(key, key).replace(" (final)", "")
        finish_epoch_axis(ax, label, label, drawn, empty="no tracked epochs yet")
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"{exp.title}\n({exp.figure}; {subtitle})", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _first_finished(exp: Experiment, rows: Sequence[dict[str, Any]]) -> list[tuple[Arm, dict[str, Any]]]:
    chosen = []
    for arm in exp.arms:
        done = [r for r in rows if r["arm"] == arm.label and r["status"] == "finished"]
        if done:
            chosen.append((arm, min(done, key=lambda r: r["seed"])))
    return chosen


def _image_rows(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, title: str, width: int,
                draw) -> Path | None:
    """One strip of images per arm (its first finished seed): ``draw(arm, row, model, config)``
    returns the ``(N, H, W, 1)`` images and the strip's caption."""
    chosen = _first_finished(exp, rows)
    if not chosen:
        return None
    from ..runs import image_grid, load_run

    plt = _pyplot()
    fig, axes = plt.subplots(len(chosen), 1, figsize=(width * 0.55 + 1.5, 0.95 * len(chosen) + 0.7), squeeze=False)
    for ax, (arm, row) in zip(axes[:, 0], chosen):
        model, config, _ = load_run(row["run_dir"])
        images, caption = draw(arm, row, model, config)
        ax.imshow(image_grid(np.asarray(images), cols=len(images), pad=1), cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        ax.set_title(caption, fontsize=8, loc="left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_samples(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, per_arm: int = 16) -> Path | None:
    """Images decoded from prior samples, one row per arm (its first finished seed)."""
    def draw(arm, row, model, config):
        images, _ = model.generate(per_arm, seed=config.seed)
        return images, f"{arm.label} (seed {row['seed']})"

    return _image_rows(exp, rows, path, f"{exp.name}: images decoded from prior samples", per_arm, draw)


def plot_chains(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, frames: int = 24,
                seed: int = 0) -> Path | None:
    """The paper's Fig. 10: one block-Gibbs chain per arm from a random state, one full sweep per frame."""
    from ..runs import block_gibbs_frames

    def draw(arm, row, model, config):
        rng = np.random.default_rng(seed)
        n, colors = int(model.graph.num_nodes), int(model.graph.num_colors)
        z = block_gibbs_frames(model, rng.integers(0, 2, (1, n)).astype(np.float64), frames * colors, rng)
        auto = row.get("latent_autocorrelation", float("nan"))
        return (model.decode(z[colors - 1::colors, 0, :]),
                f"{arm.label}: {colors} block updates per frame; latent autocorrelation {_fmt(auto, 3)}")

    return _image_rows(exp, rows, path, "Block-Gibbs chains on the trained priors, decoded (left to right, one full "
                       "sweep per frame)", frames, draw)
