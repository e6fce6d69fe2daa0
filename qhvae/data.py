"""Datasets for the discrete-latent VAE: files -> numpy -> ``tf.data``.

Every loader returns a :class:`Dataset`: float32 images of shape ``(N, H, W, 1)`` in
``[0, 1]``, optional integer labels, and where the data came from. ``Dataset.to_tf``
turns it into a ``tf.data.Dataset`` of image batches (``x`` only: the model is trained
unsupervised with ``model.fit(dataset)``), resampling ``x ~ Bernoulli(grey level)``
every epoch ("dynamic binarization", the paper's MNIST setting) for grey-level data.

Datasets (``DATASETS``):

- ``"digits"``: scikit-learn's 8x8 digits (1,797 images, grey levels 0..16, scaled by
  1/16). Embedded in scikit-learn, no files, no download: the default for a first run.
- ``"mnist"``: the original IDX files (``train-images-idx3-ubyte.gz`` ...) or Keras's
  ``mnist.npz``. Grey levels ``/255``; dynamically binarized at training time.
- ``"binarized_mnist"``: the static binarization of Salakhutdinov & Murray (2008) as
  distributed by H. Larochelle, ``binarized_mnist_{train,valid,test}.amat[.gz]``; already
  0/1, no labels.
- ``"fashion_mnist"``: Zalando's Fashion-MNIST, same IDX format as MNIST (the Debian
  package ``dataset-fashion-mnist`` installs it under ``/usr/share/datasets/fashion-mnist/``).

Splits (``SPLITS``), the same rule for every dataset:

- ``train``: the training file without its last sixth: MNIST/Fashion 50,000, binarized
  MNIST 50,000 (its own file), digits 1,250 (images 0..1249);
- ``valid``: the last sixth of the training file: 10,000 (binarized MNIST: its own
  ``valid`` file), digits 250 (images 1250..1499);
- ``test``: the test file: 10,000; digits 297 (images 1500..1796);
- ``train_full``: ``train`` + ``valid``: 60,000; digits 1,500 (images 0..1499).

The 50,000 / 10,000 / 10,000 split is the paper's ("MNIST ... includes 50,000 ...
images", Vinci et al. Sec. V) and the one binarized MNIST ships with, so ``"valid"``
never overlaps ``"train"``. Use ``"train_full"`` for the 60,000-image convention.

Where files are looked for (first hit wins; see :func:`search_locations`):

1. the ``data_dir`` argument, and its dataset subfolders (``mnist/``,
   ``mnist/binarized/``, ``binarized_mnist/``, ``fashion-mnist/``, ``fashion_mnist/``);
2. ``$QHVAE_DATA_DIR`` and the same subfolders (Fashion-MNIST only in its subfolders,
   since its file names are MNIST's);
3. the Keras cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``; also
   ``/tmp/.keras/datasets``, where Keras writes when the home is read-only):
   ``mnist.npz``, ``fashion-mnist/``, ``binarized_mnist/``;
4. ``/usr/share/datasets/<name>/`` (Debian's ``dataset-*`` packages);
5. a download, only with ``allow_download=True`` (never by default): MNIST and
   Fashion-MNIST through ``keras.datasets``, binarized MNIST through
   ``keras.utils.get_file`` from Larochelle's server, all into the Keras cache.

When nothing is found, :class:`FileNotFoundError` lists every folder searched.

Integrity: when a ``SHA256SUMS*`` file (``sha256sum`` format, or BSD ``SHA256 (f) = h``)
sits beside a data file, the file is checked against it; an entry for ``name`` is the
hash of the file's bytes, an entry for ``name`` without its ``.gz`` is the hash of the
decompressed content (the form of ``SHA256SUMS.uncompressed``). The decompressed content
of the canonical files is also checked against known constants (:data:`KNOWN_SHA256`),
so a re-gzipped copy (e.g. Debian's Fashion-MNIST, whose ``.gz`` bytes differ from
upstream) still verifies while a corrupted one does not. A mismatch raises
:class:`ValueError` naming the file, the expected and the actual hash; pass
``verify=False`` for your own, non-canonical files. Parsed arrays and hashes are cached
in the process, keyed on (real path, size, mtime), so repeated loads are cheap
(:func:`clear_cache` empties it).

Example:
    >>> from qhvae.data import load_dataset
    >>> ds = load_dataset("digits", "train")
    >>> ds.images.shape, ds.images.dtype.name, ds.binarized
    ((1250, 8, 8, 1), 'float32', False)
    >>> float(ds.images.min()), float(ds.images.max())
    (0.0, 1.0)
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import re
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

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

#: Names accepted by :func:`load_dataset` (``-`` and ``_`` are interchangeable, any case).
DATASETS: tuple[str, ...] = ("digits", "mnist", "binarized_mnist", "fashion_mnist")

#: Splits accepted by :func:`load_dataset`.
SPLITS: tuple[str, ...] = ("train", "valid", "test", "train_full")

_ENV_VAR = "QHVAE_DATA_DIR"
_SYSTEM_DIR = Path("/usr/share/datasets")

# sha256 of the *decompressed* content of the canonical files, by (dataset, file role).
# MNIST: the original IDX files, identical to /work/shared/data/mnist and to TFDS's.
# binarized_mnist: Larochelle's .amat files (equal to the SHA256SUMS.uncompressed beside
# the shared copy and to TFDS's records). fashion_mnist: the IDX content of the Debian
# package dataset-fashion-mnist 0.0~git20200523.55506a9-1, which re-gzipped upstream's
# files (its .gz bytes no longer match upstream's published md5s, its content does
# match in size and decompresses to the 60,000/10,000 images with 6,000/1,000 per class).
# "npz": sha256 of the raw file keras.datasets.mnist.load_data() downloads.
#: sha256 of the decompressed content of canonical data files, ``{dataset: {role: hash}}``.
KNOWN_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "test-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "test-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    },
    "binarized_mnist": {
        "train": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
        "valid": "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
        "test": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
    },
    "fashion_mnist": {
        "train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

_BINARIZED_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"


# --------------------------------------------------------------------------------------
# as_images: validation of user arrays
# --------------------------------------------------------------------------------------


def as_images(
    array: Any, *, name: str = "images", scale: str | float = "auto", atol: float = 1e-6
) -> np.ndarray:
    """Validate an array of single-channel images and return it as float32 ``(N, H, W, 1)``.

    The VAE calls this on whatever data users hand it, so mistakes surface here with a
    clear message rather than as a NaN loss later.

    Accepted input (numpy arrays, lists, eager tensors):

    - shapes ``(N, H, W)`` or ``(N, H, W, 1)`` with ``N, H, W >= 1``;
    - unsigned/signed integers or booleans: 0/1 values are taken as binary images as they
      are; otherwise values in ``0..255`` are grey levels, divided by 255 (``uint8`` MNIST);
    - floats: finite values in ``[0, 1]`` (values within ``atol`` outside are clipped).

    Args:
        array: The images.
        name: What to call the array in error messages.
        scale: ``"auto"`` (the rules above) or a number to divide by (e.g. ``255`` or
            ``16``; ``1`` keeps values as they are); the result must lie in ``[0, 1]``.
        atol: Tolerance for float values slightly outside ``[0, 1]``.

    Returns:
        A C-contiguous float32 array of shape ``(N, H, W, 1)`` with values in ``[0, 1]``
        (the input itself when it already is one).

    Raises:
        TypeError: Non-numeric data (strings, objects, complex numbers).
        ValueError: Wrong rank, more than one channel, empty, NaN/inf, or values outside
            the accepted range; the message says which and how to fix it.

    Example:
        >>> import numpy as np
        >>> as_images(np.array([[[0, 255], [128, 0]]], dtype=np.uint8)).shape
        (1, 2, 2, 1)
        >>> float(as_images(np.full((2, 3, 3), 255, np.uint8)).max())
        1.0
        >>> as_images(np.full((2, 3, 3), 2.0))
        Traceback (most recent call last):
        ...
        ValueError: images: values must lie in [0, 1] for float data, got range [2, 2]; \
