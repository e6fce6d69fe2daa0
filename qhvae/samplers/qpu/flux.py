"""The constants of the h <-> flux-bias conversion that the qpu sampler and the emulator share.

``QPUSampler(condition_with="flux_biases")`` turns each condition's bias offsets into flux
biases with :func:`dwave.system.temperatures.h_to_fluxbias`, and the emulator turns them back
with :func:`dwave.system.temperatures.fluxbias_to_h`: both must use the same ``B``, ``Ip``
and ``MAFM``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...exceptions import ConfigError
from ...validation import check_real

__all__ = ["FLUX_BIAS_CONSTANTS", "flux_constants"]


def _flux_bias_defaults() -> dict[str, float | None]:
    """``B``, ``Ip`` and ``MAFM`` as :func:`dwave.system.temperatures.h_to_fluxbias` defaults them."""
    import inspect

    from dwave.system.temperatures import h_to_fluxbias

    parameters = inspect.signature(h_to_fluxbias).parameters
    return {name: parameters[name].default for name in ("B", "Ip", "MAFM")}


#: The constants of the h <-> flux-bias conversion by default: those of
#: :func:`dwave.system.temperatures.h_to_fluxbias` (Advantage_system4.1 at single-qubit
#: freeze-out: ``B = 1.391`` GHz, ``MAFM = 1.647`` pH, ``Ip`` inferred from them).
FLUX_BIAS_CONSTANTS: dict[str, float | None] = _flux_bias_defaults()


def flux_constants(constants: Mapping | None) -> dict[str, float | None]:
    """``constants`` (keys ``B``, ``Ip``, ``MAFM``) over :data:`FLUX_BIAS_CONSTANTS`, checked.

    Example:
        >>> flux_constants({"B": 1.2})["B"], flux_constants(None)["MAFM"]
        (1.2, 1.647)

    Raises:
        ConfigError: an unknown key, or a value that is not a positive number (``Ip`` and
            ``MAFM`` may be ``None``).
    """
    out = dict(FLUX_BIAS_CONSTANTS)
    for key, value in dict(constants or {}).items():
        if key not in out:
            raise ConfigError(f"flux_bias_constants: unknown constant {key!r}; known: B, Ip, MAFM")
        if value is None and key != "B":
            out[key] = None
            continue
        out[key] = check_real(f"flux_bias_constants[{key!r}]", value, minimum=0, inclusive=False, error=ConfigError)
    return out
