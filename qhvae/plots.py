"""Figures: image grids and per-epoch curves, drawn headless with matplotlib's Agg backend.

Everything here needs matplotlib only (and numpy); matplotlib is imported on first use,
so importing this module is cheap. Files are written atomically: a figure goes to a
temporary name and is then ``os.replace``-d into place, so a run killed while plotting
never leaves half a PNG.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> save_image_grid(np.zeros((4, 3, 3, 1)), path, "four blank images").read_bytes()[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import numpy as np

__all__ = ["pyplot", "image_grid", "save_figure", "save_image_grid", "plot_prior_samples", "plot_gibbs_chain",
           "plot_image_strips", "finish_epoch_axis", "plot_training_curves", "plot_sampler_comparison"]


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed).

    Example:
        >>> pyplot().get_backend().lower()
        'agg'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 1, pad_value: float = 0.3) -> np.ndarray:
    """Tile ``(N, H, W[, 1])`` images into one 2-d array, ``cols`` per row (default: square-ish).

    Example:
        >>> image_grid(np.zeros((6, 2, 2, 1)), cols=3).shape
        (7, 10)
    """
    images = np.asarray(images, np.float64)
    if images.ndim == 4:
        images = images[..., 0]
    n, h, w = images.shape
    cols = cols or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), pad_value)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i]
    return grid


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write a matplotlib figure as PNG atomically (temporary file, then ``os.replace``) and close it.

    Args:
        fig: the figure.
        path: where the PNG goes (its folder is created).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> fig, ax = pyplot().subplots()
        >>> save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "empty.png").suffix
        '.png'
    """
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def save_image_grid(images: np.ndarray, path: str | os.PathLike, title: str, cols: int | None = None) -> Path:
    """A PNG of ``(N, H, W[, 1])`` grey-level images in a grid under a wrapped title.

    Pixel values are drawn on ``[0, 1]``, dark for 1 (pixel probabilities of binary images).

    Args:
        images: the images.
        path: the PNG to write.
        title: the caption, wrapped at 90 characters.
        cols: images per row (default: square-ish, see :func:`image_grid`).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    plt = pyplot()
    grid = image_grid(images, cols=cols)
    height = max(3.0, 8.0 * grid.shape[0] / grid.shape[1])
    fig, ax = plt.subplots(figsize=(8, height + 0.6))
    ax.imshow(grid, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_prior_samples(images: np.ndarray, path: str | os.PathLike, prior: str, sampler: str,
                       per_class: int | None = None) -> Path:
    """A run's ``samples.png``: images decoded from samples of its prior, in a square-ish grid
    (a class-conditional model's: one row per class, ``per_class`` images a row).

    Args:
        images: ``(N, H, W[, 1])`` pixel probabilities (``model.generate``'s images).
        path: the PNG to write.
        prior: the latent graph's name, for the title.
        sampler: the name of the sampler that drew the prior samples, for the title.
        per_class: the images are class by class, this many each (rows of ``p(z | y)``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "samples.png"
        >>> plot_prior_samples(np.full((4, 3, 3, 1), 0.5), path, "chimera", "gibbs").name
        'samples.png'
    """
    images = np.asarray(images)
    title = (f"{len(images)} images decoded from samples of the prior {prior} "
             f"(sampler {sampler}); grey level = pixel probability")
    if per_class:
        title = (f"{per_class} images per class (class 0 on the top row) decoded from samples of the "
                 f"class-conditional prior p(z|y) {prior} (sampler {sampler}); grey level = pixel probability")
    return save_image_grid(images, path, title, cols=per_class)


def plot_gibbs_chain(images: np.ndarray, path: str | os.PathLike, prior: str, num_colors: int) -> Path:
    """A run's ``gibbs_chain.png`` (the paper's Fig. 10): one block-Gibbs chain's decoded states, frame by frame.

    Frames go left to right, top to bottom, 8 a row (fewer frames: one row).

    Args:
        images: ``(steps, H, W[, 1])`` the decoded state after each block update.
        path: the PNG to write.
        prior: the latent graph's name, for the title.
        num_colors: its colour classes (one is updated per frame), for the title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "chain.png"
        >>> plot_gibbs_chain(np.zeros((3, 3, 3, 1)), path, "chimera", 2).name
        'chain.png'
    """
    images = np.asarray(images)
    title = (f"one block-Gibbs chain on the prior {prior} from a random state: "
             f"{num_colors} colour classes, one class updated per frame (left to right, top to bottom)")
    return save_image_grid(images, path, title, cols=min(8, len(images)))


def plot_image_strips(strips: list[tuple[np.ndarray, str]], path: str | os.PathLike, title: str) -> Path:
    """Rows of images, one strip per ``(images, caption)``, under a title (a study's samples and chains).

    Args:
        strips: per row, ``(N, H, W[, 1])`` grey-level images on ``[0, 1]`` (drawn dark for 0, as
            decoded digits are shown in the studies) and the row's caption.
        path: the PNG to write.
        title: the figure's title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "strips.png"
        >>> plot_image_strips([(np.zeros((5, 3, 3, 1)), "a"), (np.ones((5, 3, 3, 1)), "b")], path, "two arms").name
        'strips.png'
    """
    if not strips:
        raise ValueError("need at least one strip of images")
    plt = pyplot()
    width = max(len(images) for images, _ in strips)
    fig, axes = plt.subplots(len(strips), 1, figsize=(width * 0.55 + 1.5, 0.95 * len(strips) + 0.7), squeeze=False)
    for ax, (images, caption) in zip(axes[:, 0], strips, strict=True):
        images = np.asarray(images)
        ax.imshow(image_grid(images, cols=len(images), pad=1), cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        ax.set_title(caption, fontsize=8, loc="left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def finish_epoch_axis(ax, ylabel: str, title: str, drawn: bool, empty: str = "no completed epoch") -> None:
    """Label an axis of per-epoch curves; say ``empty`` on it when nothing was drawn.

    Args:
        ax: the matplotlib axis.
        ylabel: the y label.
        title: the panel's title.
        drawn: whether any curve was drawn (then a legend is added).
        empty: the text shown in an empty panel.
    """
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if drawn:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)


def plot_training_curves(history: dict[str, list], path: str | os.PathLike, title: str = "") -> Path:
    """``training_curves.png``: objective, bounds, reconstruction and schedules per epoch.

    Args:
        history: per-epoch metric lists (``None`` where an epoch has no value), e.g. a run's
            ``progress.json`` history: ``loss``, ``bound``, ``bound_without_log_z``,
            ``test_log_likelihood``, ``recon``, ``kl_weight``, ``iw_k``, ``learning_rate``.
        path: the PNG to write.
        title: a title over the four panels.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
        >>> plot_training_curves({"loss": [3.0, 2.0], "kl_weight": [0.5, 1.0]}, out).name
        'curves.png'
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    ax_loss, ax_bound, ax_recon, ax_sched = axes.ravel()

    def series(key):
        values = history.get(key) or []
        xs = [i + 1 for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        return xs, ys

    def draw(ax, keys, ylabel, heading):
        drawn = False
        for key, label in keys:
            xs, ys = series(key)
            if xs:
                ax.plot(xs, ys, marker="." if len(xs) < 30 else None, label=label)
                drawn = True
        finish_epoch_axis(ax, ylabel, heading, drawn)

    draw(ax_loss, [("loss", "loss (surrogate: -bound - negative phase)")], "nats", "training objective")
    draw(ax_bound, [("bound", "bound L_{K,D} (exact log Z)"),
                    ("bound_without_log_z", "bound without log Z (L_{K,D} + log Z)"),
                    ("test_log_likelihood", "test log-likelihood (tracked, fewer samples)")],
         "nats per image", "importance-weighted bound")
    draw(ax_recon, [("recon", "-log p(x|zeta)")], "nats per image", "reconstruction")
    xs, kl = series("kl_weight")
    if xs:
        ax_sched.plot(xs, kl, label="KL weight", color="C0")
    _, k = series("iw_k")
    if k:
        ax_sched.plot(xs[: len(k)], np.asarray(k) / max(k), label="K / max K", color="C2", ls="--")
    ax_sched.set_xlabel("epoch")
    ax_sched.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_sched.set_ylabel("weight")
    ax_sched.set_title("schedules", fontsize=10)
    xs_lr, lr = series("learning_rate")
    if xs_lr:
        twin = ax_sched.twinx()
        twin.semilogy(xs_lr, lr, color="C3", label="learning rate")
        twin.set_ylabel("learning rate", color="C3")
    if xs or xs_lr:
        ax_sched.legend(fontsize=8, loc="center right")
    if title:
        fig.suptitle("\n".join(textwrap.wrap(title, 110)), fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_sampler_comparison(energies: dict[str, np.ndarray], means: dict[str, np.ndarray], path: str | os.PathLike,
                            graph_name: str, log_z: str) -> Path:
    """``qhvae demo``'s figure: each sampler's energy histogram, and its unit means against the first's.

    Args:
        energies: per sampler name (the first is the reference), the energies of its samples.
        means: per sampler name, the mean of each unit over its samples.
        path: the PNG to write.
        graph_name: the latent graph, for the titles.
        log_z: the log Z estimate as text, for the means panel's title.

    Example:
        >>> import tempfile, pathlib
        >>> rng = np.random.default_rng(0)
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.png"
        >>> plot_sampler_comparison({"a": rng.normal(size=50), "b": rng.normal(size=50)},
        ...                         {"a": rng.random(4), "b": rng.random(4)}, path, "chimera", "3.1").name
        'demo.png'
    """
    plt = pyplot()
    fig, (ax_e, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    reference = next(iter(energies))
    for name, values in energies.items():
        ax_e.hist(values, bins=50, histtype="step", density=True, label=name)
        if name != reference:
            ax_m.scatter(means[reference], means[name], s=6, label=name)
    ax_e.set_xlabel("energy E(z)")
    ax_e.set_ylabel("density")
    ax_e.set_title(f"Energy of samples, {graph_name}")
    ax_e.legend()
    ax_m.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax_m.set_xlabel(f"<z_i> from {reference}")
    ax_m.set_ylabel("<z_i> from the other samplers")
    ax_m.set_title(f"Unit means; log Z = {log_z}")
    if len(energies) > 1:
        ax_m.legend()
    fig.tight_layout()
    return save_figure(fig, path)
