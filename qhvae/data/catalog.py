"""The datasets and splits :func:`qhvae.data.load_dataset` knows, and the split rule.

Datasets (:data:`DATASETS`):

- ``"digits"``: scikit-learn's 8x8 digits (1,797 images, grey levels 0..16, scaled by
  1/16). Embedded in scikit-learn, no files, no download: the default for a first run.
- ``"mnist"``: the original IDX files (``train-images-idx3-ubyte.gz`` ...) or Keras's
  ``mnist.npz``. Grey levels ``/255``; dynamically binarized at training time.
- ``"binarized_mnist"``: the static binarization of Salakhutdinov & Murray (2008) as
  distributed by H. Larochelle, ``binarized_mnist_{train,valid,test}.amat[.gz]``; already
  0/1, no labels.
- ``"fashion_mnist"``: Zalando's Fashion-MNIST, same IDX format as MNIST (the Debian
  package ``dataset-fashion-mnist`` installs it under ``/usr/share/datasets/fashion-mnist/``).

Splits (:data:`SPLITS`), the same rule for every dataset:

- ``train``: the training file without its last sixth: MNIST/Fashion 50,000, binarized
  MNIST 50,000 (its own file), digits 1,250 (images 0..1249);
- ``valid``: the last sixth of the training file: 10,000 (binarized MNIST: its own
  ``valid`` file), digits 250 (images 1250..1499);
- ``test``: the test file: 10,000; digits 297 (images 1500..1796);
- ``train_full``: ``train`` + ``valid``: 60,000; digits 1,500 (images 0..1499).

The 50,000 / 10,000 / 10,000 split is the paper's ("MNIST ... includes 50,000 ...
images", Vinci et al. Sec. V) and the one binarized MNIST ships with, so ``"valid"``
never overlaps ``"train"``. Use ``"train_full"`` for the 60,000-image convention.
"""

from __future__ import annotations

__all__ = ["DATASETS", "SPLITS", "canonical_name", "check_split", "train_file_rows"]

#: Names accepted by :func:`qhvae.data.load_dataset` (``-`` and ``_`` are interchangeable,
#: any case).
DATASETS: tuple[str, ...] = ("digits", "mnist", "binarized_mnist", "fashion_mnist")

#: Splits accepted by :func:`qhvae.data.load_dataset`.
SPLITS: tuple[str, ...] = ("train", "valid", "test", "train_full")


def canonical_name(name: str) -> str:
    """The entry of :data:`DATASETS` that ``name`` means (any case, ``-`` or ``_``).

    Args:
        name: A dataset name as a user wrote it.

    Returns:
        The canonical name, e.g. ``"fashion_mnist"``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: An unknown dataset; the message lists the known ones.

    Example:
        >>> canonical_name(" Fashion-MNIST ")
        'fashion_mnist'
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    canon = name.strip().lower().replace("-", "_")
    if canon not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return canon


def check_split(split: str) -> str:
    """Return ``split`` if it is one of :data:`SPLITS` (exact spelling).

    Raises:
        ValueError: An unknown split; the message lists the known ones.

    Example:
        >>> check_split("valid")
        'valid'
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    return split


def train_file_rows(n: int, split: str) -> slice:
    """Rows of an ``n``-image training file that make up ``split`` (valid = last sixth).

    Args:
        n: Images in the training file.
        split: ``"train"``, ``"valid"`` or ``"train_full"`` (the test split has its own
            file; anything else is taken as ``"train_full"``).

    Example:
        >>> train_file_rows(60000, "train"), train_file_rows(60000, "valid")
        (slice(0, 50000, None), slice(50000, 60000, None))
    """
    n_valid = n // 6
    if split == "train":
        return slice(0, n - n_valid)
    if split == "valid":
        return slice(n - n_valid, n)
    return slice(0, n)
