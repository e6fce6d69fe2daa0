"""The images a run trains and is evaluated on: a named dataset or the user's own file.

A run's ``dataset`` is a name of :data:`qhvae.data.DATASETS` (loaded with
:func:`qhvae.data.load_dataset`) or a ``.npy``/``.npz`` file of images: ``.npz`` with arrays
``train`` and ``test`` (or ``x_train`` and ``x_test``), or a single array of which the last
sixth is held out for testing. Problems are raised as :class:`~qhvae.training.config.RunError`
with the file named.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "blank.npy"
    >>> np.save(path, np.zeros((12, 8, 8), np.float32))
    >>> [len(load_split(TrainConfig(dataset=str(path)), s)) for s in ("train", "test")]
    [10, 2]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import validation
from .config import RunError, TrainConfig, is_file_dataset

__all__ = ["load_split", "load_train_data", "load_test_images", "load_test_data", "check_image_shape", "num_classes_of"]


def load_split(config: TrainConfig, split: str):
    """A :class:`qhvae.data.Dataset` for ``split`` ("train" or "test") of the run's data.

    Args:
        config: the run's configuration (``dataset``, ``data_dir``).
        split: ``"train"`` or ``"test"``.

    Raises:
        RunError: an image file that is missing, unreadable or holds the wrong arrays.
        ValueError, FileNotFoundError: a named dataset that cannot be found or read.
    """
    from ..data import Dataset, load_dataset

    if not is_file_dataset(config.dataset):
        return load_dataset(config.dataset, split, data_dir=config.data_dir)
    path = Path(config.dataset)
    if not path.exists():
        raise RunError(f"dataset file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" not in str(exc):
            raise RunError(f"cannot read images from {path}: {exc}") from None
        # numpy tries unpickling whatever is not .npy/.npz, then suggests allow_pickle, which a
        # command-line user cannot pass (and which would run code from the file)
        raise RunError(f"cannot read images from {path}: it is neither a .npy nor a .npz file (or holds Python "
                       "objects, which qhvae never unpickles); save the images with numpy.save or numpy.savez, "
                       "as a uint8 or float array of shape (N, H, W) or (N, H, W, 1)") from None
    except Exception as exc:
        raise RunError(f"cannot read images from {path}: {exc}") from None
    if isinstance(loaded, np.ndarray):
        arrays = {"images": loaded}
    else:
        with loaded:
            arrays = {k: loaded[k] for k in loaded.files}
    pairs = [("train", "test"), ("x_train", "x_test")]
    for train_key, test_key in pairs:
        if train_key in arrays and test_key in arrays:
            images = arrays[train_key if split == "train" else test_key]
            break
    else:
        if len(arrays) != 1:
            raise RunError(f"{path}: expected arrays 'train' and 'test' (or 'x_train' and 'x_test') or a "
                           f"single array of images, found {sorted(arrays)}")
        images = next(iter(arrays.values()))
        n_test = len(images) // 6
        if n_test < 1:
            raise RunError(f"{path}: {len(images)} images are too few to hold out a test sixth")
        images = images[: len(images) - n_test] if split == "train" else images[len(images) - n_test:]
    try:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        data = Dataset(images, None, path.stem, split, False, str(path))
    except ValueError as exc:
        raise RunError(f"{path}: {exc}") from None
    binary = bool(np.all((data.images == 0) | (data.images == 1)))
    return Dataset(data.images, None, path.stem, split, binary, str(path))


def check_image_shape(images: np.ndarray, what: str) -> None:
    """Refuse images the VAE's networks cannot take: they must be square, single-channel, at least 4x4
    (:func:`qhvae.validation.check_image_shape`, the rule ``QVAE(image_shape)`` follows too).

    Args:
        images: ``(N, H, W, C)`` images.
        what: where they come from, for the message.

    Raises:
        RunError: the shape does not fit.

    Example:
        >>> check_image_shape(np.zeros((2, 8, 12, 1)), "mine")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        qhvae.exceptions.RunError: mine: the image shape must be (H, H, 1) ... got (8, 12, 1)
    """
    validation.check_image_shape(tuple(images.shape[1:]), f"{what}: the image shape", error=RunError)


def load_test_images(config: TrainConfig, num_images: int | None, seed: int = 0) -> np.ndarray:
    """Test images, binarized once with ``seed`` when they are grey levels (as in the paper).

    Args:
        config: the run's configuration.
        num_images: the first ``num_images`` test images (``None``: all).
        seed: the seed of the fixed binarization.

    Returns:
        ``(N, H, W, 1)`` float32 images of 0s and 1s.
    """
    return load_test_data(config, num_images, seed)[0]


def load_test_data(config: TrainConfig, num_images: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """``(images, labels)`` of the test split: :func:`load_test_images`' images and their labels
    (``None`` for data without labels).

    Raises:
        RunError: a class-conditional run (``config.conditional``) whose test split has no labels.
    """
    test = load_split(config, "test")
    if num_images is not None:
        test = test.take(num_images)
    if not test.binarized:
        test = test.binarize(seed=seed)
    if config.conditional and test.labels is None:
        raise RunError(f"dataset {config.dataset!r} has no test labels, which a class-conditional run needs")
    return test.images, test.labels


def num_classes_of(train) -> int:
    """The number of classes of a labelled training :class:`~qhvae.data.Dataset` (labels ``0..C-1``).

    Raises:
        RunError: no labels, or labels that are not ``0..C-1`` with ``C >= 2``.
    """
    if train.labels is None:
        raise RunError(f"dataset {train.name!r} has no labels, so it cannot train a class-conditional model "
                       "(--conditional); use a labelled dataset: mnist, fashion_mnist or digits")
    labels = train.labels
    if labels.min() < 0 or labels.max() < 1:
        raise RunError(f"dataset {train.name!r}: class labels must be 0..C-1 with C >= 2, got "
                       f"{labels.min()}..{labels.max()}")
    return int(labels.max()) + 1


def load_train_data(config: TrainConfig):
    """The run's training split, cut to ``train_limit`` images and checked for shape.

    Args:
        config: the run's configuration.

    Returns:
        A :class:`qhvae.data.Dataset`.

    Raises:
        RunError: missing data (the message says where it looked) or unusable images.
    """
    try:
        train = load_split(config, "train")
    except (ValueError, FileNotFoundError) as exc:
        raise RunError(str(exc)) from None
    if config.train_limit is not None:
        train = train.take(config.train_limit)
    check_image_shape(train.images, f"dataset {config.dataset!r}")
    if config.conditional:
        num_classes_of(train)  # its labels, checked before anything trains
    return train
