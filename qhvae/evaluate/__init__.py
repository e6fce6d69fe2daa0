"""Evaluation: partition functions, importance-weighted likelihoods, active units.

The likelihood functions need TensorFlow and are imported on first use, so that
``qhvae.evaluate.log_partition`` stays light.
"""

from .classifier import ImageClassifier, load_classifier
from .generated import (
    ClassSampleAccuracy,
    GeneratedImageMeasures,
    class_sample_accuracy,
    frechet_distance,
    generated_image_measures,
)
from .partition import LOG_PARTITION_METHODS, LogPartition, log_partition

__all__ = [
    "LOG_PARTITION_METHODS",
    "LogPartition",
    "log_partition",
    "prior_log_partition",
    "importance_weighted_log_likelihood",
    "elbo",
    "active_units",
    "posterior_means",
    "weight_l1",
    "evaluate_model",
    "class_log_partitions",
    "class_log_likelihoods",
    "generative_classifier",
    "active_hidden_units",
    "ClassSampleAccuracy",
    "GeneratedImageMeasures",
    "ImageClassifier",
    "class_sample_accuracy",
    "frechet_distance",
    "generated_image_measures",
    "load_classifier",
]

_LAZY = {"prior_log_partition", "importance_weighted_log_likelihood", "elbo", "active_units", "posterior_means",
         "weight_l1", "evaluate_model", "class_log_partitions", "class_log_likelihoods", "generative_classifier",
         "active_hidden_units"}


def __getattr__(name):
    if name in _LAZY:
        from . import likelihood

        return getattr(likelihood, name)
    raise AttributeError(f"module 'qhvae.evaluate' has no attribute {name!r}")
