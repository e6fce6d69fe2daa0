"""Checks for user-supplied scalars, shared by every layer.

One place decides what "a positive integer" means in qhvae: a Python or numpy integer, never
a bool (``True`` is an ``int`` to Python, but ``num_reads=True`` is a mistake), and never a
float that happens to be whole (``num_sweeps=2.5`` must not become 2, and ``2.0`` is refused
too, so that nothing is silently truncated).

Example:
    >>> from qhvae.validation import check_int
    >>> check_int("num_reads", 10)
    10
    >>> check_int("num_reads", 0)
    Traceback (most recent call last):
    ...
    ValueError: num_reads must be a positive integer, got 0
"""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np

__all__ = ["check_int", "check_real", "is_integer", "check_image_shape", "check_num_negative_samples",
           "MIN_IMAGE_SIZE", "MAX_NEGATIVE_SAMPLES", "MAX_NEGATIVE_VALUES"]

#: The smallest image side the VAE's networks take (the conv network halves it twice).
MIN_IMAGE_SIZE = 4

#: The most negative-phase samples per training step. The paper draws 1000; the step holds
#: the samples as an ``(N, L)`` float32 array and the prior's energies of them several times
#: over, so 10**7 samples of the paper's 288 units are already ~12 GB a copy: a larger value
#: can only be a slip of the keyboard, and is refused before anything is allocated (past
#: 2**31 values TensorFlow's shapes overflow and the step failed with a negative shape).
MAX_NEGATIVE_SAMPLES = 10**7

#: The most values (samples x latent units) one negative phase may hold: TensorFlow counts a
#: tensor's elements in int32 on many kernels, and 2**31 float32 values are 8 GiB.
MAX_NEGATIVE_VALUES = 2**31 - 1


