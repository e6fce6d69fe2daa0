"""Evaluating a trained QVAE the paper's way (Sec. III.A, IV.A; App. A)."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from .partition import LogPartition, log_partition

__all__ = ["prior_log_partition", "importance_weighted_log_likelihood", "elbo", "active_units", "posterior_means", "weight_l1",
           "evaluate_model", "ACTIVE_UNIT_THRESHOLD"]

ACTIVE_UNIT_THRESHOLD = 0.01


def prior_log_partition(model, method: str = "auto", seed: int | None = 0, **kwargs) -> LogPartition:
    """``log Z`` of the model's prior: exact when feasible (Bernoulli: analytic), else PA."""
    b, quadratic = model.prior.numpy_parameters()
    return log_partition(b, quadratic, method=method, seed=seed, graph=model.graph, **kwargs)


def _batches(images: np.ndarray, batch_size: int):
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size]


def importance_weighted_log_likelihood(model, images: np.ndarray, log_z: float, num_samples: int = 1000,
                                       batch_size: int | None = None) -> np.ndarray:
    """Per-image ``log p(x) ~ log mean_k p(x, z_k) / q(z_k|x) - log Z`` with discrete ``z_k ~ q(z|x)``.

    ``K = num_samples`` (paper: 1000) discrete samples, the ``tau -> 0`` limit; the bound
    tightens as ``K`` grows.

    Returns:
        ``(N,)`` float64 estimates in nats.
    """
    batch_size = batch_size or max(1, 4000 // num_samples)
    out = []
    for x in _batches(np.asarray(images, np.float32), batch_size):
        log_w, _ = model.importance_log_weights(x, num_samples, training=False, relaxed=False)
        out.append((tf.reduce_logsumexp(log_w, axis=1) - np.log(num_samples)).numpy())
    return np.concatenate(out).astype(np.float64) - float(log_z)


def elbo(model, images: np.ndarray, log_z: float, num_samples: int = 10, batch_size: int = 256) -> np.ndarray:
    """Per-image ELBO ``E_q[log p(x|z) - E(z) - log q(z|x)] - log Z``, averaged over ``num_samples`` discrete draws."""
    out = []
    for x in _batches(np.asarray(images, np.float32), batch_size):
        log_w, _ = model.importance_log_weights(x, num_samples, training=False, relaxed=False)
        out.append(tf.reduce_mean(log_w, axis=1).numpy())
    return np.concatenate(out).astype(np.float64) - float(log_z)


def posterior_means(model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """``(N, L)`` posterior means ``q(z_i = 1 | x)`` (group 2 conditioned on group 1's means)."""
    out = [model.posterior(tf.convert_to_tensor(x), 1, False, deterministic=True)[0].numpy()
           for x in _batches(np.asarray(images, np.float32), batch_size)]
    return np.concatenate(out)


def active_units(model, images: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, np.ndarray]:
    """Units whose posterior mean varies over the data by more than ``threshold`` (paper: 0.01).

    Returns:
        ``(count, per-unit variance)``.
    """
    variance = posterior_means(model, images).var(axis=0)
    return int((variance > threshold).sum()), variance


def weight_l1(model) -> float:
    """L1 norm of the prior's (masked) couplings."""
    return float(np.abs(model.prior.masked_weights().numpy()).sum())


def evaluate_model(model, images: np.ndarray, *, num_samples: int = 1000, log_z: LogPartition | None = None,
                   seed: int | None = 0, log_z_replicas: int = 4000) -> dict[str, Any]:
    """Test log-likelihood, ELBO, active units and weight L1 of a trained model.

    Args:
        model: a :class:`qhvae.vae.QVAE`.
        images: ``(N, H, W, 1)`` binary test images.
        num_samples: importance samples per image (paper: 1000).
        log_z: a precomputed estimate; by default exact when feasible, else PA with
            ``log_z_replicas`` replicas.
        seed: seed of the PA estimate.

    Returns:
        A dict with ``log_likelihood`` (mean over images), ``log_likelihood_stderr``
        (over images), ``elbo``, ``active_units``, ``weight_l1``, ``log_z``,
        ``log_z_stderr``, ``log_z_method``, ``num_images``, ``num_samples``.
    """
    if log_z is None:
        log_z = prior_log_partition(model, seed=seed, num_replicas=log_z_replicas)
    ll = importance_weighted_log_likelihood(model, images, log_z.value, num_samples=num_samples)
    count, _ = active_units(model, images)
    return {
        "log_likelihood": float(ll.mean()),
        "log_likelihood_stderr": float(ll.std(ddof=1) / np.sqrt(len(ll))) if len(ll) > 1 else float("nan"),
        "elbo": float(elbo(model, images, log_z.value).mean()),
        "active_units": count,
        "weight_l1": weight_l1(model),
        "log_z": float(log_z.value),
        "log_z_stderr": float(log_z.stderr),
        "log_z_method": log_z.method,
        "num_images": int(len(images)),
        "num_samples": int(num_samples),
    }
