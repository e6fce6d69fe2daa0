"""Measures of generated images (issue #23, part 3): the Fréchet distance, the cached classifier, class accuracy.

The classifier is trained once per module on scikit-learn's 8x8 digits (about 5 s) in a temporary
cache folder; every test that retrains replaces ``ImageClassifier.fit``'s epoch count with a short one.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import scipy.linalg

from qhvae.data import Dataset, load_dataset
from qhvae.evaluate import (
    ClassSampleAccuracy,
    GeneratedImageMeasures,
    ImageClassifier,
    class_sample_accuracy,
    classifier,
    frechet_distance,
    generated_image_measures,
    load_classifier,
)
from qhvae.exceptions import DataError, QhvaeError, UnknownNameError

# --------------------------------------------------------------------------------------
# Fréchet distance
# --------------------------------------------------------------------------------------


def diagonal_gaussian_distance(mu_a, var_a, mu_b, var_b) -> float:
    """The closed form for diagonal covariances: sum (mu_a - mu_b)^2 + sum (sqrt(var_a) - sqrt(var_b))^2."""
    return float(np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2))


def diagonal_tolerance(mu_a, var_a, mu_b, var_b, n: int) -> float:
    """Five standard errors of the estimate from ``n`` samples each (delta method), plus its bias bound.

    The squared mean difference has variance ``4 sum d_i^2 (va_i + vb_i) / n`` and bias ``sum (va + vb) / n``;
    a sample standard deviation has standard error ``sigma / sqrt(2 n)``, so the covariance term has variance
    ``sum 4 (sa_i - sb_i)^2 (sa_i^2 + sb_i^2) / (2 n)``. The off-diagonal sample covariances (zero in truth)
    add a bias of order ``F^2 max(var) / n``.
    """
    d = mu_a - mu_b
    sa, sb = np.sqrt(var_a), np.sqrt(var_b)
    variance = np.sum(4 * d**2 * (var_a + var_b)) / n + np.sum(4 * (sa - sb) ** 2 * (var_a + var_b) / (2 * n))
    f = len(mu_a)
    bias = (np.sum(var_a + var_b) + f * f * max(var_a.max(), var_b.max())) / n
    return float(5 * math.sqrt(variance) + bias)


def sqrtm_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook FID computation (scipy.linalg.sqrtm of the product), for well-conditioned input."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.real(scipy.linalg.sqrtm(cov_a @ cov_b))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))


def test_identical_feature_sets_are_at_distance_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9 * np.trace(np.cov(a, rowvar=False)))
    assert frechet_distance(a, a.copy()) >= 0.0


def test_two_gaussians_match_the_closed_form_within_the_sampling_error():
    rng = np.random.default_rng(1)
    n = 100_000
    mu_a, var_a = np.array([0.0, 1.0, -2.0, 0.5]), np.array([1.0, 4.0, 0.25, 2.0])
    mu_b, var_b = np.array([1.0, 1.0, 0.0, -0.5]), np.array([2.0, 1.0, 0.25, 9.0])
    a = mu_a + np.sqrt(var_a) * rng.standard_normal((n, 4))
    b = mu_b + np.sqrt(var_b) * rng.standard_normal((n, 4))
    exact = diagonal_gaussian_distance(mu_a, var_a, mu_b, var_b)
    tolerance = diagonal_tolerance(mu_a, var_a, mu_b, var_b, n)
    assert exact == pytest.approx((1 + 0 + 4 + 1) + ((1 - math.sqrt(2)) ** 2 + 1 + 0 + (math.sqrt(2) - 3) ** 2))
    assert tolerance < 0.05 * exact  # the check means something
    assert abs(frechet_distance(a, b) - exact) < tolerance


def test_a_common_rotation_changes_nothing_and_full_covariances_match_the_sqrtm_formula():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4000, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(3000, 6)) @ rng.normal(size=(6, 6)) + 0.3
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    d = frechet_distance(a, b)
    assert frechet_distance(a @ rotation, b @ rotation) == pytest.approx(d, rel=1e-9)
    assert d == pytest.approx(sqrtm_distance(a, b), rel=1e-7)


def test_the_distance_is_symmetric():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 8)), rng.gamma(2.0, size=(200, 8))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-10)


def test_singular_covariances_give_a_finite_real_distance():
    """Fewer samples than features (and a dead feature): the covariances are singular."""
    rng = np.random.default_rng(4)
    a, b = rng.random((10, 50)), rng.random((12, 50)) + 0.1
    a[:, 0] = b[:, 0] = 0.0
    d = frechet_distance(a, b)
    assert np.isfinite(d) and d > 0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (np.zeros(5), np.zeros((5, 1)), "2-d"),
        (np.zeros((5, 2, 1)), np.zeros((5, 2)), "2-d"),
        (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2 rows"),
        (np.zeros((5, 3)), np.zeros((5, 4)), "different widths"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), np.zeros((2, 2)), "NaN"),
        (np.zeros((2, 2)), np.array([[0.0, np.inf], [1.0, 1.0]]), "infinite"),
        ([["a", "b"], ["c", "d"]], np.zeros((2, 2)), "numeric"),
    ],
)
def test_bad_feature_arrays_are_refused_clearly(a, b, message):
    with pytest.raises(DataError, match=message) as info:
        frechet_distance(a, b)
    assert isinstance(info.value, ValueError) and isinstance(info.value, QhvaeError)


# --------------------------------------------------------------------------------------
# the classifier and its cache
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("classifier-cache")


@pytest.fixture(scope="module")
def digits_classifier(cache_dir) -> ImageClassifier:
    return load_classifier("digits", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def digits_test() -> Dataset:
    return load_dataset("digits", "test")


@pytest.fixture
def count_fits(monkeypatch):
    """Counts ``ImageClassifier.fit`` calls; each trains 3 epochs only (retraining tests need no accuracy)."""
    calls = []
    original = ImageClassifier.fit

    def fit(self, train, test=None, **kwargs):
        calls.append(train.name)
        return original(self, train, test, **{**kwargs, "epochs": 3})

    monkeypatch.setattr(ImageClassifier, "fit", fit)
    return calls


def test_the_digits_classifier_is_accurate_and_cached(digits_classifier, digits_test, cache_dir):
    clf = digits_classifier
    assert (clf.dataset, clf.num_classes, clf.image_shape) == ("digits", 10, (8, 8, 1))
    # Binarizing 8x8 digits destroys much of what tells them apart: ~0.88 on draws, ~0.94 on grey levels.
    assert clf.test_accuracy > 0.80
    assert clf.test_accuracy_grey > 0.88
    assert clf.path is not None and clf.path.parent == cache_dir and clf.path.is_file()
    assert clf.path.name.startswith(f"classifier-digits-a{classifier.ARCHITECTURE_VERSION}-seed0-")
    assert clf.test_accuracy == clf.accuracy(digits_test.binarize(clf.seed), digits_test.labels)
    assert not list(cache_dir.glob("*.tmp")), "the atomic save left its temporary file"

    probs = clf.predict(digits_test)
    assert probs.shape == (len(digits_test), 10) and np.allclose(probs.sum(axis=1), 1.0)
    assert np.array_equal(clf.predict_labels(digits_test), probs.argmax(axis=1))
    assert clf.features(digits_test.images[:, :, :, 0]).shape == (len(digits_test), classifier.FEATURE_UNITS)


def test_a_second_load_reads_the_cache_without_training(
    digits_classifier, digits_test, cache_dir, count_fits, monkeypatch
):
    again = load_classifier("digits", cache_dir=cache_dir)
    monkeypatch.setenv("QHVAE_CACHE_DIR", str(cache_dir))
    from_env = load_classifier("digits")
    assert count_fits == []
    for clf in (again, from_env):
        assert clf.path == digits_classifier.path
        assert clf.test_accuracy == digits_classifier.test_accuracy
        assert np.allclose(clf.predict(digits_test), digits_classifier.predict(digits_test), atol=1e-6)


def test_a_corrupt_cache_file_is_retrained_with_a_warning(digits_classifier, tmp_path, count_fits):
    path = tmp_path / digits_classifier.path.name
    path.write_bytes(b"not a zip file at all")
    with pytest.warns(RuntimeWarning, match="damaged classifier file") as record:
        clf = load_classifier("digits", cache_dir=tmp_path)
    assert count_fits == ["digits"]
    assert len(record) == 1 and "\n" not in str(record[0].message)
    assert clf.path == path and classifier.ImageClassifier.load(path).fingerprint == clf.fingerprint

    # A truncated file (a write cut short by something other than qhvae) is damage too.
    path.write_bytes(path.read_bytes()[:200])
    with pytest.warns(RuntimeWarning, match="training the digits classifier again"):
        load_classifier("digits", cache_dir=tmp_path)
    assert count_fits == ["digits", "digits"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_classifier("digits", cache_dir=tmp_path)  # the rewritten file is good
    assert len(count_fits) == 2


def test_a_cache_that_cannot_be_written_is_warned_about_and_the_classifier_still_returned(tmp_path, count_fits):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.warns(RuntimeWarning, match="could not cache the digits classifier"):
        clf = load_classifier("digits", cache_dir=blocker / "cache")
    assert count_fits == ["digits"] and clf.path is None and clf.test_accuracy is not None


def test_changed_data_or_architecture_means_another_cache_file(monkeypatch, tmp_path):
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    fp = classifier.training_fingerprint(train, test)
    assert fp == classifier.training_fingerprint(load_dataset("digits", "train"), test)
    relabelled = Dataset(train.images, np.roll(train.labels, 1), "digits", "train")
    fewer = train.take(1000)
    assert (
        len({fp, classifier.training_fingerprint(relabelled, test), classifier.training_fingerprint(fewer, test)}) == 3
    )
    path = classifier.classifier_cache_path("digits", fp, 0, tmp_path)
    assert path != classifier.classifier_cache_path("digits", fp, 1, tmp_path)
    monkeypatch.setattr(classifier, "ARCHITECTURE_VERSION", classifier.ARCHITECTURE_VERSION + 1)
    assert path != classifier.classifier_cache_path("digits", fp, 0, tmp_path)


def test_a_file_of_another_architecture_version_is_refused(digits_classifier, tmp_path, monkeypatch):
    path = digits_classifier.save(tmp_path / "c.npz")
    assert ImageClassifier.load(path).fingerprint == digits_classifier.fingerprint
    monkeypatch.setattr(classifier, "ARCHITECTURE_VERSION", classifier.ARCHITECTURE_VERSION + 1)
    with pytest.raises(DataError, match="architecture version"):
        ImageClassifier.load(path)


def test_unlabelled_and_unknown_datasets_are_refused(tmp_path):
    with pytest.raises(DataError, match="binarized_mnist.*no labels"):
        load_classifier("binarized_mnist", cache_dir=tmp_path)
    with pytest.raises(UnknownNameError, match="unknown dataset 'cifar'.*digits"):
        load_classifier("cifar", cache_dir=tmp_path)
    unlabelled = Dataset(np.zeros((20, 8, 8, 1), np.float32), None, "my_scans", "train")
    with pytest.raises(DataError, match="'my_scans'.*no labels"):
        ImageClassifier((8, 8, 1), 10, dataset="my_scans").fit(unlabelled)
    assert not list(tmp_path.iterdir())


def test_images_of_another_shape_and_bad_labels_are_refused(digits_classifier):
    with pytest.raises(DataError, match="reads 8x8 images"):
        digits_classifier.predict(np.zeros((3, 28, 28, 1), np.float32))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        digits_classifier.predict(np.full((3, 8, 8), 2.0))
    images = np.zeros((4, 8, 8, 1), np.float32)
    with pytest.raises(DataError, match="labels must lie in 0..9"):
        class_sample_accuracy(digits_classifier, images, [0, 1, 2, 10])
    with pytest.raises(DataError, match="3 labels for 4 images"):
        class_sample_accuracy(digits_classifier, images, [0, 1, 2])


# --------------------------------------------------------------------------------------
# class accuracy of samples
# --------------------------------------------------------------------------------------


def test_true_labels_give_the_classifier_accuracy_and_shuffled_ones_one_in_c(digits_classifier, digits_test):
    clf = digits_classifier
    # Another binarization of the test split: the same accuracy up to the noise of 297 draws.
    draws = digits_test.binarize(seed=12345)
    result = class_sample_accuracy(clf, draws, digits_test.labels)
    assert isinstance(result, ClassSampleAccuracy)
    p, n = clf.test_accuracy, len(digits_test)
    assert abs(result.accuracy - p) < 4 * math.sqrt(2 * p * (1 - p) / n)
    assert result.counts == {k: int(np.sum(digits_test.labels == k)) for k in range(10)}
    assert result.confusion.sum() == n and np.trace(result.confusion) == round(result.accuracy * n)
    assert result.accuracy == pytest.approx(sum(result.per_class[k] * result.counts[k] for k in range(10)) / n)
    assert result.accuracy == clf.accuracy(draws, np.eye(10, dtype=int)[digits_test.labels])  # one-hot labels
    json.dumps(result.to_dict())

    # Every digit, labels shuffled: right by chance only, about 1/C (balanced classes).
    everything = load_dataset("digits", "train_full")
    images = np.concatenate([everything.images, digits_test.images])
    shuffled = np.random.default_rng(0).permutation(np.concatenate([everything.labels, digits_test.labels]))
    chance = class_sample_accuracy(clf, images, shuffled)
    assert abs(chance.accuracy - 0.1) < 4 * math.sqrt(0.1 * 0.9 / len(images))


def test_only_the_classes_generated_are_reported(digits_classifier, digits_test):
    threes = digits_test.images[digits_test.labels == 3]
    result = class_sample_accuracy(digits_classifier, threes, np.full(len(threes), 3))
    assert list(result.per_class) == [3] and result.counts == {3: len(threes)}
    assert result.per_class[3] == result.accuracy > 0.5  # 30 threes, ~0.77


def test_generated_image_measures_tell_real_digits_from_noise(digits_classifier, digits_test):
    clf = digits_classifier
    reference = digits_test.binarize(seed=1)
    real = generated_image_measures(clf, digits_test.binarize(seed=2), digits_test.labels, reference)
    noise = np.random.default_rng(0).random((len(digits_test), 8, 8)) < 0.3
    fake = generated_image_measures(clf, noise.astype(np.float32), digits_test.labels, reference.images)
    assert isinstance(real, GeneratedImageMeasures)
    assert real.accuracy > 0.75 and real.frechet_distance >= 0
    assert fake.accuracy < 0.3 and fake.frechet_distance > 5 * real.frechet_distance
    assert (real.num_generated, real.num_reference, real.dataset) == (297, 297, "digits")
    assert real.classifier_test_accuracy == clf.test_accuracy
    assert set(real.per_class_accuracy) == set(range(10))
    assert json.loads(json.dumps(real.to_dict()))["frechet_distance"] == real.frechet_distance