grey levels in 0..255 should be divided by 255 first (or pass scale=255)
    """
    try:
        arr = np.asarray(array)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name}: cannot be converted to an array ({exc})") from exc
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name}: expected a numeric array (bool, integer or float), got dtype {arr.dtype}"
        )
    if arr.ndim == 4:
        if arr.shape[-1] != 1:
            raise ValueError(
                f"{name}: expected single-channel images (N, H, W) or (N, H, W, 1), got shape "
                f"{arr.shape} with {arr.shape[-1]} channels; convert to grey levels first"
            )
    elif arr.ndim == 3:
        arr = arr[..., np.newaxis]
    else:
        hint = ""
        if arr.ndim == 2:
            hint = (
                "; a batch of flattened images (N, H*W) must be reshaped, e.g. "
                "array.reshape(-1, 28, 28), and a single image needs a batch axis: array[None]"
            )
        raise ValueError(
            f"{name}: expected shape (N, H, W) or (N, H, W, 1), got {arr.ndim}-d shape "
            f"{arr.shape}{hint}"
        )
    if arr.size == 0:
        raise ValueError(f"{name}: is empty (shape {arr.shape}); need at least one image")

    lo, hi = float(arr.min()), float(arr.max())  # NaN propagates through min/max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: contains {bad} NaN or infinite value(s)")

    if scale == "auto":
        if kind in "biu":
            if lo < 0 or hi > 255:
                raise ValueError(
                    f"{name}: integer images must hold grey levels 0..255 or binary 0/1, got "
                    f"range [{lo:g}, {hi:g}]"
                )
            divisor = 1.0 if hi <= 1 else 255.0
        else:
            divisor = 1.0
            if lo < -atol or hi > 1 + atol:
                hint = (
                    "; grey levels in 0..255 should be divided by 255 first (or pass scale=255)"
                    if lo >= 0 and hi <= 255
                    else ""
                )
                raise ValueError(
                    f"{name}: values must lie in [0, 1] for float data, got range "
                    f"[{lo:g}, {hi:g}]{hint}"
                )
    else:
        try:
            divisor = float(scale)
        except (TypeError, ValueError):
            raise ValueError(f"scale must be 'auto' or a positive number, got {scale!r}") from None
        if not np.isfinite(divisor) or divisor <= 0:
            raise ValueError(f"scale must be 'auto' or a positive number, got {scale!r}")
        if lo / divisor < -atol or hi / divisor > 1 + atol:
            raise ValueError(
                f"{name}: values divided by scale={scale:g} must lie in [0, 1], got range "
                f"[{lo / divisor:g}, {hi / divisor:g}]"
            )

    if arr.dtype == np.float32 and divisor == 1.0 and lo >= 0 and hi <= 1:
        return np.ascontiguousarray(arr)
    out = arr.astype(np.float32)
    if divisor != 1.0:
        out /= np.float32(divisor)
    if kind == "f" and (lo < 0 or hi > 1):
        np.clip(out, 0.0, 1.0, out=out)
    return np.ascontiguousarray(out)


# --------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class Dataset:
    """Images (and labels) of one split of one dataset, in memory.

    Attributes:
        images: float32 array ``(N, H, W, 1)`` with values in ``[0, 1]``: grey levels, or
            exactly 0/1 when ``binarized``.
        labels: int64 array ``(N,)`` of class labels, or ``None`` (binarized MNIST has none).
        name: Dataset name, one of :data:`DATASETS` (or anything for user data).
        split: Split name, one of :data:`SPLITS` (or anything for user data).
        binarized: True for statically binarized data (values exactly 0/1), which
            ``to_tf`` does not resample by default.
        source: Where the data came from: a file path (several joined by ``" + "``) or
            ``"sklearn.datasets.load_digits"``.

    Images are validated with :func:`as_images` on construction, so a ``Dataset`` can be
    built from any user array: ``Dataset(my_uint8_images, None, "mine", "train", False, "")``.

    Example:
        >>> ds = load_dataset("digits", "test")
        >>> len(ds), ds.image_shape, ds.labels[:5].tolist()
        (297, (8, 8, 1), [1, 7, 4, 6, 3])
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    name: str = "custom"
    split: str = "train"
    binarized: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        self.images = as_images(self.images, name=f"{self.name}/{self.split} images")
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.dtype.kind not in "iu" or labels.ndim != 1:
                raise ValueError(
                    f"{self.name}/{self.split}: labels must be a 1-d integer array, got dtype "
                    f"{labels.dtype} and shape {labels.shape}"
                )
            if len(labels) != len(self.images):
                raise ValueError(
                    f"{self.name}/{self.split}: {len(labels)} labels for {len(self.images)} images"
                )
            self.labels = labels.astype(np.int64, copy=False)
        if self.binarized and not np.all((self.images == 0) | (self.images == 1)):
            raise ValueError(
                f"{self.name}/{self.split}: binarized=True but the images hold values other "
                "than 0 and 1"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, split={self.split!r}, images={self.images.shape}, "
            f"labels={'None' if self.labels is None else self.labels.shape}, "
            f"binarized={self.binarized}, source={self.source!r})"
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, 1)``, the shape of one image (the VAE's input shape)."""
        return tuple(int(d) for d in self.images.shape[1:])  # type: ignore[return-value]

    def take(self, n: int) -> "Dataset":
        """The first ``n`` examples (all of them if there are fewer), as a new Dataset.

        Example:
            >>> len(load_dataset("digits").take(10))
            10
        """
        if int(n) < 1:
            raise ValueError(f"take(n) needs n >= 1, got {n}")
        n = int(n)
        return Dataset(
            self.images[:n],
            None if self.labels is None else self.labels[:n],
            self.name,
            self.split,
            self.binarized,
            self.source,
        )

    def binarize(self, seed: int | None = 0) -> "Dataset":
        """One fixed Bernoulli draw ``x ~ Bernoulli(grey level)``, as a static binarized copy.

        Use it to evaluate on a fixed binarization of a grey-level test set
        (``seed`` makes it reproducible; numpy's ``default_rng(seed)``).

        Example:
            >>> b = load_dataset("digits", "test").binarize(seed=0)
            >>> b.binarized, sorted(set(b.images.ravel().tolist()))
            (True, [0.0, 1.0])
        """
        rng = np.random.default_rng(seed)
        draws = (rng.random(self.images.shape, dtype=np.float32) < self.images).astype(np.float32)
        return Dataset(draws, self.labels, self.name, self.split, True, self.source)

    def to_tf(
        self,
        batch_size: int,
        shuffle: bool = True,
        seed: int | None = None,
        dynamic_binarization: bool | None = None,
        drop_remainder: bool = False,
        prefetch: bool = True,
    ):
        """A ``tf.data.Dataset`` of float32 image batches ``(B, H, W, 1)``, images only.

        ``model.fit(ds.to_tf(100), epochs=...)`` trains the (unsupervised) VAE; labels are
        not yielded.

        Dynamic binarization replaces every pixel by a fresh draw ``Bernoulli(grey level)``
        each time the dataset is iterated (each epoch). The draws use
        ``tf.random.stateless_uniform`` with a per-batch seed pair taken from
        ``tf.data.Dataset.random(seed, rerandomize_each_iteration=True)``, so they happen
        inside the pipeline (no Python per batch) and differ between epochs. Shuffling
        uses ``shuffle(seed=seed, reshuffle_each_iteration=True)``, a new order per epoch.

        Reproducibility: with an integer ``seed``, the k-th iteration over the returned
        object yields the same batches (order and draws) in every run of a fresh process;
        a newly built object starts again from epoch 0's. With ``seed=None`` the seeds
        come from TensorFlow's global seed (``tf.random.set_seed``), or are random.

        Args:
            batch_size: Images per batch (>= 1).
            shuffle: Shuffle the images (all of them, not a window) every epoch.
            seed: Seed for the shuffle order and the binarization draws.
            dynamic_binarization: Resample 0/1 images every epoch. ``None`` (default)
                means yes for grey-level data, no for statically binarized data.
            drop_remainder: Drop a last, smaller batch (fixed batch shape).
            prefetch: Append ``prefetch(tf.data.AUTOTUNE)``.

        Returns:
            ``tf.data.Dataset`` with element spec ``TensorSpec((None|B, H, W, 1), float32)``.

        Example:
            >>> ds = load_dataset("digits", "train").to_tf(256, seed=0)
            >>> x = next(iter(ds))
            >>> tuple(x.shape), x.dtype.name, sorted(set(x.numpy().ravel().tolist()))
            ((256, 8, 8, 1), 'float32', [0.0, 1.0])
        """
        import tensorflow as tf

        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        batch_size = int(batch_size)
        if dynamic_binarization is None:
            dynamic_binarization = not self.binarized
        n = len(self)
        images = tf.convert_to_tensor(self.images, dtype=tf.float32)

        index = tf.data.Dataset.range(n)
        if shuffle:
            index = index.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        index = index.batch(batch_size, drop_remainder=drop_remainder)
        ds = index.map(lambda i: tf.gather(images, i), num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
        if dynamic_binarization:
            # A separate op seed for the draws, decorrelated from the shuffle's.
            draw_seed = None if seed is None else (int(seed) * 2654435761 + 97) % (2**31 - 1)
            seeds = tf.data.Dataset.random(seed=draw_seed, rerandomize_each_iteration=True).batch(2)

            def _draw(x, pair):
                u = tf.random.stateless_uniform(tf.shape(x), seed=pair, dtype=tf.float32)
                return tf.cast(u < x, tf.float32)

            ds = tf.data.Dataset.zip((ds, seeds)).map(
                _draw, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
            )
        if prefetch:
            ds = ds.prefetch(tf.data.AUTOTUNE)
        return ds


# --------------------------------------------------------------------------------------
# File parsing (with a process-wide cache)
# --------------------------------------------------------------------------------------

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _decompress(raw: bytes, path: Path) -> bytes:
    """Content of ``raw``: gunzip/bunzip2/unxz by magic bytes, else ``raw`` itself."""
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
        if raw[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(raw)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated compressed file ({type(exc).__name__}: {exc})"
        ) from exc
    return raw


def read_idx(
    data: bytes, path: str | os.PathLike = "<bytes>", ndim: int | None = None
) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file, as used by MNIST and Fashion-MNIST.

    Format: two zero bytes, a type code (``0x08`` unsigned byte, ``0x09`` signed byte,
    ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of
    dimensions, then each dimension as a big-endian uint32, then the data, big-endian.
    MNIST images have magic number ``0x00000803``, labels ``0x00000801``.

    Args:
        data: The file's (decompressed) bytes.
        path: The file name, for error messages.
        ndim: Required number of dimensions, if any.

    Returns:
        A read-only array view of ``data`` with the header's shape and type.

    Raises:
        ValueError: Wrong magic number, wrong rank, or a size that does not match the
            header (truncated file or trailing bytes); the message names the file.

    Example:
        >>> read_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])).tolist()
        [7, 8, 9]
    """
    if len(data) < 4:
        raise ValueError(
            f"{path}: not an IDX file: only {len(data)} byte(s), the header alone is 4+"
        )
    magic = struct.unpack(">I", data[:4])[0]
    code, dims_n = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file: bad magic number 0x{magic:08X} (expected 0x0000TTNN with "
            "type TT in 08/09/0B/0C/0D/0E, e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    if ndim is not None and dims_n != ndim:
        raise ValueError(
            f"{path}: IDX file has {dims_n} dimension(s) (magic 0x{magic:08X}), expected {ndim} "
            f"(0x{0x800 + ndim:08X})"
        )
    header = 4 + 4 * dims_n
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, needs {header})")
    shape = struct.unpack(f">{dims_n}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) < expected:
        raise ValueError(
            f"{path}: truncated IDX file: header says shape {shape} ({expected} bytes) but the "
            f"file has {len(data)} bytes"
        )
    if len(data) > expected:
        raise ValueError(
            f"{path}: malformed IDX file: {len(data) - expected} unexpected trailing bytes after "
            f"the data of shape {shape}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr


def read_amat(data: bytes, path: str | os.PathLike = "<bytes>", width: int = 784) -> np.ndarray:
    """Parse Larochelle's ``.amat`` text format: one image per line, ``width`` 0/1 values.

    The canonical layout (``"d d ... d\\n"``, 2 x ``width`` bytes a line) is parsed as a
    strided view of the bytes (0.1 s for the 50,000-image training file; ``np.loadtxt``
    takes 0.3 s, ``np.loadtxt`` of numpy < 1.23 about a minute). Other layouts (``1.0``,
    tabs, CRLF line ends) fall back to ``np.loadtxt``; the values must still be 0 or 1.

    Args:
        data: The file's (decompressed) bytes.
        path: The file name, for error messages.
        width: Values per line (784 = 28 x 28).

    Returns:
        uint8 array ``(N, width)`` of 0/1 values.

    Raises:
        ValueError: A line with the wrong number of values, or values other than 0/1.

    Example:
        >>> read_amat(b"0 1 1 0\\n1 1 0 0\\n", width=4).tolist()
        [[0, 1, 1, 0], [1, 1, 0, 0]]
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if not data.strip():
        raise ValueError(f"{path}: empty .amat file, no images")
    # Canonical layout: "d d ... d\n", 2 * width bytes per line.
    line = 2 * width
    full = buf if buf[-1] == ord("\n") else np.append(buf, np.uint8(ord("\n")))
    if full.size % line == 0:
        rows = full.reshape(-1, line)
        vals, seps = rows[:, 0::2], rows[:, 1::2]
        if (
            np.all(seps[:, -1] == ord("\n"))
            and np.all(seps[:, :-1] == ord(" "))
            and np.all((vals == ord("0")) | (vals == ord("1")))
        ):
            return vals - np.uint8(ord("0"))
    # Any other layout ("1.0", tabs, CRLF ...): numpy's C text reader.
    import io

    try:
        values = np.loadtxt(io.BytesIO(data), dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: malformed .amat file ({exc})") from None
    if values.size == 0:
        raise ValueError(f"{path}: no images in .amat file")
    if values.shape[1] != width:
        raise ValueError(
            f"{path}: malformed .amat file: {values.shape[1]} values per line, expected {width} "
            "(28 x 28)"
        )
    if not np.all((values == 0) | (values == 1)):
        bad = values[(values != 0) & (values != 1)]
        raise ValueError(
            f"{path}: statically binarized data must be 0/1, found values such as "
            f"{bad[:3].tolist()}"
        )
    return values.astype(np.uint8)


@dataclass
class _FileRecord:
    raw_sha256: str
    content_sha256: str
    value: Any  # parsed array, or dict of arrays for .npz


_CACHE: "OrderedDict[tuple, _FileRecord]" = OrderedDict()
_SUMS_CACHE: dict[tuple, dict[str, tuple[str, str]]] = {}
_CACHE_LOCK = threading.RLock()
_CACHE_MAX = 16


def clear_cache() -> None:
    """Forget parsed files and computed hashes (they are otherwise kept per process)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _SUMS_CACHE.clear()


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _read_file(
    path: Path, parser: Callable[[bytes, Path], Any], check: tuple[str, str] | None = None
) -> _FileRecord:
    """Read, hash and parse ``path`` once per (path, size, mtime); cached.

    With ``check=(dataset, role)`` the file is verified (:func:`_verify_raw` before it is
    decompressed, :func:`_verify_content` before it is parsed), also on cache hits.
    """
    key = _file_key(path) + (getattr(parser, "__name__", repr(parser)),)
    with _CACHE_LOCK:
        rec = _CACHE.get(key)
        if rec is not None:
            _CACHE.move_to_end(key)
    if rec is not None:
        if check:
            _verify_raw(path, rec.raw_sha256, *check)
            _verify_content(path, rec.content_sha256, *check)
        return rec
    raw = path.read_bytes()
    raw_sha = hashlib.sha256(raw).hexdigest()
    if check:
        _verify_raw(path, raw_sha, *check)
    content = _decompress(raw, path)
    content_sha = raw_sha if content is raw else hashlib.sha256(content).hexdigest()
    if check:
        _verify_content(path, content_sha, *check)
    value = parser(content, path)
    rec = _FileRecord(raw_sha, content_sha, value)
    with _CACHE_LOCK:
        _CACHE[key] = rec
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return rec


_SIGNATURE_SUFFIXES = {".asc", ".gpg", ".sig", ".sign"}
_SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$")
_BSD_LINE = re.compile(r"^SHA256\s*\((.+)\)\s*=\s*([0-9a-fA-F]{64})\s*$")


def _sidecar_sums(directory: Path) -> dict[str, tuple[str, str]]:
    """``{file name: (sha256, sums file)}`` from SHA256SUMS* files in ``directory``."""
    entries: dict[str, tuple[str, str]] = {}
    try:
        candidates = sorted(
            p for p in directory.iterdir()
            if p.is_file()
            and (p.name.upper().startswith("SHA256SUMS") or p.suffix == ".sha256")
            and p.suffix.lower() not in _SIGNATURE_SUFFIXES
        )
    except OSError:
        return entries
    for sums in candidates:
        key = _file_key(sums)
        with _CACHE_LOCK:
            parsed = _SUMS_CACHE.get(key)
        if parsed is None:
            parsed = {}
            text = sums.read_text(encoding="utf-8", errors="replace")
            for lineno, line in enumerate(text.splitlines(), 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = _SUMS_LINE.match(line)
                if m:
                    digest, fname = m.group(1), m.group(2)
                else:
                    m = _BSD_LINE.match(line)
                    if not m:
                        raise ValueError(
                            f"{sums}: line {lineno} is not a sha256 checksum line "
                            f"('<64 hex digits>  <file name>'): {line[:80]!r}; fix or remove it, "
                            "or pass verify=False"
                        )
                    fname, digest = m.group(1), m.group(2)
                fname = fname[2:] if fname.startswith("./") else fname
                parsed[Path(fname).name] = (digest.lower(), str(sums))
            with _CACHE_LOCK:
                _SUMS_CACHE[key] = parsed
        entries.update(parsed)
    return entries


def _mismatch(path: Path, expected: str, actual: str, against: str, what: str) -> ValueError:
    return ValueError(
        f"checksum mismatch for {path} ({what}): expected sha256 {expected} ({against}), got "
        f"{actual}. The file is corrupted, truncated or not the expected data; replace it "
        "(or pass verify=False to load it anyway)."
    )


def _verify_raw(path: Path, raw_sha: str, dataset: str, role: str) -> None:
    """Check the file's bytes against a SHA256SUMS entry for its name (and a known npz)."""
    sums = _sidecar_sums(path.parent)
    if path.name in sums:
        expected, sums_file = sums[path.name]
        if raw_sha != expected:
            raise _mismatch(path, expected, raw_sha, sums_file, "file bytes")
    if role == "npz":
        _verify_known(path, raw_sha, dataset, role, "file bytes")


def _verify_content(path: Path, content_sha: str, dataset: str, role: str) -> None:
    """Check decompressed content against SHA256SUMS entries for the name without .gz
    (the ``SHA256SUMS.uncompressed`` form) and against :data:`KNOWN_SHA256`."""
    sums = _sidecar_sums(path.parent)
    base = path.name
    for suffix in (".gz", ".bz2", ".xz"):
        if base.endswith(suffix) and base[: -len(suffix)] in sums:
            expected, sums_file = sums[base[: -len(suffix)]]
            if content_sha != expected:
                raise _mismatch(path, expected, content_sha, sums_file, "decompressed content")
    if role != "npz":
        _verify_known(path, content_sha, dataset, role, "decompressed content")


def _verify_known(path: Path, actual: str, dataset: str, role: str, what: str) -> None:
    known = KNOWN_SHA256.get(dataset, {}).get(role)
    if known is None or actual == known:
        return
    others = [n for n, table in KNOWN_SHA256.items() if n != dataset and actual in table.values()]
    note = f" It is the canonical {others[0]} file, not {dataset}." if others else ""
    err = _mismatch(path, known, actual, f"known canonical {dataset} {role}", what)
    raise ValueError(str(err) + note)


# --------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchLocation:
    """One folder :func:`load_dataset` looks in, and why (``"data_dir argument"``, ...)."""

    path: Path
    origin: str

    def __str__(self) -> str:
        return f"{self.path} ({self.origin})"


_SUBDIRS = {
    "mnist": ("mnist", "MNIST"),
    "binarized_mnist": ("binarized_mnist", "binarized-mnist", "mnist/binarized"),
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
}
_SYSTEM_SUBDIRS = {
    "mnist": ("mnist",),
    "binarized_mnist": ("binarized_mnist", "binarized-mnist", "mnist/binarized"),
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
}
_KERAS_SUBDIRS = {
    "mnist": ("", "mnist"),
    "binarized_mnist": ("binarized_mnist",),
    "fashion_mnist": ("fashion-mnist",),
}


def _keras_datasets_dirs() -> list[Path]:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    dirs = [Path(home) / "datasets", Path("/tmp/.keras/datasets")]
    return list(dict.fromkeys(dirs))


def search_locations(name: str, data_dir: str | os.PathLike | None = None) -> list[SearchLocation]:
    """The folders searched for dataset ``name``, in order (they need not exist).

    Args:
        name: A dataset in :data:`DATASETS` (``"digits"`` needs no files: empty list).
        data_dir: The explicit folder, if any.

    Example:
        >>> [str(loc.path) for loc in search_locations("mnist", "/data")][:2]
        ['/data', '/data/mnist']
    """
    name = _canonical_name(name)
    if name == "digits":
        return []
    locs: list[SearchLocation] = []
    if data_dir is not None:
        root = Path(os.fspath(data_dir)).expanduser()
        locs.append(SearchLocation(root, "data_dir argument"))
        locs += [SearchLocation(root / s, "data_dir argument") for s in _SUBDIRS[name]]
    env = os.environ.get(_ENV_VAR)
    if env:
        root = Path(env).expanduser()
        if name != "fashion_mnist":  # its file names are MNIST's: only in its own folder
            locs.append(SearchLocation(root, f"${_ENV_VAR}"))
        locs += [SearchLocation(root / s, f"${_ENV_VAR}") for s in _SUBDIRS[name]]
    for kdir in _keras_datasets_dirs():
        locs += [
            SearchLocation(kdir / s if s else kdir, "Keras cache") for s in _KERAS_SUBDIRS[name]
        ]
    locs += [SearchLocation(_SYSTEM_DIR / s, "system datasets") for s in _SYSTEM_SUBDIRS[name]]
    seen: set[Path] = set()
    unique = []
    for loc in locs:
        if loc.path not in seen:
            seen.add(loc.path)
            unique.append(loc)
    return unique


def _idx_names(prefix: str, kind: str) -> list[str]:
    """File names for IDX images/labels, e.g. train-images-idx3-ubyte(.gz)."""
    idx = "idx3" if kind == "images" else "idx1"
    prefixes = ["t10k", "test"] if prefix == "test" else ["train"]
    names = []
    for p in prefixes:
        for stem in (f"{p}-{kind}-{idx}-ubyte", f"{p}-{kind}.{idx}-ubyte"):
            names += [stem + ".gz", stem]
    return names


def _first_existing(directory: Path, names: Sequence[str]) -> Path | None:
    for fname in names:
        p = directory / fname
        if p.is_file():
            return p
    return None


class _NotFound(Exception):
    def __init__(self, wanted: str, locations: list[SearchLocation]):
        self.wanted = wanted
        self.locations = locations


def _find(name: str, locations: list[SearchLocation], wanted: dict[str, Sequence[str]]):
    """First location holding one of the files of any group in ``wanted`` (in order)."""
    for loc in locations:
        for group, names in wanted.items():
            p = _first_existing(loc.path, names)
            if p is not None:
                return group, p
    described = "; ".join(f"{', '.join(names)}" for names in wanted.values())
    raise _NotFound(described, locations)


def _not_found_error(name: str, split: str, nf: _NotFound, allow_download: bool,
                     download_note: str = "") -> FileNotFoundError:
    lines = [
        f"Could not find the {name!r} data for split {split!r}.",
        f"Looked for: {nf.wanted}",
        "in these folders, in this order:",
    ]
    for i, loc in enumerate(nf.locations, 1):
        exists = "" if loc.path.is_dir() else "  [no such folder]"
        lines.append(f"  {i}. {loc.path}  ({loc.origin}){exists}")
    if not os.environ.get(_ENV_VAR):
        lines.append(f"  (${_ENV_VAR} is not set, so no folder came from it)")
    if allow_download:
        lines.append(f"A download was tried and did not produce the files{download_note}.")
    else:
        lines.append("No download was tried (allow_download=False, the default).")
    sub = _SUBDIRS[name][0]
    dl = {
        "mnist": "keras.datasets.mnist.load_data()",
        "fashion_mnist": "keras.datasets.fashion_mnist.load_data()",
        "binarized_mnist": f"keras.utils.get_file() from {_BINARIZED_URL}",
    }[name]
    lines.append(
        f"To fix it: pass data_dir='/path/to/folder' holding the files, or set "
        f"{_ENV_VAR}=/path/to/data (a folder with the files or a '{sub}/' subfolder), "
        + (
            "or install the Debian package dataset-fashion-mnist, "
            if name == "fashion_mnist"
            else ""
        )
        + f"or pass allow_download=True to fetch them into the Keras cache with {dl} "
        "(needs internet)."
    )
    return FileNotFoundError("\n".join(lines))


# --------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------


def _canonical_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    canon = name.strip().lower().replace("-", "_")
    if canon not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return canon


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    return split


def _split_train_file(n: int, split: str) -> slice:
    """Rows of a training file for split train / valid / train_full (valid = last sixth)."""
    n_valid = n // 6
    if split == "train":
        return slice(0, n - n_valid)
    if split == "valid":
        return slice(n - n_valid, n)
    return slice(0, n)


def _load_digits(split: str) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / np.float32(16.0)
    labels = bunch.target.astype(np.int64)
    n_train = 1500
    rows = slice(n_train, None) if split == "test" else _split_train_file(n_train, split)
    return Dataset(images[rows], labels[rows], "digits", split, False,
                   "sklearn.datasets.load_digits")


def _parse_idx_images(content: bytes, path: Path) -> np.ndarray:
    return _parse_idx_bytes(content, path, ndim=3, what="images")


def _parse_idx_labels(content: bytes, path: Path) -> np.ndarray:
    return _parse_idx_bytes(content, path, ndim=1, what="labels")


def _parse_idx_bytes(content: bytes, path: Path, ndim: int, what: str) -> np.ndarray:
    """An unsigned-byte IDX array of ``ndim`` dimensions (MNIST's images and labels)."""
    arr = read_idx(content, path, ndim=ndim)
    if arr.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected unsigned-byte IDX {what} (magic 0x0000080{ndim}), got {arr.dtype}"
        )
    return arr


