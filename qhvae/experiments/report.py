"""An experiment's report: ``results.csv``, ``summary.csv``/``.md`` with the claims, and its figures.

- ``curves.png``: tracked metrics over training: each arm's mean over seeds and the band
  from its smallest to its largest run (the paper's style)
- ``differences.png``: each claim's difference tracked over training, with twice its
  standard error over seeds: whether it had settled when training stopped
- ``samples.png``: decoded prior samples of each arm's first finished seed
- ``chains.png``: (``modes``) block-Gibbs chains on the trained priors, decoded, one row per arm
- ``strips/PICTURE/RUN.npz``: each row of those pictures as drawn, with the run it came from, so
  that a report rebuilt from records alone (a fresh checkout) draws the same pictures

Example:
    >>> METRIC_LABELS["log_likelihood"]
    'test log-likelihood (nats)'
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import textwrap
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..plots import finish_epoch_axis, plot_image_strips, pyplot, save_figure
from ..training.run_evaluation import load_run, prior_chain_frames
from ..training.rundir import CHECKPOINT_FILE
from .analysis import RECORD_FILES, difference_over_training, history_table
from .studies import Arm, Experiment

if TYPE_CHECKING:  # the runner imports this module: its class is only named in annotations here
    from .runner import PlannedRun

__all__ = ["METRIC_LABELS", "write_report", "plot_curves", "plot_differences", "plot_samples", "plot_chains"]

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
    "classifier_accuracy": "generative classifier accuracy",
    "hidden_units": "hidden units",
    "active_hidden_units": "active hidden units",
    "marginal_log_likelihood": "log p(x) = log sum_y p(x|y) p(y) (nats, K=100)",
    "sample_accuracy": "samples classified as their label",
    "frechet_distance": "Fréchet distance (classifier features)",
}

_CSV_COLUMNS = ("arm", "seed", "status", "epochs", "of_epochs", "train_minutes", "cpu_minutes", "eval_minutes",
                "log_likelihood", "log_likelihood_stderr", "elbo", "active_units", "units", "hidden_units",
                "active_hidden_units", "weight_l1", "beta_eff",
                "log_z", "log_z_stderr", "latent_autocorrelation", "frame_distance_ratio", "classifier_accuracy",
                "marginal_log_likelihood", "sample_accuracy", "frechet_distance", "run_dir")


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
    has_ll = "log_likelihood" in metrics  # it gets its combined error beside the spread
    with open(out / "summary.csv", "w", newline="") as f:
        summary_writer = csv.writer(f)
        errors = ["se", "within_run_se"] if has_ll else []
        summary_writer.writerow(["arm", "finished", "planned", "diverged"]
                        + [f"{m}_{k}" for m in metrics for k in ("mean", "std", "min", "max")]
                        + [f"log_likelihood_{k}" for k in errors])
        for label, entry in summary.items():
            summary_writer.writerow([label, entry["finished"], entry["planned"], entry["diverged"]]
                            + [entry[m][k] for m in metrics for k in ("mean", "std", "min", "max")]
                            + [entry["log_likelihood"].get(k, float("nan")) for k in errors])
    files.append(out / "summary.csv")

    budget_info = exp.budget(budget)
    lines = [f"# {exp.title}", "", f"Paper: {exp.figure}. {exp.summary}", "",
             f"Budget `{budget}`: {budget_info.description}. Values are the mean ± standard deviation "
             "[smallest, largest] over seeds; the log-likelihood is the importance-weighted estimate with "
             "K discrete samples on the test images and log Z from population annealing (or exact)"
             + ("; its mean ± error combines the seeds' spread with each run's own error (test images and "
                "the log Z estimate)." if has_ll else "."), "",
             "| arm | runs | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics)
             + (" | log-likelihood, mean ± error |" if has_ll else " |"),
             "|---|---:|" + "---:|" * (len(metrics) + has_ll)]
    for label, entry in summary.items():
        runs = f"{entry['finished']}/{entry['planned']}" + (f" ({entry['diverged']} diverged)"
                                                             if entry["diverged"] else "")
        cells = [_fmt_stats(entry[m]) for m in metrics]
        if has_ll:
            ll = entry["log_likelihood"]
            # one run has no spread over seeds: its error is the run's own only
            cells.append(f"{_fmt(ll['mean'])} ± {_fmt(ll.get('se', float('nan')), 2)}"
                         + (" (one run: its own error)" if ll["n"] == 1 else "") if ll["n"] else "—")
        lines.append(f"| {label} | {runs} | " + " | ".join(cells) + " |")
    minutes = sum(r["train_minutes"] + r["eval_minutes"] for r in rows)
    finished = sum(r["status"] == "finished" for r in rows)
    done = f"{len(rows)} runs" if finished == len(rows) else f"{finished} of {len(rows)} runs finished"
    lines += ["", f"Compute: {done}, {minutes:.0f} minutes of training (with the tracked test metrics) and "
                  "final evaluation in all, unfinished runs' minutes so far included, on the machine that ran them "
                  "(runs shared with another study through `--runs-dir` were trained once)."]
    redone = [r for r in rows if r["status"] == "re-evaluated"]
    if redone:
        lines += ["", "Not counted: evaluated again with other settings than the study's (their `evaluation.json` "
                      "is a side measurement). `qhvae evaluate RUN --num-images N --num-samples K`, with the run's "
                      "`eval_num_images` and `eval_num_samples`, restores the study's evaluation:"]
        lines += [f"- {r['arm']}, seed {r['seed']}: `{r['run_dir']}`" for r in redone]
    if claims:
        lines += ["", "## The paper's findings, checked", "",
                  "| finding | paper | ours (first vs second) | verdict |", "|---|---|---|---|"]
        for c in claims:
            lines.append(f"| {c['text']} ({c['metric']}) | {c['source']} | {c['ours']} | {c['verdict']} |")
        lines += ["", "*reproduced*: the difference has the paper's sign and exceeds twice its standard error "
                      "over seeds (for a claimed tie: lies within it)."]
    differences = plot_differences(exp, rows, out / "differences.png")
    if differences is not None:
        lines += ["", "How each difference moved over training (whether it had settled when training stopped): "
                      "[differences.png](differences.png)."]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    files.append(out / "summary.md")

    files.append(plot_curves(exp, rows, out / "curves.png", budget_info.description))
    if differences is not None:
        files.append(differences)
    loaded = _LoadedRuns(exp, rows)
    grid = plot_samples(exp, rows, out / "samples.png", loaded=loaded)
    if grid is not None:
        files.append(grid)
    class_grids = plot_class_grids(exp, rows, out, loaded=loaded)
    if class_grids:
        links = ", ".join(f"[{p.name}]({p.name})" for p in class_grids)
        with (out / "summary.md").open("a") as fh:
            fh.write(f"\nSamples of every class (one row per class, each arm's first finished seed): {links}.\n")
        files += class_grids
    if exp.analysis == "modes":
        chains = plot_chains(exp, rows, out / "chains.png", loaded=loaded)
        if chains is not None:
            files.append(chains)
    return files


def plot_curves(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, subtitle: str = "") -> Path:
    """One panel per tracked metric: each arm's mean over its finished seeds and their min-max band.

    Unfinished runs are left out: with runs of different lengths the mean would jump where
    one ends, which reads as a change in the arm. For the same reason an epoch enters an
    arm's curve only if every one of its runs was scored there.
    """
    plt = pyplot()
    keys = list(exp.curves)
    cols = min(len(keys), 2)
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.0 * cols, 4.0 * nrows), squeeze=False)
    for ax, key in zip(axes.ravel(), keys, strict=False):
        drawn = False
        for arm in exp.arms:
            finished = [r for r in rows if r["arm"] == arm.label and r["status"] == "finished"]
            table = history_table(finished, key)
            if not table.shape[1]:
                continue
            # Only the epochs every run was scored at: a resumed run is also scored at the first
            # epoch of each sitting, and a mean over fewer seeds there reads as a dip in the arm.
            finite = np.isfinite(table)
            epochs = np.flatnonzero(finite.all(axis=0))
            if not len(epochs):  # runs tracked on disjoint schedules: the best there is
                epochs = np.flatnonzero(finite.any(axis=0))
            if not len(epochs):
                continue
            values = table[:, epochs]  # every column has a value, so no all-NaN warning
            mean, low, high = np.nanmean(values, 0), np.nanmin(values, 0), np.nanmax(values, 0)
            x = epochs + 1
            ax.plot(x, mean, color=arm.color, ls=arm.linestyle, marker="." if len(x) < 30 else None,
                    label=f"{arm.label} ({len(finished)} run{'s' if len(finished) > 1 else ''})")
            if len(finished) > 1:
                ax.fill_between(x, low, high, color=arm.color, alpha=0.15, lw=0)
            drawn = True
        label = METRIC_LABELS.get(key, key).replace(" (final)", "")
        finish_epoch_axis(ax, label, label, drawn, empty="no tracked epochs yet")
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    title = textwrap.fill(f"{exp.title} ({exp.figure}; {subtitle})", width=int(13 * 6.0 * cols))
    fig.suptitle(title, fontsize=10)
    _layout_below_title(fig, title)
    return save_figure(fig, path)


def plot_differences(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path) -> Path | None:
    """One panel per claim whose metric is tracked in training: its difference over the epochs.

    The line is the difference of the two arms' means over their finished seeds, the band
    twice its standard error over seeds (close to the verdict's threshold: see
    :func:`~qhvae.experiments.analysis.difference_over_training`), thin lines each seed's
    own difference. A claim that one arm beats the other has settled where the line has
    flattened with the band clear of 0; a claimed tie, where the band has kept 0 inside.
    Returns ``None`` (and writes nothing) when no claim's metric is tracked.
    """
    panels = [(claim, d) for claim in exp.claims if (d := difference_over_training(claim, rows)) is not None]
    if not panels:
        return None
    plt = pyplot()
    cols = min(len(panels), 2)
    nrows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.0 * cols, 3.6 * nrows), squeeze=False)
    for ax, (claim, d) in zip(axes.ravel(), panels, strict=False):
        x = d["epochs"]
        for i, paired in enumerate(d["paired"].values()):
            ax.plot(x, paired, color="0.6", lw=0.8, label=None if i else "one seed")
        ax.plot(x, d["difference"], color="C0", marker="." if len(x) < 30 else None, label="difference of means")
        band = np.isfinite(d["stderr"])
        if band.any():
            ax.fill_between(x[band], (d["difference"] - 2 * d["stderr"])[band],
                            (d["difference"] + 2 * d["stderr"])[band], color="C0", alpha=0.2, lw=0,
                            label="± 2 standard errors")
        ax.axhline(0.0, color="k", lw=0.6)
        unit = METRIC_LABELS.get(claim.metric, claim.metric)
        title = textwrap.fill(f"{claim.text}: {claim.first} − {claim.second}", width=60)
        finish_epoch_axis(ax, f"difference, {unit}", title, drawn=True)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    title = textwrap.fill(f"{exp.title}: the claims' differences over training", width=int(13 * 6.0 * cols))
    fig.suptitle(title, fontsize=10)
    _layout_below_title(fig, title)
    return save_figure(fig, path)


def _layout_below_title(fig, title: str) -> None:
    """``tight_layout`` with the panels kept below the figure's title (it overlapped the first
    row's titles): about 0.18 inch per line of the title, and a margin."""
    lines = title.count("\n") + 1
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.18 * lines + 0.08) / fig.get_figheight()))


