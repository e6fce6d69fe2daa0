"""Evaluation: partition functions (and, with the VAE, likelihoods and active units)."""

from .partition import LOG_PARTITION_METHODS, LogPartition, log_partition

__all__ = ["LOG_PARTITION_METHODS", "LogPartition", "log_partition"]
