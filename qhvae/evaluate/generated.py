"""Measures of what a model generated: do the samples of class 3 look like threes? (issue #23)

A conditional model is asked for images of given classes; this module says how often a
classifier that qhvae trains itself (:class:`~qhvae.evaluate.classifier.ImageClassifier`,
trained once per dataset and cached by :func:`~qhvae.evaluate.classifier.load_classifier`;
its architecture, cost and accuracy are described in :mod:`qhvae.evaluate.classifier`)
agrees with the class asked for, and how far the generated images lie from real ones in
that classifier's feature space:

- :func:`frechet_distance`: the Fréchet distance between Gaussians fitted to two feature
  sets (the FID's formula, with this classifier's features instead of Inception's);
- :func:`class_sample_accuracy`: the fraction of generated images classified as the class
  they were generated for, overall and per class, with the confusion matrix;
- :func:`generated_image_measures`: both at once, against reference images.

Reading the measures: :func:`class_sample_accuracy` of real test images with their own
labels is the classifier's accuracy (about 0.98 on MNIST), a ceiling for generated ones;
with random labels it is ``1 / num_classes``. The Fréchet distance is biased upwards by
small samples: compare distances computed with the same numbers of images, and read them
against the distance between two halves of the real test set (the noise floor).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(5000, 2))
    >>> round(frechet_distance(a, a), 6)
    0.0
    >>> from qhvae.evaluate import load_classifier
    >>> clf = load_classifier("digits")  # doctest: +SKIP
    >>> m = generated_image_measures(clf, generated, wanted_labels, test.images)  # doctest: +SKIP
    >>> m.accuracy, m.per_class_accuracy[3], m.frechet_distance  # doctest: +SKIP
    (0.91, 0.88, 4.2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import DataError
from .classifier import ImageClassifier, as_class_labels

__all__ = [
    "ClassSampleAccuracy",
    "GeneratedImageMeasures",
    "class_sample_accuracy",
    "frechet_distance",
    "generated_image_measures",
]


def _check_features(features: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: not a numeric array ({exc})") from exc
    if arr.ndim != 2:
        raise DataError(f"{name}: expected a 2-d array (samples, features), got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise DataError(f"{name}: needs at least 2 rows and 1 feature to fit a Gaussian, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name}: holds NaN or infinite values")
    return arr


def _trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """``Tr (cov_a cov_b)^(1/2)`` for symmetric positive semi-definite matrices, via symmetric eigenvalues."""
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    m = root_a @ cov_b @ root_a
    eig = np.linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (rows are samples).

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with the sample means and
    covariances (``ddof=1``), in float64: the formula of the FID (Heusel et al. 2017).

    Numerics: ``Tr (S_a S_b)^(1/2)`` is computed as ``Tr (S_a^(1/2) S_b S_a^(1/2))^(1/2)``
    (the two matrices have the same eigenvalues), from symmetric eigendecompositions with
    the tiny negative eigenvalues of rounding clipped to 0. Unlike ``scipy.linalg.sqrtm`` of
    the non-symmetric product, this stays real and exact for singular covariances (fewer
    samples than features, dead feature units), so no ridge and no discarding of imaginary
    parts are needed; on well-conditioned input both agree to rounding. The result is
    clipped at 0 (identical sets give 0 up to rounding).

    Args:
        features_a: ``(N_a, F)`` features, ``N_a >= 2``.
        features_b: ``(N_b, F)`` features, ``N_b >= 2``, the same ``F``.

    Returns:
        The distance (``>= 0``, symmetric in its arguments).

    Raises:
        DataError: Not 2-d, fewer than 2 rows, different feature counts, NaN or inf
            (a ``ValueError`` too).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(0.0, 1.0, size=(20000, 1))
        >>> b = rng.normal(3.0, 2.0, size=(20000, 1))  # (0 - 3)^2 + (1 - 2)^2 = 10
        >>> round(frechet_distance(a, b), 1)
        10.0
    """
    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise DataError(f"feature sets of different widths: features_a has {a.shape[1]}, features_b {b.shape[1]}")
    diff = a.mean(axis=0) - b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    distance = float(diff @ diff) + float(np.trace(cov_a) + np.trace(cov_b)) - 2.0 * _trace_sqrt_product(cov_a, cov_b)
    return max(distance, 0.0)


