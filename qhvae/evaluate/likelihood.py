"""Evaluating a trained QVAE the paper's way (Sec. III.A, IV.A; App. A)."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from ..validation import check_int
from .partition import LogPartition, log_partition

__all__ = ["prior_log_partition", "class_log_partitions", "importance_weighted_log_likelihood", "elbo",
           "active_units", "posterior_means", "weight_l1", "evaluate_model", "class_log_likelihoods",
           "generative_classifier", "active_hidden_units", "ACTIVE_UNIT_THRESHOLD"]

ACTIVE_UNIT_THRESHOLD = 0.01


def prior_log_partition(model, method: str = "auto", seed: int | None = 0, label: int | None = None,
                        **kwargs) -> LogPartition:
    """``log Z`` of the model's prior: exact when feasible (Bernoulli: analytic), else PA.

    ``label``: for a class-conditional model, ``log Z(y)`` of that class (see
    :func:`class_log_partitions` for all of them).
    """
    b, quadratic = model.prior.numpy_parameters(label)
    return log_partition(b, quadratic, method=method, seed=seed, graph=model.graph, **kwargs)


def class_log_partitions(model, method: str = "auto", seed: int | None = 0, **kwargs) -> list[LogPartition]:
    """``log Z(y)`` of every class ``y`` of a class-conditional model's prior ``p(z | y)``.

    Each class is its own machine (biases ``b + U_y``): exact when feasible, else one PA
    estimate per class (seeds ``seed + y``, so the classes' errors are independent).

    Example:
        >>> from qhvae.vae import QVAE
        >>> model = QVAE((8, 8, 1), "bernoulli", graph_kwargs={"num_nodes": 4}, network="fc",
        ...              network_options={"hidden": (8,)}, num_negative_samples=10, num_classes=2)
        >>> [round(z.value, 4) for z in class_log_partitions(model)]  # 4 log 2: U starts at zero
        [2.7726, 2.7726]
    """
    if not getattr(model, "num_classes", 0):
        raise ValueError("class_log_partitions needs a class-conditional model (num_classes > 0)")
    return [prior_log_partition(model, method, None if seed is None else seed + y, label=y, **kwargs)
            for y in range(model.num_classes)]


def _batches(images: np.ndarray, batch_size: int):
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size]


def _per_image_log_z(log_z: Any, num_images: int) -> np.ndarray:
    """``log_z`` (a number, or one per image) as ``(N,)`` float64."""
    value = np.asarray(log_z, np.float64)
    if value.ndim == 0:
        return np.full(num_images, float(value))
    if value.shape != (num_images,):
        raise ValueError(f"log_z must be a number or one value per image ({num_images}), got shape {value.shape}")
    return value


def _log_weight_batches(model, images: np.ndarray, labels: Any, num_samples: int, batch_size: int,
                        hidden_samples: int = 1):
    """``(log_w (B, K), rows)`` per batch of images (with their labels, for a conditional model)."""
    images = np.asarray(images, np.float32)
    if getattr(model, "num_classes", 0):
        if labels is None:
            raise ValueError(f"this model is class-conditional ({model.num_classes} classes): give the images' labels")
        labels = model.check_labels(labels, len(images))
    elif labels is not None:
        raise ValueError("this model is unconditional: it takes no labels")
    for start in range(0, len(images), batch_size):
        y = None if labels is None else labels[start:start + batch_size]
        log_w, _ = model.importance_log_weights(images[start:start + batch_size], num_samples, training=False,
                                                relaxed=False, labels=y, hidden_samples=hidden_samples)
        yield log_w


def importance_weighted_log_likelihood(model, images: np.ndarray, log_z: Any, num_samples: int = 1000,
                                       batch_size: int | None = None, labels: Any = None,
                                       hidden_samples: int = 1) -> np.ndarray:
    """Per-image ``log p(x) ~ log mean_k p(x, z_k) / q(z_k|x) - log Z`` with discrete ``z_k ~ q(z|x)``.

    ``K = num_samples`` (paper: 1000) discrete samples, the ``tau -> 0`` limit; the bound
    tightens as ``K`` grows. For a class-conditional model, ``labels`` are the images'
    classes and the estimate is ``log p(x | y)``; ``log_z`` is then one ``log Z(y_i)`` per
    image (a number is every image's). With hidden units coupled to each other, each ``z_k``'s
    free energy is estimated from ``hidden_samples`` draws of ``h``
    (:meth:`~qhvae.vae.prior.BoltzmannPrior.latent_energy`): the bound tightens with them too.

    Returns:
        ``(N,)`` float64 estimates in nats.
    """
    hidden_samples = check_int("hidden_samples", hidden_samples, minimum=1)
    batch_size = batch_size or max(1, 4000 // (num_samples * hidden_samples))
    out = [(tf.reduce_logsumexp(log_w, axis=1) - np.log(num_samples)).numpy()
           for log_w in _log_weight_batches(model, images, labels, num_samples, batch_size, hidden_samples)]
    return np.concatenate(out).astype(np.float64) - _per_image_log_z(log_z, len(images))


def elbo(model, images: np.ndarray, log_z: Any, num_samples: int = 10, batch_size: int = 256,
         labels: Any = None, hidden_samples: int = 1) -> np.ndarray:
    """Per-image ELBO ``E_q[log p(x|z) - E(z) - log q(z|x)] - log Z``, averaged over ``num_samples`` discrete draws
    (with ``labels``: of ``log p(x | y)``, as :func:`importance_weighted_log_likelihood`).

    With hidden units, ``E(z)`` is the free energy ``F(z)``: exact when they are not coupled
    to each other, else estimated from ``hidden_samples`` draws of ``h`` (the bound is then
    looser than the model's ELBO, less so as ``hidden_samples`` grows)."""
    hidden_samples = check_int("hidden_samples", hidden_samples, minimum=1)
    out = [tf.reduce_mean(log_w, axis=1).numpy()
           for log_w in _log_weight_batches(model, images, labels, num_samples, batch_size, hidden_samples)]
    return np.concatenate(out).astype(np.float64) - _per_image_log_z(log_z, len(images))


def posterior_means(model, images: np.ndarray, batch_size: int = 512, labels: Any = None) -> np.ndarray:
    """``(N, L)`` posterior means ``q(z_i = 1 | x)`` (group 2 conditioned on group 1's means;
    ``q(z | x, y)`` with the images' ``labels`` for a class-conditional model)."""
    images = np.asarray(images, np.float32)
    if getattr(model, "num_classes", 0):
        labels = model.check_labels(labels, len(images))
    out = [model.posterior(tf.convert_to_tensor(images[i:i + batch_size]), 1, False, deterministic=True,
                           labels=None if labels is None else labels[i:i + batch_size])[0].numpy()
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out)


def active_units(model, images: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD,
                 labels: Any = None) -> tuple[int, np.ndarray]:
    """Units whose posterior mean varies over the data by more than ``threshold`` (paper: 0.01).

    Returns:
        ``(count, per-unit variance)``.
    """
    variance = posterior_means(model, images, labels=labels).var(axis=0)
    return int((variance > threshold).sum()), variance


def active_hidden_units(model, images: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD,
                        labels: Any = None) -> tuple[int, np.ndarray]:
    """Hidden units of the prior whose mean given the data varies by more than ``threshold``.

    A hidden unit's mean given an image is ``E[h_j | z]`` at the posterior means ``z``
    (exact for uncoupled hidden units, mean field for coupled ones); a unit whose mean is the
    same for every image carries nothing about the data.

    Returns:
        ``(count, per-unit variance)``; ``(0, empty)`` for a prior without hidden units.
    """
    if model.graph.hidden is None:
        return 0, np.zeros(0)
    if getattr(model, "num_classes", 0):
        labels = model.check_labels(labels, len(images))
    z = posterior_means(model, images, labels=labels)
    means = model.prior.hidden_mean_field(tf.constant(z, tf.float32), None if labels is None
                                          else tf.constant(labels)).numpy()
    variance = means.var(axis=0)
    return int((variance > threshold).sum()), variance


def weight_l1(model) -> float:
    """L1 norm of the prior's (masked) couplings."""
    return float(np.abs(model.prior.masked_weights().numpy()).sum())


def class_log_likelihoods(model, images: np.ndarray, log_z_per_class: Any, num_samples: int = 100,
                          batch_size: int | None = None) -> np.ndarray:
    """``(N, C)`` estimates of ``log p(x | y)`` for every image and every class ``y`` of a conditional model.

    One importance-weighted estimate per class (``K = num_samples``, the posterior
    ``q(z | x, y)`` of that class): ``C`` times the cost of one.
    """
    log_z_per_class = np.asarray([float(z) for z in log_z_per_class], np.float64)
    if log_z_per_class.shape != (model.num_classes,):
        raise ValueError(f"need one log Z per class ({model.num_classes}), got {log_z_per_class.shape}")
    columns = [importance_weighted_log_likelihood(model, images, log_z_per_class[y], num_samples, batch_size,
                                                  labels=np.full(len(images), y))
               for y in range(model.num_classes)]
    return np.stack(columns, axis=1)


def generative_classifier(model, images: np.ndarray, labels: np.ndarray, log_z_per_class: Any, *,
                          class_prior: Any = None, num_samples: int = 100) -> dict[str, Any]:
    """Classify images by Bayes' rule on the generative model: ``argmax_y log p(x|y) + log p(y)``.

    Args:
        model: a class-conditional :class:`~qhvae.vae.QVAE`.
        images, labels: test images and their true classes.
        log_z_per_class: ``log Z(y)`` of every class (:func:`class_log_partitions`).
        class_prior: ``p(y)`` (e.g. the training set's class frequencies); ``None``: uniform.
        num_samples: importance samples per image and class.

    Returns:
        ``accuracy``, ``per_class_accuracy`` (list), ``marginal_log_likelihood`` (the
        mean of ``log p(x) = logsumexp_y log p(x|y) + log p(y)``, an estimate of the model's
        unconditional test log-likelihood, comparable with an unconditional model's),
        ``marginal_log_likelihood_stderr``, ``num_images``, ``num_samples``.
    """
    labels = model.check_labels(labels, len(images))
    num_classes = model.num_classes
    log_prior = (np.full(num_classes, -np.log(num_classes)) if class_prior is None
                 else np.log(np.asarray(class_prior, np.float64) / np.sum(class_prior)))
    if log_prior.shape != (num_classes,):
        raise ValueError(f"class_prior needs one probability per class ({num_classes}), got {log_prior.shape}")
    joint = class_log_likelihoods(model, images, log_z_per_class, num_samples) + log_prior
    predicted = joint.argmax(axis=1)
    correct = predicted == labels
    per_class = [float(correct[labels == y].mean()) if np.any(labels == y) else float("nan")
                 for y in range(num_classes)]
    marginal = np.logaddexp.reduce(joint, axis=1)
    return {
        "accuracy": float(correct.mean()),
        "per_class_accuracy": per_class,
        "marginal_log_likelihood": float(marginal.mean()),
        "marginal_log_likelihood_stderr": float(marginal.std(ddof=1) / np.sqrt(len(marginal)))
        if len(marginal) > 1 else float("nan"),
        "num_images": int(len(images)),
        "num_samples": int(num_samples),
    }


def evaluate_model(model, images: np.ndarray, *, num_samples: int = 1000, log_z: Any = None,
                   seed: int | None = 0, log_z_replicas: int = 4000, labels: Any = None,
                   elbo_samples: int = 10, hidden_samples: int = 1) -> dict[str, Any]:
    """Test log-likelihood, ELBO, active units and weight L1 of a trained model.

    Args:
        model: a :class:`qhvae.vae.QVAE`.
        images: ``(N, H, W, 1)`` binary test images.
        num_samples: importance samples per image (paper: 1000).
        log_z: a precomputed estimate; by default exact when feasible, else PA with
            ``log_z_replicas`` replicas.
        seed: seed of the PA estimate.
        labels: the images' classes, for a class-conditional model: the results are then
            those of ``log p(x | y)``, ``log_z`` is a list of one :class:`LogPartition` per
            class (by default :func:`class_log_partitions`).
        elbo_samples: discrete draws per image of the ELBO; 0 skips it (``elbo`` is NaN).
        hidden_samples: with hidden units coupled to each other, the draws of ``h`` that
            estimate each ``z``'s free energy (:func:`importance_weighted_log_likelihood`).

    Returns:
        A dict with ``log_likelihood`` (mean over images), ``log_likelihood_stderr``
        (over images), ``elbo``, ``active_units``, ``weight_l1``, ``log_z``,
        ``log_z_stderr``, ``log_z_method``, ``num_images``, ``num_samples``
        (``active_units`` counts latent units; a prior with hidden units adds
        ``hidden_units``, ``active_hidden_units`` and ``hidden_coupled``, and coupled ones
        ``hidden_samples``). For a
        conditional model also ``conditional: True``, ``log_z_per_class`` and
        ``log_z_stderr_per_class``; ``log_z`` is then the mean of ``log Z(y_i)`` over the
        images, and its error combines the classes' (independent) errors.
    """
    if getattr(model, "num_classes", 0):
        labels = model.check_labels(labels, len(images))
        per_class = class_log_partitions(model, seed=seed, num_replicas=log_z_replicas) if log_z is None else log_z
        if len(per_class) != model.num_classes:
            raise ValueError(f"need one log Z per class ({model.num_classes}), got {len(per_class)}")
        values = np.array([z.value for z in per_class])
        errors = np.array([z.stderr for z in per_class])
        share = np.bincount(labels, minlength=model.num_classes) / len(labels)
        image_log_z = values[labels]
        summary = {"log_z": float(image_log_z.mean()), "log_z_stderr": float(np.sqrt(np.sum((share * errors) ** 2))),
                   "log_z_method": per_class[0].method, "conditional": True,
                   "log_z_per_class": values.tolist(), "log_z_stderr_per_class": errors.tolist()}
    else:
        if labels is not None:
            raise ValueError("this model is unconditional: it takes no labels")
        if log_z is None:
            log_z = prior_log_partition(model, seed=seed, num_replicas=log_z_replicas)
        image_log_z = log_z.value
        summary = {"log_z": float(log_z.value), "log_z_stderr": float(log_z.stderr), "log_z_method": log_z.method}
    ll = importance_weighted_log_likelihood(model, images, image_log_z, num_samples=num_samples, labels=labels,
                                            hidden_samples=hidden_samples)
    count, _ = active_units(model, images, labels=labels)
    if model.graph.hidden is not None:
        summary["hidden_units"] = model.graph.num_hidden
        summary["active_hidden_units"] = active_hidden_units(model, images, labels=labels)[0]
        summary["hidden_coupled"] = model.graph.hidden_coupled
        if model.graph.hidden_coupled:
            summary["hidden_samples"] = int(hidden_samples)
    return {
        "log_likelihood": float(ll.mean()),
        "log_likelihood_stderr": float(ll.std(ddof=1) / np.sqrt(len(ll))) if len(ll) > 1 else float("nan"),
        "elbo": float(elbo(model, images, image_log_z, elbo_samples, labels=labels,
                           hidden_samples=hidden_samples).mean()) if elbo_samples
        else float("nan"),
        "active_units": count,
        "weight_l1": weight_l1(model),
        **summary,
        "num_images": int(len(images)),
        "num_samples": int(num_samples),
    }
