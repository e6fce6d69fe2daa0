"""Loading a split of a dataset into memory: :func:`load_dataset`.

The names and splits are in :mod:`qhvae.data.catalog`, the search order in
:mod:`qhvae.data.lookup`, the checks and cache in :mod:`qhvae.data.integrity`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..validation import check_int
from .catalog import canonical_name, check_split, train_file_rows
from .dataset import Dataset
from .formats import parse_idx_images, parse_idx_labels, parse_mnist_npz, read_amat
from .integrity import read_file
from .lookup import check_data_dir, first_existing, idx_file_names, locate

__all__ = ["load_dataset"]


def _load_digits(split: str) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / np.float32(16.0)
    labels = bunch.target.astype(np.int64)
    n_train = 1500
    rows = slice(n_train, None) if split == "test" else train_file_rows(n_train, split)
    return Dataset(images[rows], labels[rows], "digits", split, False,
                   "sklearn.datasets.load_digits")


def _load_idx_dataset(
    name: str, split: str, data_dir, verify: bool, allow_download: bool
) -> Dataset:
    prefix = "test" if split == "test" else "train"
    wanted: dict[str, Sequence[str]] = {"idx": idx_file_names(prefix, "images")}
    if name == "mnist":
        wanted["npz"] = ["mnist.npz"]
    group, path = locate(name, split, data_dir, wanted, allow_download=allow_download)

    if group == "npz":
        rec = read_file(path, parse_mnist_npz, (name, "npz") if verify else None)
        key = "test" if prefix == "test" else "train"
        x, y = rec.value[f"x_{key}"], rec.value[f"y_{key}"]
        if x.ndim != 3 or x.dtype != np.uint8 or y.shape != (len(x),):
            raise ValueError(
                f"{path}: x_{key} must be uint8 (N, H, W) with N labels, got x {x.dtype} "
                f"{x.shape}, y {y.shape}"
            )
        sources = [str(path)]
    else:
        rec = read_file(path, parse_idx_images, (name, f"{prefix}-images") if verify else None)
        x = rec.value
        sources = [str(path)]
        y = None
        label_path = first_existing(path.parent, idx_file_names(prefix, "labels"))
        if label_path is not None:
            lrec = read_file(
                label_path, parse_idx_labels, (name, f"{prefix}-labels") if verify else None
            )
            y = lrec.value
            if len(y) != len(x):
                raise ValueError(f"{label_path}: {len(y)} labels for {len(x)} images in {path}")
            sources.append(str(label_path))

    rows = slice(None) if prefix == "test" else train_file_rows(len(x), split)
    images = x[rows].astype(np.float32)
    images /= np.float32(255.0)
    labels = None if y is None else y[rows].astype(np.int64)
    return Dataset(images[..., None], labels, name, split, False, " + ".join(sources))


def _load_binarized(split: str, data_dir, verify: bool, allow_download: bool) -> Dataset:
    parts = ["train", "valid"] if split == "train_full" else [split]
    arrays, sources = [], []
    for part in parts:
        names = [f"binarized_mnist_{part}.amat{ext}" for ext in (".gz", "", ".bz2", ".xz")]
        _, path = locate(
            "binarized_mnist", split, data_dir, {"amat": names}, allow_download=allow_download
        )
        rec = read_file(path, read_amat, ("binarized_mnist", part) if verify else None)
        arrays.append(rec.value)
        sources.append(str(path))
    flat = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    images = flat.reshape(-1, 28, 28, 1).astype(np.float32)
    return Dataset(images, None, "binarized_mnist", split, True, " + ".join(sources))


def load_dataset(
    name: str = "digits",
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    allow_download: bool = False,
    verify: bool = True,
    limit: int | None = None,
) -> Dataset:
    """Load one split of a dataset into memory.

    Args:
        name: One of :data:`qhvae.data.DATASETS`: ``"digits"``, ``"mnist"``, ``"binarized_mnist"``,
            ``"fashion_mnist"`` (case and ``-``/``_`` do not matter).
        split: One of :data:`qhvae.data.SPLITS`: ``"train"``, ``"valid"``, ``"test"``,
            ``"train_full"`` (see :mod:`qhvae.data.catalog` for what each holds).
        data_dir: A folder to look in first (the files themselves, or dataset
            subfolders such as ``mnist/``); the search then goes on as listed in
            :mod:`qhvae.data.lookup` (``$QHVAE_DATA_DIR``, Keras cache,
            ``/usr/share/datasets``).
        allow_download: Download into the Keras cache when nothing is found. Off by
            default: nothing is ever downloaded unless you ask.
        verify: Check files against ``SHA256SUMS`` beside them and the known hashes of
            the canonical files. Turn off for your own non-canonical files.
        limit: Keep only the first ``limit`` examples of the split (quick runs, tests).

    Returns:
        A :class:`Dataset`. Grey-level data (digits, MNIST, Fashion-MNIST) has
        ``binarized=False`` and is dynamically binarized by ``to_tf``; binarized MNIST
        has ``binarized=True`` and ``labels=None``.

    Raises:
        ValueError: Unknown name or split; a file that is malformed or fails its checksum.
        FileNotFoundError: ``data_dir`` does not exist (``NotADirectoryError``: it is a
            file); or no files found, and the message lists every folder searched and how
            to point the loader at the data.

    Example:
        >>> ds = load_dataset("digits", "train_full", limit=100)
        >>> ds.images.shape, ds.labels.shape, ds.source
        ((100, 8, 8, 1), (100,), 'sklearn.datasets.load_digits')
        >>> load_dataset("mnist", data_dir="/data")  # doctest: +SKIP
    """
    canon = canonical_name(name)
    check_split(split)
    limit = check_int("limit", limit, allow_none=True)
    check_data_dir(data_dir)  # a misspelt folder must not quietly yield the data found elsewhere
    if canon == "digits":
        ds = _load_digits(split)
    elif canon == "binarized_mnist":
        ds = _load_binarized(split, data_dir, verify, allow_download)
    else:
        ds = _load_idx_dataset(canon, split, data_dir, verify, allow_download)
    return ds if limit is None else ds.take(limit)
