"""Validation of user image arrays: anything array-like -> float32 ``(N, H, W, 1)`` in [0, 1].

Kept apart from the loaders because the VAE and :class:`qhvae.data.Dataset` call it on
arrays that never came from a file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_images", "EIGHT_BIT_MIN_MAX", "RANGE_ATOL", "image_batch_shape_problem", "check_image_batch"]

#: How far outside ``[0, 1]`` float pixel values may lie (rounding) before they are refused.
RANGE_ATOL = 1e-6

#: With ``scale="auto"``, integer images whose maximum is below this (and above 1) are refused:
#: 8-bit data uses the top bit, other bit depths (``0..16``, ``0..63``) must be named by ``scale``.
EIGHT_BIT_MIN_MAX = 128


def as_images(
    array: Any, *, name: str = "images", scale: str | float = "auto", atol: float = RANGE_ATOL
) -> np.ndarray:
    """Validate an array of single-channel images and return it as float32 ``(N, H, W, 1)``.

    The VAE calls this on whatever data users hand it, so mistakes surface here with a
    clear message rather than as a NaN loss later.

    Accepted input (numpy arrays, lists, eager tensors):

    - shapes ``(N, H, W)`` or ``(N, H, W, 1)`` with ``N, H, W >= 1``;
    - unsigned/signed integers or booleans: 0/1 values are taken as binary images as they
      are; 8-bit grey levels (``0..255`` with a maximum of 128 or more, ``uint8`` MNIST)
      are divided by 255. Integer grey levels whose maximum is 2..127 are refused: they are
      another bit depth (scikit-learn's digits are ``0..16``), and dividing them by 255
      would silently darken every image. Say what they are with ``scale`` (``scale=16``
      for the digits, ``scale=255`` for dark 8-bit images);
    - floats: finite values in ``[0, 1]`` (values within ``atol`` outside are clipped).

    Args:
        array: The images.
        name: What to call the array in error messages.
        scale: ``"auto"`` (the rules above) or a number to divide by (e.g. ``255`` or
            ``16``; ``1`` keeps values as they are); the result must lie in ``[0, 1]``.
        atol: Tolerance for float values slightly outside ``[0, 1]``.

    Returns:
        A C-contiguous float32 array of shape ``(N, H, W, 1)`` with values in ``[0, 1]``
        (the input itself when it already is one).

    Raises:
        TypeError: Non-numeric data (strings, objects, complex numbers).
        ValueError: Wrong rank, more than one channel, empty, NaN/inf, or values outside
            the accepted range; the message says which and how to fix it.

    Example:
        >>> import numpy as np
        >>> as_images(np.array([[[0, 255], [128, 0]]], dtype=np.uint8)).shape
        (1, 2, 2, 1)
        >>> float(as_images(np.full((2, 3, 3), 255, np.uint8)).max())
        1.0
        >>> as_images(np.full((2, 3, 3), 2.0))
        Traceback (most recent call last):
        ...
        ValueError: images: values must lie in [0, 1] for float data, got range [2, 2]; \
grey levels in 0..255 should be divided by 255 first (or pass scale=255)
    """
    try:
        arr = np.asarray(array)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name}: cannot be converted to an array ({exc})") from exc
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name}: expected a numeric array (bool, integer or float), got dtype {arr.dtype}"
        )
    if arr.ndim == 4:
        if arr.shape[-1] != 1:
            raise ValueError(
                f"{name}: expected single-channel images (N, H, W) or (N, H, W, 1), got shape "
                f"{arr.shape} with {arr.shape[-1]} channels; convert to grey levels first"
            )
    elif arr.ndim == 3:
        arr = arr[..., np.newaxis]
    else:
        hint = ""
        if arr.ndim == 2:
            hint = (
                "; a batch of flattened images (N, H*W) must be reshaped, e.g. "
                "array.reshape(-1, 28, 28), and a single image needs a batch axis: array[None]"
            )
        raise ValueError(
            f"{name}: expected shape (N, H, W) or (N, H, W, 1), got {arr.ndim}-d shape "
            f"{arr.shape}{hint}"
        )
    if arr.size == 0:
        raise ValueError(f"{name}: is empty (shape {arr.shape}); need at least one image")

    lo, hi = float(arr.min()), float(arr.max())  # NaN propagates through min/max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: contains {bad} NaN or infinite value(s)")

    if scale == "auto":
        if kind in "biu":
            if lo < 0 or hi > 255:
                raise ValueError(
                    f"{name}: integer images must hold grey levels 0..255 or binary 0/1, got "
                    f"range [{lo:g}, {hi:g}]"
                )
            if 1 < hi < EIGHT_BIT_MIN_MAX:
                raise ValueError(
                    f"{name}: integer grey levels up to {hi:g} are not 8-bit (0..255) data, and are not "
                    f"divided by 255 without a word; say what they are: scale={hi:g} if {hi:g} is white "
                    f"(scale=16 for scikit-learn's digits, 0..16), or scale=255 for dark 8-bit images; "
                    f"in a file, store floats in [0, 1] instead (images / {hi:g})"
                )
            divisor = 1.0 if hi <= 1 else 255.0
        else:
            divisor = 1.0
            if lo < -atol or hi > 1 + atol:
                hint = (
                    "; grey levels in 0..255 should be divided by 255 first (or pass scale=255)"
                    if lo >= 0 and hi <= 255
                    else ""
                )
                raise ValueError(
                    f"{name}: values must lie in [0, 1] for float data, got range "
                    f"[{lo:g}, {hi:g}]{hint}"
                )
    else:
        try:
            divisor = float(scale)
        except (TypeError, ValueError):
            raise ValueError(f"scale must be 'auto' or a positive number, got {scale!r}") from None
        if not np.isfinite(divisor) or divisor <= 0:
            raise ValueError(f"scale must be 'auto' or a positive number, got {scale!r}")
        if lo / divisor < -atol or hi / divisor > 1 + atol:
            raise ValueError(
                f"{name}: values divided by scale={scale:g} must lie in [0, 1], got range "
                f"[{lo / divisor:g}, {hi / divisor:g}]"
            )

    if arr.dtype == np.float32 and divisor == 1.0 and lo >= 0 and hi <= 1:
        return np.ascontiguousarray(arr)
    out = arr.astype(np.float32)
    if divisor != 1.0:
        out /= np.float32(divisor)
    if kind == "f" and (lo < 0 or hi > 1):
        np.clip(out, 0.0, 1.0, out=out)
    return np.ascontiguousarray(out)


def _expects(image_shape: tuple[int, ...]) -> str:
    h, w, c = image_shape
    return f"the model takes batches of images of shape (N, {h}, {w}, {c}) with values in [0, 1]"


def image_batch_shape_problem(shape: tuple, image_shape: tuple[int, ...], name: str = "images") -> str | None:
    """Why a batch of ``shape`` (``None`` for sizes not known yet) cannot go into a model of
    ``image_shape``, with what to do, or ``None`` when it can.

    Example:
        >>> print(image_batch_shape_problem((32, 64), (8, 8, 1)))
        images: the model takes batches of images of shape (N, 8, 8, 1) with values in [0, 1]; got a batch \
of shape (32, 64): flattened images must be reshaped, e.g. x.reshape(-1, 8, 8, 1)
        >>> image_batch_shape_problem((None, 8, 8, 1), (8, 8, 1)) is None
        True
    """
    shape, image_shape = tuple(shape), tuple(int(s) for s in image_shape)
    if len(shape) == 4 and all(s is None or s == t for s, t in zip(shape[1:], image_shape, strict=True)):
        return None
    size = int(np.prod(image_shape))
    if len(shape) == 2 and shape[1] == size:
        hint = f": flattened images must be reshaped, e.g. x.reshape(-1, {', '.join(map(str, image_shape))})"
    elif len(shape) == 3 and tuple(shape[1:]) == image_shape[:2]:
        hint = ": add the channel axis, e.g. x[..., None]"
    elif len(shape) == 4 and shape[-1] not in (None, 1):
        hint = f" with {shape[-1]} channels: convert to grey levels first"
    elif len(shape) in (3, 4) and shape[1] is not None:
        hint = (f": the model was built for {image_shape[0]}x{image_shape[1]} images; build one with "
                f"image_shape=({shape[1]}, {shape[2]}, 1) for these")
    else:
        hint = ""
    shown = "(" + ", ".join("None" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    return f"{name}: {_expects(image_shape)}; got a batch of shape {shown}{hint}"


def check_image_batch(batch: Any, image_shape: tuple[int, ...], name: str = "images") -> None:
    """Refuse a batch of images a model of ``image_shape`` cannot train on, saying why.

    The shape must be ``(N, H, W, 1)`` of the model; the values follow :func:`as_images`'s
    rules (numbers, no NaN or infinity, floats in ``[0, 1]``), except that integer grey
    levels are refused too: nothing divides them by 255 on their way into the model.

    Raises:
        ValueError: the batch does not fit, with the model's expected shape and range.

    Example:
        >>> check_image_batch(np.full((2, 8, 8, 1), 255.0), (8, 8, 1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: images: the model takes ... values in [0, 1]; values must lie in [0, 1] for float data, got \
range [255, 255]; grey levels in 0..255 should be divided by 255 first...
    """
    arr = np.asarray(batch)
    problem = image_batch_shape_problem(arr.shape, image_shape, name)
    if problem:
        raise ValueError(problem)
    try:
        as_images(arr, name=name)
    except (TypeError, ValueError) as exc:
        detail = str(exc).removeprefix(f"{name}: ")
        raise ValueError(f"{name}: {_expects(image_shape)}; {detail}") from None
    if arr.dtype.kind in "iu" and arr.size and arr.max() > 1:
        raise ValueError(f"{name}: {_expects(image_shape)}; got integer grey levels up to {arr.max()}, which "
                         f"reach the model as they are: pass floats, e.g. x / 255 (or qhvae.data.as_images(x))")