@dataclass(frozen=True)
class ClassSampleAccuracy:
    """How often generated images are classified as the class they were generated for.

    Attributes:
        accuracy: Fraction of all images classified as their label.
        per_class: ``{class: fraction}`` for every class with at least one image.
        counts: ``{class: number of images}`` for the same classes.
        confusion: ``(C, C)`` int64 counts; row = the label asked for, column = the class predicted.
    """

    accuracy: float
    per_class: dict[int, float]
    counts: dict[int, int]
    confusion: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``accuracy``, ``per_class`` and ``counts`` (string keys), ``confusion`` as lists.

        Example:
            >>> import numpy as np
            >>> ClassSampleAccuracy(1.0, {0: 1.0}, {0: 2}, np.array([[2, 0], [0, 0]])).to_dict()["per_class"]
            {'0': 1.0}
        """
        return {
            "accuracy": self.accuracy,
            "per_class": {str(k): v for k, v in self.per_class.items()},
            "counts": {str(k): v for k, v in self.counts.items()},
            "confusion": self.confusion.tolist(),
        }


def class_sample_accuracy(classifier: ImageClassifier, images: Any, labels: Any) -> ClassSampleAccuracy:
    """The fraction of ``images`` that ``classifier`` assigns to the class in ``labels``, overall and per class.

    Args:
        classifier: A trained :class:`ImageClassifier` (e.g. :func:`load_classifier`).
        images: ``(N, H, W[, 1])`` generated images in ``[0, 1]`` (binary samples or
            probabilities), or a :class:`~qhvae.data.Dataset`.
        labels: The class each image was generated for: ints ``(N,)`` or one-hot ``(N, C)``.

    Returns:
        A :class:`ClassSampleAccuracy`.

    Raises:
        DataError: Images of another shape, or labels that do not match them.

    Example:
        >>> clf = load_classifier("digits")  # doctest: +SKIP
        >>> r = class_sample_accuracy(clf, samples, np.repeat(np.arange(10), 100))  # doctest: +SKIP
        >>> r.accuracy, r.per_class[3]  # doctest: +SKIP
        (0.87, 0.81)
    """
    x = classifier._images(images)
    y = as_class_labels(labels, len(x), classifier.num_classes)
    predicted = classifier.predict_labels(x)
    c = classifier.num_classes
    confusion = np.bincount(y * c + predicted, minlength=c * c).reshape(c, c).astype(np.int64)
    totals = confusion.sum(axis=1)
    present = [k for k in range(c) if totals[k] > 0]
    return ClassSampleAccuracy(
        accuracy=float(np.trace(confusion) / len(y)),
        per_class={k: float(confusion[k, k] / totals[k]) for k in present},
        counts={k: int(totals[k]) for k in present},
        confusion=confusion,
    )


@dataclass(frozen=True)
class GeneratedImageMeasures:
    """What :func:`generated_image_measures` found.

    Attributes:
        accuracy: Fraction of generated images classified as the class they were generated for.
        per_class_accuracy: ``{class: fraction}`` for every class generated.
        frechet_distance: Fréchet distance between the classifier features of the generated
            and the reference images.
        num_generated: Generated images.
        num_reference: Reference images.
        dataset: The classifier's dataset.
        classifier_test_accuracy: The classifier's own test accuracy (the ceiling of ``accuracy``).
        confusion: ``(C, C)`` counts, row = class asked for, column = class predicted.
    """

    accuracy: float
    per_class_accuracy: dict[int, float]
    frechet_distance: float
    num_generated: int
    num_reference: int
    dataset: str
    classifier_test_accuracy: float | None
    confusion: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (string class keys, the confusion matrix as lists).

        Example:
            >>> import numpy as np
            >>> m = GeneratedImageMeasures(0.5, {1: 0.5}, 2.0, 2, 10, "digits", 0.95, np.zeros((2, 2), int))
            >>> m.to_dict()["frechet_distance"], m.to_dict()["per_class_accuracy"]
            (2.0, {'1': 0.5})
        """
        return {
            "accuracy": self.accuracy,
            "per_class_accuracy": {str(k): v for k, v in self.per_class_accuracy.items()},
            "frechet_distance": self.frechet_distance,
            "num_generated": self.num_generated,
            "num_reference": self.num_reference,
            "dataset": self.dataset,
            "classifier_test_accuracy": self.classifier_test_accuracy,
            "confusion": self.confusion.tolist(),
        }


def generated_image_measures(
    classifier: ImageClassifier, generated: Any, labels: Any, reference: Any
) -> GeneratedImageMeasures:
    """Class accuracy of generated images and their Fréchet distance to reference images.

    Compare like with like: binary samples against a binarization of the test set
    (``test.binarize(seed)``), decoder probabilities against the grey-level test images;
    and distances only between runs with the same numbers of images (the distance is
    biased upwards by small samples).

    Args:
        classifier: A trained :class:`ImageClassifier`.
        generated: ``(N, H, W[, 1])`` generated images, or a :class:`~qhvae.data.Dataset`.
        labels: The class each generated image was asked for (ints ``(N,)`` or one-hot).
        reference: Real images of the same shape (at least 2), e.g. the test split.

    Returns:
        A :class:`GeneratedImageMeasures`.

    Raises:
        DataError: Images of another shape, fewer than 2 of either, labels that do not match.

    Example:
        >>> clf = load_classifier("mnist")  # doctest: +SKIP
        >>> test = load_dataset("mnist", "test").binarize(0)  # doctest: +SKIP
        >>> m = generated_image_measures(clf, samples, sample_labels, test)  # doctest: +SKIP
        >>> round(m.accuracy, 2), round(m.per_class_accuracy[3], 2), round(m.frechet_distance, 1)  # doctest: +SKIP
        (0.93, 0.9, 12.3)
    """
    x = classifier._images(generated)
    ref = classifier._images(reference)
    per_class = class_sample_accuracy(classifier, x, labels)
    distance = frechet_distance(classifier.features(x), classifier.features(ref))
    return GeneratedImageMeasures(
        accuracy=per_class.accuracy,
        per_class_accuracy=per_class.per_class,
        frechet_distance=distance,
        num_generated=len(x),
        num_reference=len(ref),
        dataset=classifier.dataset,
        classifier_test_accuracy=classifier.test_accuracy,
        confusion=per_class.confusion,
    )
