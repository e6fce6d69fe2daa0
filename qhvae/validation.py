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
from typing import Any

import numpy as np

__all__ = ["check_int", "check_real", "is_integer"]


def is_integer(value: Any) -> bool:
    """Whether ``value`` is a Python or numpy integer and not a bool.

    Example:
        >>> is_integer(3), is_integer(True), is_integer(3.0), is_integer(np.int64(3))
        (True, False, False, True)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


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
               *, inclusive: bool = True) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number within the bounds.

    Args:
        name: what the value is (used in the message).
        value: the value to check (int, float or numpy real; not bool, not complex).
        minimum: lower bound (``None``: none).
        maximum: upper bound (``None``: none).
        inclusive: whether the bounds themselves are allowed.

    Raises:
        ValueError: a bool, a complex number, NaN/inf, not a number, or out of range.

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
        raise ValueError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    below = minimum is not None and (value < minimum if inclusive else value <= minimum)
    above = maximum is not None and (value > maximum if inclusive else value >= maximum)
    if below or above:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)