def is_integer(value: Any) -> bool:
    """Whether ``value`` is a Python or numpy integer and not a bool.

    Example:
        >>> is_integer(3), is_integer(True), is_integer(3.0), is_integer(np.int64(3))
        (True, False, False, True)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@overload
def check_int(name: str, value: Any, minimum: int | None = 1, maximum: int | None = None,
              *, allow_none: Literal[False] = False, error: type[Exception] = ValueError) -> int: ...


@overload
def check_int(name: str, value: Any, minimum: int | None = 1, maximum: int | None = None,
              *, allow_none: bool, error: type[Exception] = ValueError) -> int | None: ...


def check_int(name: str, value: Any, minimum: int | None = 1, maximum: int | None = None,
              *, allow_none: bool = False, error: type[Exception] = ValueError) -> int | None:
    """Return ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``.

    Args:
        name: what the value is, as the user wrote it (used in the message).
        value: the value to check.
        minimum: smallest value allowed (``None``: no lower bound).
        maximum: largest value allowed (``None``: no upper bound).
        allow_none: accept ``None`` (returned as is).
        error: the exception class to raise (a subclass of ``ValueError`` or the caller's own
            user-error class).

    Raises:
        ValueError: ``value`` is a bool, a float, not a number, or out of range (or ``error``).

    Example:
        >>> check_int("seed", 0, minimum=0)
        0
        >>> check_int("bits", 40, minimum=1, maximum=32)
        Traceback (most recent call last):
        ...
        ValueError: bits must be an integer in [1, 32], got 40
    """
    if minimum is not None and maximum is not None:
        expected = f"an integer in [{minimum}, {maximum}]"
    elif minimum == 1:
        expected = "a positive integer"
    elif minimum == 0:
        expected = "a non-negative integer"
    elif minimum is not None:
        expected = f"an integer >= {minimum}"
    elif maximum is not None:
        expected = f"an integer <= {maximum}"
    else:
        expected = "an integer"
    if allow_none:
        if value is None:
            return None
        expected += " or None"
    if not is_integer(value):
        raise error(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise error(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_real(name: str, value: Any, minimum: float | None = None, maximum: float | None = None,
               *, inclusive: bool = True, error: type[Exception] = ValueError) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number within the bounds.

    Args:
        name: what the value is (used in the message).
        value: the value to check (int, float or numpy real; not bool, not complex).
        minimum: lower bound (``None``: none).
        maximum: upper bound (``None``: none).
        inclusive: whether the bounds themselves are allowed.
        error: the exception class to raise (as in :func:`check_int`).

    Raises:
        ValueError: a bool, a complex number, NaN/inf, not a number, or out of range (or ``error``).

    Example:
        >>> check_real("tau", 0.5, minimum=0, inclusive=False)
        0.5
        >>> check_real("tau", 0, minimum=0, inclusive=False)
        Traceback (most recent call last):
        ...
        ValueError: tau must be a finite number > 0, got 0
    """
    lo = ">=" if inclusive else ">"
    hi = "<=" if inclusive else "<"
    parts = []
    if minimum is not None:
        parts.append(f"{lo} {minimum:g}")
    if maximum is not None:
        parts.append(f"{hi} {maximum:g}")
    expected = "a finite number" + (" " + " and ".join(parts) if parts else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise error(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise error(f"{name} must be {expected}, got {value!r}")
    below = minimum is not None and (value < minimum if inclusive else value <= minimum)
    above = maximum is not None and (value > maximum if inclusive else value >= maximum)
    if below or above:
        raise error(f"{name} must be {expected}, got {value!r}")
    return float(value)


def check_image_shape(shape: Any, name: str = "image_shape", *, error: type[Exception] = ValueError
                      ) -> tuple[int, int, int]:
    """Return ``shape`` as ``(H, H, 1)`` ints if it is the shape of images the VAE takes.

    The rule of both the model (``QVAE(image_shape)``) and ``qhvae train`` (its data): square,
    single-channel, at least :data:`MIN_IMAGE_SIZE` pixels a side, integer sizes (``8.7`` is
    never truncated to 8).

    Raises:
        ValueError: anything else (or ``error``), naming ``name``.

    Example:
        >>> check_image_shape((8, 8, 1))
        (8, 8, 1)
        >>> check_image_shape((8.7, 8.7, 1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: image_shape must be (H, H, 1) with an integer H >= 4 (...), got (8.7, 8.7, 1)
    """
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if (dims is None or len(dims) != 3 or not all(is_integer(d) for d in dims) or dims[0] != dims[1]
            or dims[2] != 1 or dims[0] < MIN_IMAGE_SIZE):
        raise error(f"{name} must be (H, H, 1) with an integer H >= {MIN_IMAGE_SIZE} (square single-channel "
                    f"images of at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE} pixels), got {shape!r}")
    return int(dims[0]), int(dims[1]), 1


def check_num_negative_samples(value: Any, num_units: int | None = None, *,
                               error: type[Exception] = ValueError) -> int:
    """Return ``value`` as an ``int`` if it is a number of negative-phase samples a training step can hold.

    The rule of both ``QVAE(num_negative_samples=...)`` and ``qhvae train
    --num-negative-samples``: a positive integer (``2.5`` is never truncated to 2), at most
    :data:`MAX_NEGATIVE_SAMPLES`, and, when the number of latent units ``num_units`` is
    known, at most :data:`MAX_NEGATIVE_VALUES` values in all.

    Raises:
        ValueError: anything else (or ``error``), with the bound and why.

    Example:
        >>> check_num_negative_samples(1000, num_units=288)
        1000
        >>> check_num_negative_samples(10**12)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: num_negative_samples must be an integer in [1, 10000000], got 1000000000000 (...)
    """
    name = "num_negative_samples"
    why = "each training step holds num_negative_samples x latent units values several times over; the paper uses 1000"
    if is_integer(value) and value > MAX_NEGATIVE_SAMPLES:
        raise error(f"{name} must be an integer in [1, {MAX_NEGATIVE_SAMPLES}], got {value!r} ({why}; "
                    f"{MAX_NEGATIVE_SAMPLES} samples of 288 units are already ~12 GB as float32)")
    count = check_int(name, value, error=error)
    if num_units is not None and count * int(num_units) > MAX_NEGATIVE_VALUES:
        raise error(f"{name} = {count} with {num_units} latent units is {count * int(num_units)} values, more "
                    f"than one negative phase can hold ({MAX_NEGATIVE_VALUES}, 8 GiB as float32); "
                    f"use at most {MAX_NEGATIVE_VALUES // int(num_units)} ({why})")
    return count