def _first_finished(exp: Experiment, rows: Sequence[dict[str, Any]]) -> list[tuple[Arm, dict[str, Any]]]:
    """Each arm's finished run of the lowest seed, whether or not its model is still on disk."""
    chosen = []
    for arm in exp.arms:
        done = [r for r in rows if r["arm"] == arm.label and r["status"] == "finished"]
        if done:
            chosen.append((arm, min(done, key=lambda r: r["seed"])))
    return chosen


def _on_disk(row: dict[str, Any]) -> bool:
    # A run known only from its archived record (another machine, a fresh checkout) has no model.
    return (Path(row["run_dir"]) / CHECKPOINT_FILE).exists()


class _LoadedRuns:
    """Each arm's first finished run, loaded once for all of a report's pictures (a full-MNIST
    model with its sampler takes seconds to load).

    ``first`` holds every arm's first finished run; ``chosen`` those whose model is on disk,
    ``missing`` the arms whose first finished run is known only from its record. A picture is
    never redrawn from a later seed: what was drawn from the first seed stays (its stored strip,
    or the picture as it is)."""

    def __init__(self, exp: Experiment, rows: Sequence[dict[str, Any]]):
        self.first = _first_finished(exp, rows)
        self.chosen = [(arm, row) for arm, row in self.first if _on_disk(row)]
        self.missing = [arm for arm, row in self.first if not _on_disk(row)]
        self._loaded: dict[str, tuple[Any, Any]] = {}

    def load(self, row: dict[str, Any]) -> tuple[Any, Any]:
        """The model and configuration of a run on disk."""
        key = str(row["run_dir"])
        if key not in self._loaded:
            model, config, _ = load_run(row["run_dir"])
            self._loaded[key] = (model, config)
        return self._loaded[key]

    def __iter__(self):
        for arm, row in self.chosen:
            yield (arm, row, *self.load(row))


