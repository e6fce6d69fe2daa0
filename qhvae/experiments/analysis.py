"""Reading an experiment's runs back: per-run rows, per-arm statistics, the paper's claims judged.

Also the ``modes`` study's chain statistics of a trained prior (:func:`modes_statistics`),
cached in the run's ``modes.json``.

Example:
    >>> from qhvae.experiments import plan_runs
    >>> import tempfile
    >>> rows = collect_results("mapping", plan_runs("mapping", tempfile.mkdtemp(), budget="smoke"))
    >>> [(row["arm"], row["status"]) for row in rows]
    [('bipartite', 'new'), ('chains', 'new')]
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..training.run_evaluation import load_run, prior_chain_frames
from ..training.rundir import CONFIG_FILE, EVALUATION_FILE, PROGRESS_FILE, read_progress, write_json
from .studies import Claim, Experiment, get_experiment

if TYPE_CHECKING:  # the runner imports this module: its class is only named in annotations here
    from .runner import PlannedRun

__all__ = ["MODES_FILE", "RECORD_FILES", "run_state", "evaluation_as_configured", "run_source", "archive_run",
           "collect_results", "summarize",
           "check_claims", "history_table", "difference_over_training", "modes_statistics"]

MODES_FILE = "modes.json"

#: What a finished run's record is: small JSON files, never checkpoints. An experiment keeps
#: a copy of each finished run's record in its output folder (``OUT/records/RUN``), so its
#: tables can be rebuilt, and the study continued, where the run folders are gone.
RECORD_FILES = (CONFIG_FILE, PROGRESS_FILE, EVALUATION_FILE, MODES_FILE)


def run_state(run_dir: str | os.PathLike) -> str:
    """``new``, ``finished`` (trained and evaluated), ``diverged``, ``partial`` or ``re-evaluated``
    (trained, but its ``evaluation.json`` is not the one its configuration asks for:
    :func:`evaluation_as_configured`).

    Example:
        >>> import tempfile
        >>> run_state(tempfile.mkdtemp())
        'new'
    """
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).exists():
        return "new"
    progress = read_progress(run_dir)
    status = progress.get("status")
    if status == "diverged":
        return "diverged"
    if status == "finished" and not _wants_evaluation(run_dir):
        return "finished"
    if status == "finished" and (run_dir / EVALUATION_FILE).exists():
        return "finished" if evaluation_as_configured(run_dir) else "re-evaluated"
    return "partial"


def evaluation_as_configured(run_dir: str | os.PathLike) -> bool:
    """Whether a run's ``evaluation.json`` is the evaluation its configuration asks for.

    That is the one at the end of training: ``eval_num_images`` test images (fewer only where
    the test split has fewer), ``eval_num_samples`` importance samples, binarization seed 0
    and one draw of ``h`` per ``z``. ``qhvae evaluate RUN`` with other settings (a side
    measurement on part of the test split, say) rewrites the file; a study must not count it
    as the run's result, nor archive it over the record.

    Example:
        >>> import tempfile
        >>> run = Path(tempfile.mkdtemp())
        >>> _ = (run / "config.json").write_text('{"eval_num_images": 100, "eval_num_samples": 50}')
        >>> _ = (run / "evaluation.json").write_text('{"num_images": 100, "num_samples": 50}')
        >>> evaluation_as_configured(run)
        True
        >>> side = '{"num_images": 10, "num_samples": 50, "num_images_requested": 10}'
        >>> _ = (run / "evaluation.json").write_text(side)
        >>> evaluation_as_configured(run)
        False
    """
    run_dir = Path(run_dir)
    config, evaluation = _read_json(run_dir / CONFIG_FILE), _read_json(run_dir / EVALUATION_FILE)
    if not evaluation:
        return False
    if evaluation.get("binarization_seed", 0) != 0 or evaluation.get("hidden_samples", 1) != 1:
        return False
    samples = config.get("eval_num_samples")
    if samples is not None and evaluation.get("num_samples") != samples:
        return False
    images, evaluated = config.get("eval_num_images"), evaluation.get("num_images")
    if not images or evaluated is None or evaluated == images:
        return True
    # Fewer images only because the split has fewer: it asked for at least as many (evaluations
    # written before the request was recorded cannot say, and are taken as they are).
    requested = evaluation.get("num_images_requested", images)
    return evaluated < images and (requested is None or requested >= images)


def run_source(run: PlannedRun) -> Path:
    """Where a planned run's results are read from: its folder, or else its archived record.

    The run folder wins while it holds a run (it may be further along than the record),
    unless it was evaluated again with other settings and the record holds the run's own
    evaluation.
    """
    if run.record_dir is not None and (run.record_dir / CONFIG_FILE).exists() and \
            run_state(run.run_dir) == "re-evaluated" and run_state(run.record_dir) == "finished":
        return run.record_dir
    if (run.run_dir / CONFIG_FILE).exists() or run.record_dir is None:
        return run.run_dir
    if (run.record_dir / CONFIG_FILE).exists():
        return run.record_dir
    return run.run_dir


def archive_run(run_dir: str | os.PathLike, record_dir: str | os.PathLike) -> Path:
    """Copy a run's :data:`RECORD_FILES` into ``record_dir`` (atomically, file by file); a record
    file the run no longer has goes (a run trained again under the same name).

    Example:
        >>> import tempfile
        >>> run, rec = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp()) / "r"
        >>> _ = (run / "config.json").write_text("{}")
        >>> sorted(p.name for p in archive_run(run, rec).iterdir())
        ['config.json']
    """
    run_dir, record_dir = Path(run_dir), Path(record_dir)
    record_dir.mkdir(parents=True, exist_ok=True)
    for name in RECORD_FILES:
        source = run_dir / name
        if source.exists():
            write_json(record_dir / name, json.loads(source.read_text()))
        else:
            (record_dir / name).unlink(missing_ok=True)
    return record_dir


def _wants_evaluation(run_dir: Path) -> bool:
    try:
        return bool(json.loads((run_dir / CONFIG_FILE).read_text()).get("eval_num_images", 1))
    except (OSError, ValueError):
        return True


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
    rows = []
    for run in planned:
        source = run_source(run)
        progress = read_progress(source) if (source / CONFIG_FILE).exists() else {}
        evaluation = _read_json(source / EVALUATION_FILE)
        modes = _read_json(source / MODES_FILE)
        history = progress.get("history", {})
        row = {
            "arm": run.arm.label, "seed": run.seed, "status": run_state(source),
            "epochs": int(progress.get("epoch", 0)), "of_epochs": run.config.epochs,
            "train_minutes": round(float(progress.get("train_seconds", 0.0)) / 60.0, 2),
            # NaN for a run that trained before the CPU time was kept
            "cpu_minutes": round(float(progress.get("cpu_seconds", float("nan") if progress else 0.0)) / 60.0, 2),
            "eval_minutes": round(float(evaluation.get("seconds", 0.0)) / 60.0, 2),
            "log_likelihood": evaluation.get("log_likelihood", float("nan")),
            "log_likelihood_stderr": evaluation.get("log_likelihood_stderr", float("nan")),
            "elbo": evaluation.get("elbo", float("nan")),
            "active_units": evaluation.get("active_units", float("nan")),
            "units": evaluation.get("units", float("nan")),
            "hidden_units": evaluation.get("hidden_units", 0),
            "active_hidden_units": evaluation.get("active_hidden_units", float("nan")),
            "weight_l1": evaluation.get("weight_l1", _last(history.get("weight_l1"))),
            "beta_eff": _last(history.get("beta_eff")),
            "log_z": evaluation.get("log_z", float("nan")),
            "log_z_stderr": evaluation.get("log_z_stderr", float("nan")),
            "latent_autocorrelation": modes.get("latent_autocorrelation", float("nan")),
            # a class-conditional run's (log_likelihood is then log p(x|y))
            "classifier_accuracy": evaluation.get("generative_classifier", {}).get("accuracy", float("nan")),
            "marginal_log_likelihood": evaluation.get("generative_classifier", {}).get("marginal_log_likelihood",
                                                                                       float("nan")),
            "sample_accuracy": evaluation.get("generated", {}).get("accuracy", float("nan")),
            "frechet_distance": evaluation.get("generated", {}).get("frechet_distance", float("nan")),
            "frame_distance_ratio": modes.get("frame_distance_ratio", float("nan")),
            "run_dir": str(run.run_dir),
            "source": str(source),  # where the row's results were read: the folder, or else the record
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
        if "log_likelihood" in entry and done:
            # Each run's own error: test images (importance sampling over the images) and its
            # log Z estimate, independent between runs; their mean's variance adds to the seeds'.
            own = [r.get("log_likelihood_stderr", float("nan")) ** 2 + r.get("log_z_stderr", float("nan")) ** 2
                   for r in done]
            own = [v for v in own if np.isfinite(v)]
            within = (math.sqrt(sum(own)) / len(own)) if own else float("nan")
            stats = entry["log_likelihood"]
            stats["within_run_se"] = within
            # The error of the arm's mean that the report quotes: seeds, test images and log Z together.
            seeds = stats["std"] ** 2 / stats["n"] if stats["n"] > 1 else 0.0
            stats["se"] = math.sqrt(seeds + within ** 2) if np.isfinite(within) else float("nan")
        summary[arm.label] = entry
    return summary


def check_claims(experiment: str | Experiment, summary: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of the paper's claims with our verdict and the numbers behind it.

    The difference of the two arms' means is compared with twice its standard error
    ``sqrt(s1^2/n1 + s2^2/n2)`` over seeds, plus, for the log-likelihood, each arm's
    within-run error (test images and the log Z estimate, ``within_run_se``); with a single
    seed per arm there is no spread, and only the sign is reported.

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
        entry: dict[str, Any] = {"text": claim.text, "metric": claim.metric, "first": claim.first,
                                 "second": claim.second, "relation": claim.relation, "source": claim.source}
        if not a or not b or not a["n"] or not b["n"]:
            verdicts.append(dict(entry, verdict="not run", ours=""))
            continue
        diff = a["mean"] - b["mean"]
        # "<": the first is better by being lower (a distance); judged as the mirrored ">"
        signed = -diff if claim.relation == "<" else diff
        spreads = [s["std"] ** 2 / s["n"] for s in (a, b) if s["n"] > 1 and np.isfinite(s["std"])]
        within = [s.get("within_run_se", float("nan")) ** 2 for s in (a, b)]
        stderr = math.sqrt(sum(spreads) + sum(v for v in within if np.isfinite(v))) if len(spreads) == 2 \
            else float("nan")
        if claim.relation == "~":
            if not np.isfinite(stderr):
                verdict = "one seed: no spread to judge"
            else:
                verdict = "reproduced" if abs(diff) <= 2 * stderr else "not reproduced"
        elif not np.isfinite(stderr):
            verdict = ("same direction (one seed)" if signed > 0 else "no difference (one seed)" if signed == 0
                       else "not reproduced (one seed)")
        elif signed > 2 * stderr:
            verdict = "reproduced"
        elif signed > 0:
            verdict = "same direction, within noise"
        elif signed == 0:
            verdict = "no difference"
        elif signed < -2 * stderr:
            verdict = "not reproduced"
        else:
            verdict = "opposite direction, within noise"
        ours = f"{a['mean']:.4g} vs {b['mean']:.4g} (difference {diff:+.3g}"
        ours += f" ± {stderr:.2g})" if np.isfinite(stderr) else ")"
        verdicts.append(dict(entry, verdict=verdict, ours=ours, difference=diff, stderr=stderr))
    return verdicts


def history_table(runs: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    """The runs' per-epoch ``key`` histories as one array, a row per run, NaN where a run has none.

    Example:
        >>> history_table([{"history": {"m": [1.0, None]}}, {"history": {"m": [2.0, 3.0, 4.0]}}], "m").tolist()
        [[1.0, nan, nan], [2.0, 3.0, 4.0]]
    """
    series = [r["history"].get(key) or [] for r in runs]
    table = np.full((len(series), max((len(s) for s in series), default=0)), np.nan)
    for i, s in enumerate(series):
        table[i, :len(s)] = [np.nan if v is None else v for v in s]
    return table


def difference_over_training(claim: Claim, rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """A claim's difference tracked over training: has it settled, or was it still moving?

    The metric tracked during training for ``claim.metric`` is ``test_<metric>`` in the
    runs' histories (fewer importance samples than the final evaluation, so the curve's level
    is a little lower; its differences are what this is for); a claim whose metric has no
    such history gets ``None``. Only finished runs count, and only the epochs where every one
    of them (in both arms) has a value: a resumed run is also scored at the first epoch of
    each sitting, and a mean over a different set of seeds there would read as a jump.

    At each such epoch: the difference of the arms' means and its standard error over seeds
    ``sqrt(s1^2/n1 + s2^2/n2)`` (NaN with fewer than two runs in an arm). That is the spread
    :func:`check_claims` judges the final difference by, less each run's own error (small
    beside the seeds' spread), so twice it is close to, not exactly, the verdict's threshold.
    Also each seed's own difference where both arms ran that seed: such runs start from the
    same seed, and these lines show how much of the spread the seed explains.

    Returns:
        ``None`` when no epoch qualifies; else ``{"epochs", "difference", "stderr",
        "paired": {seed: differences}}``, numpy arrays over the qualifying epochs (1-based).

    Example:
        >>> from qhvae.experiments import Claim
        >>> rows = [{"arm": arm, "seed": seed, "status": "finished", "history": {"test_m": [v, v + 1]}}
        ...         for arm, seed, v in (("a", 0, 3.0), ("a", 1, 5.0), ("b", 0, 1.0), ("b", 1, 1.0))]
        >>> d = difference_over_training(Claim("a > b", "m", "a", "b"), rows)
        >>> d["epochs"].tolist(), d["difference"].tolist(), d["stderr"].round(3).tolist()
        ([1, 2], [3.0, 3.0], [1.0, 1.0])
    """
    key = f"test_{claim.metric}"

    def table(label: str) -> tuple[list[int], np.ndarray]:
        done = [r for r in rows if r["arm"] == label and r["status"] == "finished" and r["history"].get(key)]
        values = history_table(done, key)
        values[~np.isfinite(values)] = np.nan
        return [r["seed"] for r in done], values

    (seeds_a, a), (seeds_b, b) = table(claim.first), table(claim.second)
    length = min(a.shape[1], b.shape[1])
    if not length:
        return None
    a, b = a[:, :length], b[:, :length]
    epochs = np.flatnonzero(np.isfinite(a).all(0) & np.isfinite(b).all(0))
    if not len(epochs):
        return None
    a, b = a[:, epochs], b[:, epochs]
    difference = a.mean(0) - b.mean(0)
    if len(a) > 1 and len(b) > 1:
        stderr = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    else:
        stderr = np.full(len(epochs), np.nan)
    paired = {seed: a[seeds_a.index(seed)] - b[seeds_b.index(seed)] for seed in seeds_a if seed in seeds_b}
    return {"epochs": epochs + 1, "difference": difference, "stderr": stderr, "paired": paired}


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
    run_dir = Path(run_dir)
    cached = _read_json(run_dir / MODES_FILE)
    if cached.get("chains") == chains and cached.get("sweeps") == sweeps and cached.get("seed") == seed:
        return cached
    model, _, _ = load_run(run_dir)
    rng = np.random.default_rng(seed)
    n, colors = int(model.graph.num_nodes), int(model.graph.num_colors)
    z0 = rng.integers(0, 2, (chains, n)).astype(np.float64)
    frames = prior_chain_frames(model, z0, sweeps, rng, per_sweep=True)  # (sweeps, C, L)
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
    write_json(run_dir / MODES_FILE, stats)
    if console is not None:
        console.print(f"modes: latent autocorrelation {autocorrelation:.3f}, frame distance ratio "
                      f"{stats['frame_distance_ratio']:.3f}")
    return stats
