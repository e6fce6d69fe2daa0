"""Datasets for the discrete-latent VAE: files -> numpy -> ``tf.data``.

Every loader returns a :class:`Dataset`: float32 images of shape ``(N, H, W, 1)`` in
``[0, 1]``, optional integer labels, and where the data came from. ``Dataset.to_tf``
turns it into a ``tf.data.Dataset`` of image batches (``x`` only: the model is trained
unsupervised with ``model.fit(dataset)``), resampling ``x ~ Bernoulli(grey level)``
every epoch ("dynamic binarization", the paper's MNIST setting) for grey-level data.

One module per job; this package re-exports the public names most code needs:

- :mod:`qhvae.data.catalog`: the datasets (:data:`DATASETS`: ``"digits"``, ``"mnist"``,
  ``"binarized_mnist"``, ``"fashion_mnist"``), the splits (:data:`SPLITS`: ``"train"``,
  ``"valid"``, ``"test"``, ``"train_full"``) and the rule that cuts them (the paper's
  50,000 / 10,000 / 10,000);
- :mod:`qhvae.data.loaders`: :func:`load_dataset`;
- :mod:`qhvae.data.dataset`: :class:`Dataset` and its ``tf.data`` pipeline;
- :mod:`qhvae.data.arrays`: :func:`as_images`, validation of user arrays;
- :mod:`qhvae.data.lookup`: where files are looked for (the ``data_dir`` argument,
  ``$QHVAE_DATA_DIR``, the Keras cache, ``/usr/share/datasets``) and the download, only
  with ``allow_download=True``; :func:`search_locations`;
- :mod:`qhvae.data.formats`: the IDX, ``.amat`` and ``.npz`` parsers (:func:`read_idx`,
  :func:`read_amat`);
- :mod:`qhvae.data.integrity`: ``SHA256SUMS`` files beside the data and the known hashes
  of the canonical files (:data:`KNOWN_SHA256`); the per-process cache
  (:func:`clear_cache`).

Example:
    >>> from qhvae.data import load_dataset
    >>> ds = load_dataset("digits", "train")
    >>> ds.images.shape, ds.images.dtype.name, ds.binarized
    ((1250, 8, 8, 1), 'float32', False)
    >>> float(ds.images.min()), float(ds.images.max())
    (0.0, 1.0)
"""

from __future__ import annotations

from .arrays import as_images
from .catalog import DATASETS, SPLITS
from .dataset import Dataset
from .formats import read_amat, read_idx
from .integrity import KNOWN_SHA256, clear_cache
from .loaders import load_dataset
from .lookup import SearchLocation, search_locations

__all__ = [
    "DATASETS",
    "SPLITS",
    "KNOWN_SHA256",
    "Dataset",
    "SearchLocation",
    "as_images",
    "clear_cache",
    "load_dataset",
    "read_amat",
    "read_idx",
    "search_locations",
]
