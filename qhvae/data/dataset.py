"""The in-memory :class:`Dataset` of one split, and its ``tf.data`` pipeline.

``Dataset.to_tf`` yields image batches only (the VAE is trained unsupervised with
``model.fit(dataset)``) and, for grey-level data, resamples ``x ~ Bernoulli(grey level)``
every epoch ("dynamic binarization", the paper's MNIST setting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_int
from .arrays import as_images

__all__ = ["Dataset"]


@dataclass(eq=False)
class Dataset:
    """Images (and labels) of one split of one dataset, in memory.

    Attributes:
        images: float32 array ``(N, H, W, 1)`` with values in ``[0, 1]``: grey levels, or
            exactly 0/1 when ``binarized``.
        labels: int64 array ``(N,)`` of class labels, or ``None`` (binarized MNIST has none).
        name: Dataset name, one of :data:`qhvae.data.DATASETS` (or anything for user data).
        split: Split name, one of :data:`qhvae.data.SPLITS` (or anything for user data).
        binarized: True for statically binarized data (values exactly 0/1), which
            ``to_tf`` does not resample by default.
        source: Where the data came from: a file path (several joined by ``" + "``) or
            ``"sklearn.datasets.load_digits"``.

    Images are validated with :func:`as_images` on construction, so a ``Dataset`` can be
    built from any user array: ``Dataset(my_uint8_images, None, "mine", "train", False, "")``.

    Example:
        >>> from qhvae.data import load_dataset
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

    def take(self, n: int) -> Dataset:
        """The first ``n`` examples (all of them if there are fewer), as a new Dataset.

        Example:
            >>> from qhvae.data import load_dataset
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

    def binarize(self, seed: int | None = 0) -> Dataset:
        """One fixed Bernoulli draw ``x ~ Bernoulli(grey level)``, as a static binarized copy.

        Use it to evaluate on a fixed binarization of a grey-level test set
        (``seed`` makes it reproducible; numpy's ``default_rng(seed)``).

        Example:
            >>> from qhvae.data import load_dataset
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
        with_labels: bool = False,
    ):
        """A ``tf.data.Dataset`` of float32 image batches ``(B, H, W, 1)``, images only.

        ``model.fit(ds.to_tf(100), epochs=...)`` trains the (unsupervised) VAE; labels are
        not yielded unless ``with_labels`` (a class-conditional VAE trains on
        ``(images, labels)`` batches).

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
            with_labels: Yield ``(images, labels)`` pairs, labels ``(B,)`` int32.

        Returns:
            ``tf.data.Dataset`` with element spec ``TensorSpec((None|B, H, W, 1), float32)``
            (with labels: that and ``TensorSpec((None|B,), int32)``).

        Raises:
            DataError: ``with_labels`` for a dataset without labels.

        Example:
            >>> from qhvae.data import load_dataset
            >>> ds = load_dataset("digits", "train").to_tf(256, seed=0)
            >>> x = next(iter(ds))
            >>> tuple(x.shape), x.dtype.name, sorted(set(x.numpy().ravel().tolist()))
            ((256, 8, 8, 1), 'float32', [0.0, 1.0])
        """
        import tensorflow as tf

        batch_size = check_int("batch_size", batch_size)
        if dynamic_binarization is None:
            dynamic_binarization = not self.binarized
        n = len(self)
        if with_labels and self.labels is None:
            from ..exceptions import DataError

            raise DataError(f"{self.name}/{self.split} has no labels, so it cannot train a class-conditional model; "
                            "use a labelled dataset (mnist, fashion-mnist, digits)")
        images = tf.convert_to_tensor(self.images, dtype=tf.float32)
        labels = tf.convert_to_tensor(self.labels, dtype=tf.int32) if with_labels else None

        index = tf.data.Dataset.range(n)
        if shuffle:
            index = index.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        index = index.batch(batch_size, drop_remainder=drop_remainder)
        # Images and labels are gathered from one stream of index batches: two iterators over
        # a reshuffling dataset would each get an order of their own.
        if labels is None:
            ds = index.map(lambda i: (tf.gather(images, i),), num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True)
        else:
            ds = index.map(lambda i: (tf.gather(images, i), tf.gather(labels, i)),
                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if dynamic_binarization:
            # A separate op seed for the draws, decorrelated from the shuffle's.
            draw_seed = None if seed is None else (int(seed) * 2654435761 + 97) % (2**31 - 1)
            seeds = tf.data.Dataset.random(seed=draw_seed, rerandomize_each_iteration=True).batch(2)

            def _draw(batch, pair):
                u = tf.random.stateless_uniform(tf.shape(batch[0]), seed=pair, dtype=tf.float32)
                return (tf.cast(u < batch[0], tf.float32),) + tuple(batch[1:])

            ds = tf.data.Dataset.zip((ds, seeds)).map(
                _draw, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
            )
        ds = ds.map(lambda *batch: batch if labels is not None else batch[0])
        if prefetch:
            ds = ds.prefetch(tf.data.AUTOTUNE)
        return ds