def _parse_npz(content: bytes, path: Path) -> dict[str, np.ndarray]:
    import io

    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from exc
    need = {"x_train", "y_train", "x_test", "y_test"}
    if not need <= set(arrays):
        raise ValueError(
            f"{path}: expected arrays {sorted(need)} (keras.datasets format), found "
            f"{sorted(arrays)}"
        )
    return arrays


def _parse_amat(content: bytes, path: Path) -> np.ndarray:
    return read_amat(content, path)


def _download(name: str) -> str:
    """Fetch ``name`` into the Keras cache; returns a note for error messages."""
    import keras

    if name == "mnist":
        keras.datasets.mnist.load_data()
    elif name == "fashion_mnist":
        keras.datasets.fashion_mnist.load_data()
    else:
        for part in ("train", "valid", "test"):
            fname = f"binarized_mnist_{part}.amat"
            keras.utils.get_file(
                fname, origin=_BINARIZED_URL + fname,
                file_hash=KNOWN_SHA256["binarized_mnist"][part],
                cache_subdir=os.path.join("datasets", "binarized_mnist"),
            )
    return ""


def _load_idx_dataset(
    name: str, split: str, data_dir, verify: bool, allow_download: bool
) -> Dataset:
    prefix = "test" if split == "test" else "train"
    wanted: dict[str, Sequence[str]] = {"idx": _idx_names(prefix, "images")}
    if name == "mnist":
        wanted["npz"] = ["mnist.npz"]
    locations = search_locations(name, data_dir)
    note = ""
    try:
        group, path = _find(name, locations, wanted)
    except _NotFound as nf:
        if not allow_download:
            raise _not_found_error(name, split, nf, False) from None
        try:
            note = _download(name)
        except Exception as exc:  # no network, etc.
            raise _not_found_error(
                name, split, nf, True, f" ({type(exc).__name__}: {exc})"
            ) from exc
        try:
            group, path = _find(name, search_locations(name, data_dir), wanted)
        except _NotFound as nf2:
            raise _not_found_error(name, split, nf2, True, note) from None

    if group == "npz":
        rec = _read_file(path, _parse_npz, (name, "npz") if verify else None)
        key = "test" if prefix == "test" else "train"
        x, y = rec.value[f"x_{key}"], rec.value[f"y_{key}"]
        if x.ndim != 3 or x.dtype != np.uint8 or y.shape != (len(x),):
            raise ValueError(
                f"{path}: x_{key} must be uint8 (N, H, W) with N labels, got x {x.dtype} "
                f"{x.shape}, y {y.shape}"
            )
        sources = [str(path)]
    else:
        rec = _read_file(path, _parse_idx_images, (name, f"{prefix}-images") if verify else None)
        x = rec.value
        sources = [str(path)]
        y = None
        label_path = _first_existing(path.parent, _idx_names(prefix, "labels"))
        if label_path is not None:
            lrec = _read_file(
                label_path, _parse_idx_labels, (name, f"{prefix}-labels") if verify else None
            )
            y = lrec.value
            if len(y) != len(x):
                raise ValueError(f"{label_path}: {len(y)} labels for {len(x)} images in {path}")
            sources.append(str(label_path))

    rows = slice(None) if prefix == "test" else _split_train_file(len(x), split)
    images = x[rows].astype(np.float32)
    images /= np.float32(255.0)
    labels = None if y is None else y[rows].astype(np.int64)
    return Dataset(images[..., None], labels, name, split, False, " + ".join(sources))


