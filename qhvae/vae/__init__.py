"""The Keras QVAE: model, prior layer, networks and training callbacks."""

import os

# TensorFlow prints several lines of CUDA/oneDNN notices at import; keep the CLI readable.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .model import DEFAULT_TAU, QVAE
from .negative import NegativePhase, resolve_sampler
from .networks import ConvDecoder, ConvEncoder, GatedConv2D
from .prior import BoltzmannPrior

__all__ = ["BoltzmannPrior", "ConvDecoder", "ConvEncoder", "DEFAULT_TAU", "GatedConv2D", "NegativePhase", "QVAE",
           "resolve_sampler"]
