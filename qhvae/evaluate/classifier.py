"""The classifier that judges generated images (issue #23): :class:`ImageClassifier` and its cache.

:mod:`qhvae.evaluate.generated` measures what a conditional model generated in this
classifier's terms (how often it agrees with the class asked for, and how far generated
images lie from real ones in its feature space); this module trains, caches and loads it:

- :class:`ImageClassifier`: a small fully connected Keras network (flatten, 256 ReLU, a
  128-unit ReLU *feature* layer, one logit per class) for a labelled dataset of
  ``(H, W, 1)`` images in ``[0, 1]``: ``"mnist"``, ``"fashion_mnist"``, ``"digits"`` or
  any labelled :class:`~qhvae.data.Dataset`. It is trained on the *binarized* training
  images with a fresh Bernoulli draw each epoch, so it reads binary samples as well as
  grey-level probabilities (what a decoder's means are);
- :func:`load_classifier`: the classifier of a named dataset, trained once and cached on
  disk (no download ever: the data come from :func:`qhvae.data.load_dataset`).

The cache (:func:`default_cache_dir`: the ``cache_dir`` argument, else ``$QHVAE_CACHE_DIR``,
else ``~/.cache/qhvae``) holds one ``.npz`` file per dataset, seed, training data and
architecture (:func:`classifier_cache_path`): the weights and a JSON record with the
classifier's test accuracy. A changed dataset (its labels, image shape or first and last
images, :func:`training_fingerprint`) or a new :data:`ARCHITECTURE_VERSION` makes a new
file, so the classifier is retrained; a damaged file is retrained with a warning.

Cost and quality (measured once with ``load_classifier("mnist")`` on a 2-core CPU shared
with a VAE training job, load average 4 to 5; TensorFlow 2.21, Keras 3.15): the MNIST
classifier trains in 23 s (6 epochs over the 50,000 training images, 2,346 steps of 128;
30 s with loading the data and TensorFlow) and classifies 97.2-97.5 % of a binarization of the test
split correctly (98.1 % of grey levels; training is not bit-for-bit repeatable across machines).
A cached one loads in 0.2 s. The 8x8 digits classifier trains in about 5 s (200 epochs of 1,250 images) to 88 %
(binarized) and 94 % (grey levels): binarizing 8x8 grey-level digits destroys much of
what tells them apart.

Example:
    >>> classifier_cache_path("digits", "0123456789abcdef" * 4, cache_dir="/tmp/c").name
    'classifier-digits-a1-seed0-0123456789abcdef.npz'
    >>> clf = load_classifier("digits")  # doctest: +SKIP
    >>> clf.num_classes, round(clf.test_accuracy, 3)  # doctest: +SKIP
    (10, 0.882)
    >>> clf.predict_labels(load_dataset("digits", "test").images[:5])  # doctest: +SKIP
    array([1, 7, 4, 6, 3])
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset, as_images, load_dataset
from ..data.catalog import DATASETS, canonical_name
from ..exceptions import DataError, DataNotFoundError, QhvaeError, UnknownNameError

__all__ = [
    "ARCHITECTURE_VERSION",
    "as_class_labels",
    "ImageClassifier",
    "classifier_cache_path",
    "default_cache_dir",
    "load_classifier",
    "training_fingerprint",
]
#: The network and its training recipe; part of every cache file's name. Raise it whenever
#: either changes, so that classifiers cached by older code are retrained.
ARCHITECTURE_VERSION = 1
#: Width of the first hidden layer.
HIDDEN_UNITS = 256
#: Width of the penultimate layer, whose activations are the :meth:`ImageClassifier.features`.
FEATURE_UNITS = 128
#: Training batch size and Adam learning rate.
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
#: Training runs for at least this many epochs and at least this many steps (small datasets
#: such as the 1,250 digits get more epochs: ``max(MIN_EPOCHS, ceil(MIN_STEPS / steps))``).
MIN_EPOCHS = 5
MIN_STEPS = 2000
#: The splits of a named dataset the classifier is trained and tested on.
TRAIN_SPLIT = "train"
TEST_SPLIT = "test"
#: ``$QHVAE_CACHE_DIR`` overrides :func:`default_cache_dir`'s ``~/.cache/qhvae``.
CACHE_ENV_VAR = "QHVAE_CACHE_DIR"
#: The ``format`` field of a cache file's record.
_FORMAT = "qhvae-image-classifier"
#: Images per forward pass at inference.
_PREDICT_BATCH = 2048


def _say(console: Any, message: str) -> None:
    if console is not None:
        console.print(message)


def _keras() -> Any:
    from ..tfutil import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    return keras


def _as_image_array(images: Any, name: str) -> np.ndarray:
    """``images`` (an array or a :class:`Dataset`) as float32 ``(N, H, W, 1)``; else a :class:`DataError`."""
    if isinstance(images, Dataset):
        return images.images
    try:
        return as_images(images, name=name)
    except (TypeError, ValueError) as exc:
        raise DataError(str(exc)) from exc


def as_class_labels(labels: Any, n: int, num_classes: int, name: str = "labels") -> np.ndarray:
    """Integer class labels ``(n,)`` in ``[0, num_classes)``; one-hot rows ``(n, C)`` are accepted too.

    Raises:
        DataError: anything else, named by ``name``.

    Example:
        >>> as_class_labels([[0, 1], [1, 0]], 2, 2).tolist()
        [1, 0]
    """
    arr = np.asarray(labels)
    if arr.ndim == 2 and arr.shape[1] == num_classes and arr.dtype.kind in "biuf":
        if not np.all((arr == 0) | (arr == 1)) or not np.all(arr.sum(axis=1) == 1):
            raise DataError(f"{name}: a 2-d label array must be one-hot (one 1 per row), got other values")
        arr = arr.argmax(axis=1)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise DataError(
            f"{name}: expected a 1-d integer array of class labels (or one-hot rows), got dtype {arr.dtype} "
            f"and shape {arr.shape}"
        )
    if len(arr) != n:
        raise DataError(f"{name}: {len(arr)} labels for {n} images")
    if n and (arr.min() < 0 or arr.max() >= num_classes):
        raise DataError(f"{name}: labels must lie in 0..{num_classes - 1}, got range {arr.min()}..{arr.max()}")
    return arr.astype(np.int64, copy=False)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------
# the classifier
# --------------------------------------------------------------------------------------


class ImageClassifier:
    """A small Keras classifier of ``(H, W, 1)`` images in ``[0, 1]``, with a feature layer.

    Flatten, ``Dense(256, relu)``, ``Dense(128, relu)`` (the features), ``Dense(C)`` (logits).
    Build one for a shape and a number of classes, then :meth:`fit` it on a labelled
    :class:`~qhvae.data.Dataset`; or get the trained, cached one of a named dataset with
    :func:`load_classifier`. Images passed to any method may be arrays ``(N, H, W)`` or
    ``(N, H, W, 1)`` (floats in ``[0, 1]``, 0/1 or 8-bit integers, see
    :func:`qhvae.data.as_images`) or a :class:`~qhvae.data.Dataset`.

    Args:
        image_shape: ``(H, W, 1)``, the shape of one image.
        num_classes: Number of classes (labels ``0 .. num_classes - 1``), at least 2.
        dataset: Name of the data it is for (shown in messages and stored in the cache).
        seed: Seed of the initial weights and of the training order and binarization draws.

    Attributes:
        dataset: The dataset's name.
        image_shape: ``(H, W, 1)``.
        num_classes: ``C``.
        seed: The seed.
        test_accuracy: Accuracy on a binarization (``seed``) of the test split, measured by
            :meth:`fit` (``None`` before, or when fit had no test data).
        test_accuracy_grey: Accuracy on the grey-level test images (``None`` likewise).
        epochs: Epochs :meth:`fit` trained for (``None`` before).
        train_seconds: Wall-clock time of the training (``None`` before).
        fingerprint: :func:`training_fingerprint` of the data it was trained on (``""`` if unknown).
        path: The cache file it was read from or saved to, or ``None``.

    Example:
        >>> from qhvae.data import load_dataset
        >>> clf = ImageClassifier((8, 8, 1), 10, dataset="digits")
        >>> clf.predict(load_dataset("digits", "test").take(4)).shape
        (4, 10)
        >>> clf.features(load_dataset("digits", "test").take(4)).shape
        (4, 128)
        >>> clf.fit(load_dataset("digits", "train"), load_dataset("digits", "test"))  # doctest: +SKIP
        ImageClassifier(dataset='digits', image_shape=(8, 8, 1), num_classes=10, test_accuracy=0.882)
    """

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, *, dataset: str = "custom", seed: int = 0):
        shape = tuple(int(d) for d in image_shape)
        if len(shape) != 3 or shape[2] != 1 or min(shape) < 1:
            raise DataError(f"image_shape must be (H, W, 1) with H, W >= 1, got {tuple(image_shape)}")
        if int(num_classes) != num_classes or num_classes < 2:
            raise DataError(f"{dataset}: a classifier needs at least 2 classes, got {num_classes}")
        self.dataset = str(dataset)
        self.image_shape: tuple[int, int, int] = shape
        self.num_classes = int(num_classes)
        self.seed = int(seed)
        self.test_accuracy: float | None = None
        self.test_accuracy_grey: float | None = None
        self.epochs: int | None = None
        self.train_seconds: float | None = None
        self.fingerprint = ""
        self.path: Path | None = None
        self._model, self._featurizer = self._build()

    def _build(self) -> tuple[Any, Any]:
        keras = _keras()
        init = keras.initializers.GlorotUniform
        inputs = keras.Input(shape=self.image_shape, name="images")
        x = keras.layers.Flatten(name="flatten")(inputs)
        x = keras.layers.Dense(HIDDEN_UNITS, "relu", kernel_initializer=init(seed=self.seed), name="hidden")(x)
        feats = keras.layers.Dense(FEATURE_UNITS, "relu", kernel_initializer=init(seed=self.seed + 1), name="features")(
            x
        )
        logits = keras.layers.Dense(self.num_classes, kernel_initializer=init(seed=self.seed + 2), name="logits")(feats)
        return keras.Model(inputs, logits, name="image_classifier"), keras.Model(inputs, feats, name="featurizer")

    def __repr__(self) -> str:
        acc = "None" if self.test_accuracy is None else f"{self.test_accuracy:.3f}"
        return (
            f"ImageClassifier(dataset={self.dataset!r}, image_shape={self.image_shape}, "
            f"num_classes={self.num_classes}, test_accuracy={acc})"
        )

    # -- inference -------------------------------------------------------------------

    def _images(self, images: Any) -> np.ndarray:
        x = _as_image_array(images, f"images for the {self.dataset} classifier")
        if x.shape[1:] != self.image_shape:
            h, w, _ = self.image_shape
            raise DataError(
                f"the {self.dataset} classifier reads {h}x{w} images, got images of shape {tuple(x.shape[1:])}"
            )
        return x

    def _run(self, model: Any, images: Any) -> np.ndarray:
        x = self._images(images)
        out = [np.asarray(model(x[i : i + _PREDICT_BATCH], training=False)) for i in range(0, len(x), _PREDICT_BATCH)]
        return np.concatenate(out).astype(np.float64)

    def predict(self, images: Any) -> np.ndarray:
        """Class probabilities ``(N, C)`` (float64, rows sum to 1).

        Example:
            >>> clf = load_classifier("digits")  # doctest: +SKIP
            >>> clf.predict(load_dataset("digits", "test").images[:2]).round(2)  # doctest: +SKIP
            array([[0.  , 1.  , 0.  , ...
        """
        return _softmax(self._run(self._model, images))

    def predict_labels(self, images: Any) -> np.ndarray:
        """The most probable class of each image, int64 ``(N,)``.

        Example:
            >>> clf = load_classifier("digits")  # doctest: +SKIP
            >>> clf.predict_labels(load_dataset("digits", "test").images[:5])  # doctest: +SKIP
            array([1, 7, 4, 6, 3])
        """
        return self._run(self._model, images).argmax(axis=1).astype(np.int64)

    def features(self, images: Any) -> np.ndarray:
        """The penultimate layer's activations ``(N, 128)`` (float64), for :func:`frechet_distance`.

        Example:
            >>> clf = load_classifier("digits")  # doctest: +SKIP
            >>> clf.features(load_dataset("digits", "test")).shape  # doctest: +SKIP
            (297, 128)
        """
        return self._run(self._featurizer, images)

    def accuracy(self, images: Any, labels: Any) -> float:
        """The fraction of ``images`` whose predicted class is ``labels`` (ints ``(N,)`` or one-hot ``(N, C)``).

        Example:
            >>> test = load_dataset("digits", "test")  # doctest: +SKIP
            >>> load_classifier("digits").accuracy(test.binarize(0), test.labels)  # doctest: +SKIP
            0.882...
        """
        x = self._images(images)
        y = as_class_labels(labels, len(x), self.num_classes)
        return float(np.mean(self.predict_labels(x) == y))

    # -- training --------------------------------------------------------------------

    def fit(
        self,
        train: Dataset,
        test: Dataset | None = None,
        *,
        epochs: int | None = None,
        batch_size: int = BATCH_SIZE,
        console: Any = None,
    ) -> ImageClassifier:
        """Train on ``train`` (a fresh binarization of its images each epoch), then measure ``test``.

        Args:
            train: Labelled training images of this classifier's shape.
            test: Labelled test images; :attr:`test_accuracy` is measured on their
                binarization with ``seed`` (``test.binarize(seed)``), :attr:`test_accuracy_grey`
                on them as they are.
            epochs: Epochs; default ``max(MIN_EPOCHS, ceil(MIN_STEPS / steps per epoch))``.
            batch_size: Images per step.
            console: A ``rich`` console for a line when done, or ``None``.

        Returns:
            The classifier itself.

        Raises:
            DataError: No labels, images of another shape, or labels outside ``0..C-1``.

        Example:
            >>> clf = ImageClassifier((8, 8, 1), 10, dataset="digits")  # doctest: +SKIP
            >>> clf.fit(load_dataset("digits", "train"), load_dataset("digits", "test")).test_accuracy  # doctest: +SKIP
            0.882...
        """
        import tensorflow as tf

        keras = _keras()
        for part in (train,) if test is None else (train, test):
            if part.labels is None:
                raise DataError(
                    f"dataset {part.name!r} ({part.split}) has no labels; a classifier needs labelled images "
                    f"(mnist, fashion_mnist, digits)"
                )
        images = self._images(train)
        labels = as_class_labels(train.labels, len(images), self.num_classes, f"{train.name}/{train.split} labels")
        steps_per_epoch = math.ceil(len(images) / batch_size)
        if epochs is None:
            epochs = max(MIN_EPOCHS, math.ceil(MIN_STEPS / steps_per_epoch))
        start = time.perf_counter()

        # Shuffle anew every epoch, then draw x ~ Bernoulli(grey level) per batch with a seed pair
        # from an endless random stream (the same scheme as Dataset.to_tf, with labels).
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
        ds = ds.shuffle(len(images), seed=self.seed, reshuffle_each_iteration=True).repeat(epochs)
        ds = ds.batch(batch_size)
        seeds = tf.data.Dataset.random(seed=(self.seed * 2654435761 + 97) % (2**31 - 1)).batch(2)

        def draw(batch: Any, pair: Any) -> Any:
            x, y = batch
            u = tf.random.stateless_uniform(tf.shape(x), seed=pair, dtype=tf.float32)
            return tf.cast(u < x, tf.float32), y

        ds = tf.data.Dataset.zip((ds, seeds)).map(draw, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        self._model.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        self._model.fit(ds, epochs=1, verbose=0, shuffle=False)
        self.train_seconds = time.perf_counter() - start
        self.epochs = int(epochs)
        if test is not None:
            self.test_accuracy = self.accuracy(test.binarize(self.seed), test.labels)
            self.test_accuracy_grey = self.accuracy(test, test.labels)
        _say(
            console,
            f"{self.dataset} classifier: {self.epochs} epochs in {self.train_seconds:.0f} s"
            + ("" if self.test_accuracy is None else f", test accuracy {self.test_accuracy:.4f}"),
        )
        return self

    # -- files -----------------------------------------------------------------------

    def _record(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "architecture_version": ARCHITECTURE_VERSION,
            "dataset": self.dataset,
            "image_shape": list(self.image_shape),
            "num_classes": self.num_classes,
            "seed": self.seed,
            "test_accuracy": self.test_accuracy,
            "test_accuracy_grey": self.test_accuracy_grey,
            "epochs": self.epochs,
            "train_seconds": self.train_seconds,
            "fingerprint": self.fingerprint,
            "num_weights": len(self._model.get_weights()),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the weights and record to ``path`` (``.npz``) atomically: a temporary file, then a rename.

        A reader sees the old file or the new one, never half of one; the folder is created.

        Returns:
            ``path`` as a :class:`~pathlib.Path` (also kept in :attr:`path`).

        Example:
            >>> load_classifier("digits").save("/tmp/digits-classifier.npz")  # doctest: +SKIP
            PosixPath('/tmp/digits-classifier.npz')
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"w{i:03d}": w for i, w in enumerate(self._model.get_weights())}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, record=np.array(json.dumps(self._record())), **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.path = path
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ImageClassifier:
        """Read a classifier written by :meth:`save`.

        Raises:
            DataNotFoundError: No such file.
            DataError: The file is damaged, not a classifier, or of another
                :data:`ARCHITECTURE_VERSION`.

        Example:
            >>> ImageClassifier.load("/tmp/digits-classifier.npz")  # doctest: +SKIP
            ImageClassifier(dataset='digits', image_shape=(8, 8, 1), num_classes=10, test_accuracy=0.882)
        """
        path = Path(path)
        if not path.is_file():
            raise DataNotFoundError(f"{path}: no such classifier file")
        try:
            with np.load(path, allow_pickle=False) as npz:
                record = json.loads(str(npz["record"][()]))
                if not isinstance(record, dict) or record.get("format") != _FORMAT:
                    raise DataError(f"{path}: not a qhvae classifier file")
                weights = [npz[f"w{i:03d}"] for i in range(int(record["num_weights"]))]
            if record["architecture_version"] != ARCHITECTURE_VERSION:
                raise DataError(
                    f"{path}: a classifier of architecture version {record['architecture_version']}, "
                    f"this qhvae builds version {ARCHITECTURE_VERSION}"
                )
            if not all(np.all(np.isfinite(w)) for w in weights):
                raise DataError(f"{path}: non-finite weights")
            clf = cls(
                tuple(record["image_shape"]),
                record["num_classes"],
                dataset=record["dataset"],
                seed=record["seed"],
            )
            clf._model.set_weights(weights)
        except QhvaeError:
            raise
        except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
            # np.load, json and set_weights report damage in all of these forms.
            raise DataError(f"{path}: damaged classifier file ({type(exc).__name__}: {exc})") from exc
        clf.test_accuracy = record.get("test_accuracy")
        clf.test_accuracy_grey = record.get("test_accuracy_grey")
        clf.epochs = record.get("epochs")
        clf.train_seconds = record.get("train_seconds")
        clf.fingerprint = str(record.get("fingerprint", ""))
        clf.path = path
        return clf


# --------------------------------------------------------------------------------------
# the cache
# --------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where classifiers are cached: ``$QHVAE_CACHE_DIR`` if set (and not empty), else ``~/.cache/qhvae``.

    Example:
        >>> default_cache_dir()  # doctest: +SKIP
        PosixPath('/home/me/.cache/qhvae')
    """
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qhvae"


def training_fingerprint(train: Dataset, test: Dataset | None = None) -> str:
    """A sha256 (hex) of what a classifier learns from: image shapes, labels, and the first and last images.

    Two datasets with the same fingerprint give the same classifier (for one seed and
    :data:`ARCHITECTURE_VERSION`); any change to the labels, the number or size of the
    images, or the first or last 16 images of either split changes it.

    Example:
        >>> from qhvae.data import load_dataset
        >>> fp = training_fingerprint(load_dataset("digits", "train"), load_dataset("digits", "test"))
        >>> len(fp), fp == training_fingerprint(load_dataset("digits", "train", limit=100))
        (64, False)
    """
    h = hashlib.sha256()
    for part in (train,) if test is None else (train, test):
        h.update(repr(tuple(part.images.shape)).encode())
        labels = b"none" if part.labels is None else np.ascontiguousarray(part.labels, dtype="<i8").tobytes()
        h.update(labels)
        h.update(np.ascontiguousarray(part.images[:16], dtype="<f4").tobytes())
        h.update(np.ascontiguousarray(part.images[-16:], dtype="<f4").tobytes())
    return h.hexdigest()


def classifier_cache_path(
    dataset: str, fingerprint: str, seed: int = 0, cache_dir: str | os.PathLike | None = None
) -> Path:
    """The cache file of a classifier: ``classifier-<dataset>-a<version>-seed<seed>-<fingerprint[:16]>.npz``.

    Example:
        >>> classifier_cache_path("digits", "0123456789abcdef" * 4, cache_dir="/tmp/c").name
        'classifier-digits-a1-seed0-0123456789abcdef.npz'
    """
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return folder / f"classifier-{dataset}-a{ARCHITECTURE_VERSION}-seed{int(seed)}-{fingerprint[:16]}.npz"


def _load_labelled(name: str, split: str, data_dir: str | os.PathLike | None) -> Dataset:
    try:
        ds = load_dataset(name, split, data_dir)
    except QhvaeError:
        raise
    except FileNotFoundError as exc:
        raise DataNotFoundError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"{name}/{split}: {exc}") from exc
    if ds.labels is None:
        raise DataError(f"dataset {name!r} ({split}: {ds.source}) has no labels; a classifier needs labelled images")
    return ds


def load_classifier(
    dataset: str,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    console: Any = None,
) -> ImageClassifier:
    """The trained classifier of a labelled dataset: from the cache, or trained now and cached.

    Loads the dataset's ``train`` and ``test`` splits (:func:`qhvae.data.load_dataset`,
    never downloading), and looks for :func:`classifier_cache_path` of their
    :func:`training_fingerprint`. Without one (or with a damaged one, after a one-line
    warning) it trains an :class:`ImageClassifier` (seconds for digits, about 25 s for
    MNIST on two cores), measures its test accuracy and saves it atomically. A cache that
    cannot be written is warned about; the classifier is still returned.

    Args:
        dataset: ``"mnist"``, ``"fashion_mnist"`` or ``"digits"`` (any case, ``-`` or ``_``).
        data_dir: A folder to look for the data in first (see :func:`qhvae.data.load_dataset`).
        cache_dir: The cache folder; default :func:`default_cache_dir`.
        seed: Seed of the weights, the training order and the binarization draws.
        console: A ``rich`` console for a line when training, or ``None``.

    Returns:
        The classifier, with :attr:`ImageClassifier.test_accuracy` and
        :attr:`ImageClassifier.path` set.

    Raises:
        UnknownNameError: Not a dataset qhvae knows.
        DataError: A dataset without labels (``binarized_mnist``); damaged data.
        DataNotFoundError: The data files are nowhere qhvae looked.

    Example:
        >>> clf = load_classifier("digits", cache_dir="/tmp/qhvae-cache")  # doctest: +SKIP
        >>> clf.num_classes, clf.test_accuracy > 0.85  # doctest: +SKIP
        (10, True)
    """
    try:
        name = canonical_name(dataset)
    except (TypeError, ValueError) as exc:
        raise UnknownNameError(f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)}") from exc
    if name == "binarized_mnist":
        raise DataError(
            "dataset 'binarized_mnist' has no labels, so no classifier can be trained on it; use "
            "load_classifier('mnist') (the same digits, grey levels, with labels)"
        )
    train = _load_labelled(name, TRAIN_SPLIT, data_dir)
    test = _load_labelled(name, TEST_SPLIT, data_dir)
    fingerprint = training_fingerprint(train, test)
    path = classifier_cache_path(name, fingerprint, seed, cache_dir)
    if path.exists():
        try:
            clf = ImageClassifier.load(path)
            if clf.fingerprint != fingerprint or clf.dataset != name or clf.seed != int(seed):
                raise DataError(f"{path}: made for other data")
            return clf
        except DataError as exc:
            warnings.warn(f"{exc}; training the {name} classifier again", RuntimeWarning, stacklevel=2)
    num_classes = int(max(train.labels.max(), test.labels.max())) + 1  # type: ignore[union-attr]
    _say(console, f"training the {name} classifier (once; cached in {path})")
    clf = ImageClassifier(train.image_shape, num_classes, dataset=name, seed=seed).fit(train, test, console=console)
    clf.fingerprint = fingerprint
    try:
        clf.save(path)
    except OSError as exc:
        warnings.warn(f"could not cache the {name} classifier in {path} ({exc})", RuntimeWarning, stacklevel=2)
    return clf
