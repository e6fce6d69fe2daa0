"""The Keras QVAE: model, prior layer, networks, negative phase and the paper's training schedules."""

from ..tfutil import quiet_tensorflow_logs

# TensorFlow prints several lines of CUDA/oneDNN notices at import; keep the CLI readable.
quiet_tensorflow_logs()

from .model import DEFAULT_TAU, QVAE
from .negative import NegativePhase, resolve_sampler
from .networks import NETWORKS, ConvDecoder, ConvEncoder, DenseDecoder, DenseEncoder, GatedConv2D
from .prior import BoltzmannPrior

__all__ = ["BoltzmannPrior", "ConvDecoder", "ConvEncoder", "DEFAULT_TAU", "DenseDecoder", "DenseEncoder", "GatedConv2D",
           "NETWORKS", "NegativePhase", "QVAE", "resolve_sampler"]