def _run_fingerprint(run_dir: str | os.PathLike) -> str:
    """What identifies a trained run's results (its record files' content): a run trained again
    under the same name gets another, so a strip drawn from the first is not reused."""
    digest = hashlib.sha256()
    for name in RECORD_FILES:
        try:
            content = json.loads((Path(run_dir) / name).read_text())
        except (OSError, ValueError):
            continue
        digest.update(name.encode() + json.dumps(content, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _strip_path(picture: Path, row: dict[str, Any]) -> Path:
    return picture.parent / "strips" / picture.stem / f"{Path(row['run_dir']).name}.npz"


def _stored_strip(picture: Path, row: dict[str, Any], settings: str) -> tuple[np.ndarray, str] | None:
    """A strip stored for this run's results and drawn with these settings, else ``None``."""
    path = _strip_path(picture, row)
    if not path.exists():
        return None
    try:
        with np.load(path) as stored:
            if str(stored["fingerprint"]) != _run_fingerprint(row.get("source", row["run_dir"])) or \
                    str(stored["settings"]) != settings:
                return None
            return stored["images"].astype(np.float32), str(stored["caption"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # unreadable: drawn again
        return None


def _store_strip(picture: Path, row: dict[str, Any], settings: str, images: np.ndarray, caption: str) -> None:
    path = _strip_path(picture, row)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")  # a sitting cut short leaves no half file
    # float16 keeps the grey levels (pixel probabilities) at a quarter of the size
    np.savez_compressed(partial, images=np.asarray(images, np.float16), caption=np.array(caption),
                        settings=np.array(settings),
                        fingerprint=np.array(_run_fingerprint(row.get("source", row["run_dir"]))))
    os.replace(partial, path)


def _image_rows(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, title: str, draw, settings: str,
                loaded: _LoadedRuns | None = None) -> Path | None:
    """One strip of images per arm (its first finished seed): ``draw(arm, row, model, config)``
    returns the ``(N, H, W, 1)`` images and the strip's caption; :func:`~qhvae.plots.plot_image_strips` draws them.

    Each strip is stored beside the picture as it is drawn and read back while its run's
    results and the drawing's ``settings`` are unchanged. If some arm's strip can be neither
    read nor drawn (its model is not on disk), a picture already at ``path`` stays as it is."""
    loaded = _LoadedRuns(exp, rows) if loaded is None else loaded
    strips, incomplete = [], False
    for arm, row in loaded.first:
        strip = _stored_strip(path, row, settings)
        if strip is None and _on_disk(row):
            images, caption = draw(arm, row, *loaded.load(row))
            strip = (np.asarray(images), caption)
            _store_strip(path, row, settings, *strip)
        if strip is None:
            incomplete = True
        else:
            strips.append(strip)
    if incomplete and path.exists():
        return path
    if not strips:
        return None
    return plot_image_strips(strips, path, title)


def plot_samples(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, per_arm: int = 16,
                 loaded: _LoadedRuns | None = None) -> Path | None:
    """Images decoded from prior samples, one row per arm (its first finished seed); a class-conditional
    model's cycle through its classes (0, 1, 2, ...)."""
    def draw(arm, row, model, config):
        num_classes = getattr(model, "num_classes", 0)
        labels = np.arange(per_arm) % num_classes if num_classes else None
        images, _ = model.generate(per_arm, seed=config.seed, labels=labels)
        return images, f"{arm.label} (seed {row['seed']})" + (", classes 0, 1, 2, ... in turn" if num_classes else "")

    return _image_rows(exp, rows, path, f"{exp.name}: images decoded from prior samples", draw,
                       f"per_arm={per_arm}", loaded)


def plot_class_grids(exp: Experiment, rows: Sequence[dict[str, Any]], out: Path, per_class: int = 10,
                     loaded: _LoadedRuns | None = None) -> list[Path]:
    """For class-conditional runs: one grid per arm (its first finished seed), one row per class of
    ``per_class`` images from ``p(z | y)``, written as ``samples-ARM.png`` (``/`` in the arm's label as ``-``)."""
    from ..training.run_evaluation import write_samples

    loaded = _LoadedRuns(exp, rows) if loaded is None else loaded
    written = []
    for arm, _, model, config in loaded:
        if not getattr(model, "num_classes", 0):
            continue
        path = _class_grid_path(out, arm)
        written.append(write_samples(model, path, num=per_class * model.num_classes, seed=config.seed))
    # An arm whose first seed is known only from its record keeps the grid drawn from it.
    written += [path for arm in loaded.missing if (path := _class_grid_path(out, arm)).exists()]
    return written


def _class_grid_path(out: Path, arm: Arm) -> Path:
    return out / f"samples-{arm.label.replace('/', '-')}.png"


def plot_chains(exp: Experiment, rows: Sequence[dict[str, Any]], path: Path, frames: int = 24,
                seed: int = 0, loaded: _LoadedRuns | None = None) -> Path | None:
    """The paper's Fig. 10: one block-Gibbs chain per arm from a random state, one full sweep per frame."""
    def draw(arm, row, model, config):
        rng = np.random.default_rng(seed)
        n, colors = int(model.graph.num_nodes), int(model.graph.num_colors)
        z = prior_chain_frames(model, rng.integers(0, 2, (1, n)).astype(np.float64), frames, rng, per_sweep=True)
        auto = row.get("latent_autocorrelation", float("nan"))
        return (model.decode(z[:, 0, :]),
                f"{arm.label}: {colors} block updates per frame; latent autocorrelation {_fmt(auto, 3)}")

    return _image_rows(exp, rows, path, "Block-Gibbs chains on the trained priors, decoded (left to right, one full "
                       "sweep per frame)", draw, f"frames={frames} seed={seed}", loaded)