def _load_binarized(split: str, data_dir, verify: bool, allow_download: bool) -> Dataset:
    parts = ["train", "valid"] if split == "train_full" else [split]
    locations = search_locations("binarized_mnist", data_dir)
    arrays, sources = [], []
    for part in parts:
        names = [f"binarized_mnist_{part}.amat{ext}" for ext in (".gz", "", ".bz2", ".xz")]
        wanted = {"amat": names}
        try:
            _, path = _find("binarized_mnist", locations, wanted)
        except _NotFound as nf:
            if not allow_download:
                raise _not_found_error("binarized_mnist", split, nf, False) from None
            try:
                note = _download("binarized_mnist")
            except Exception as exc:
                raise _not_found_error(
                    "binarized_mnist", split, nf, True, f" ({type(exc).__name__}: {exc})"
                ) from exc
            try:
                again = search_locations("binarized_mnist", data_dir)
                _, path = _find("binarized_mnist", again, wanted)
            except _NotFound as nf2:
                raise _not_found_error("binarized_mnist", split, nf2, True, note) from None
        rec = _read_file(path, _parse_amat, ("binarized_mnist", part) if verify else None)
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
        name: One of :data:`DATASETS`: ``"digits"``, ``"mnist"``, ``"binarized_mnist"``,
            ``"fashion_mnist"`` (case and ``-``/``_`` do not matter).
        split: One of :data:`SPLITS`: ``"train"``, ``"valid"``, ``"test"``,
            ``"train_full"`` (see the module docstring for what each holds).
        data_dir: A folder to look in first (the files themselves, or dataset
            subfolders such as ``mnist/``); the search then goes on as listed in the module
            docstring (``$QHVAE_DATA_DIR``, Keras cache, ``/usr/share/datasets``).
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
        FileNotFoundError: No files found; the message lists every folder searched and
            how to point the loader at the data.

    Example:
        >>> ds = load_dataset("digits", "train_full", limit=100)
        >>> ds.images.shape, ds.labels.shape, ds.source
        ((100, 8, 8, 1), (100,), 'sklearn.datasets.load_digits')
        >>> load_dataset("mnist", data_dir="/data")  # doctest: +SKIP
    """
    canon = _canonical_name(name)
    _check_split(split)
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    if canon == "digits":
        ds = _load_digits(split)
    elif canon == "binarized_mnist":
        ds = _load_binarized(split, data_dir, verify, allow_download)
    else:
        ds = _load_idx_dataset(canon, split, data_dir, verify, allow_download)
    return ds if limit is None else ds.take(int(limit))
