"""File formats of the datasets: IDX (MNIST, Fashion-MNIST), ``.amat``, Keras's ``.npz``.

Parsers take a file's (decompressed) bytes and its path (for error messages) and return
arrays; they never touch the file system, so :mod:`qhvae.data.integrity` can hash, verify
and cache a file once and hand the same bytes to any of them.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import zlib

import numpy as np

__all__ = [
    "decompress",
    "parse_idx_images",
    "parse_idx_labels",
    "parse_mnist_npz",
    "read_amat",
    "read_idx",
]

_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def decompress(raw: bytes, path: str | os.PathLike = "<bytes>") -> bytes:
    """Content of ``raw``: gunzip/bunzip2/unxz by magic bytes, else ``raw`` itself.

    The format is told by the bytes, not the file name, so a ``.gz`` that is not gzipped
    (or a gzipped file without the suffix) still reads.

    Args:
        raw: The file's bytes.
        path: The file name, for error messages.

    Returns:
        The decompressed bytes, or ``raw`` itself (the same object) when it is not
        compressed.

    Raises:
        ValueError: A corrupt or truncated gzip/bzip2/xz stream; the message names the file.

    Example:
        >>> import gzip
        >>> decompress(gzip.compress(b"abc"))
        b'abc'
        >>> decompress(b"plain")
        b'plain'
    """
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
        if raw[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(raw)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated compressed file ({type(exc).__name__}: {exc})"
        ) from exc
    return raw


def read_idx(
    data: bytes, path: str | os.PathLike = "<bytes>", ndim: int | None = None
) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file, as used by MNIST and Fashion-MNIST.

    Format: two zero bytes, a type code (``0x08`` unsigned byte, ``0x09`` signed byte,
    ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of
    dimensions, then each dimension as a big-endian uint32, then the data, big-endian.
    MNIST images have magic number ``0x00000803``, labels ``0x00000801``.

    Args:
        data: The file's (decompressed) bytes.
        path: The file name, for error messages.
        ndim: Required number of dimensions, if any.

    Returns:
        A read-only array view of ``data`` with the header's shape and type.

    Raises:
        ValueError: Wrong magic number, wrong rank, or a size that does not match the
            header (truncated file or trailing bytes); the message names the file.

    Example:
        >>> read_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])).tolist()
        [7, 8, 9]
    """
    if len(data) < 4:
        raise ValueError(
            f"{path}: not an IDX file: only {len(data)} byte(s), the header alone is 4+"
        )
    magic = struct.unpack(">I", data[:4])[0]
    code, dims_n = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file: bad magic number 0x{magic:08X} (expected 0x0000TTNN with "
            "type TT in 08/09/0B/0C/0D/0E, e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    if ndim is not None and dims_n != ndim:
        raise ValueError(
            f"{path}: IDX file has {dims_n} dimension(s) (magic 0x{magic:08X}), expected {ndim} "
            f"(0x{0x800 + ndim:08X})"
        )
    header = 4 + 4 * dims_n
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, needs {header})")
    shape = struct.unpack(f">{dims_n}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) < expected:
        raise ValueError(
            f"{path}: truncated IDX file: header says shape {shape} ({expected} bytes) but the "
            f"file has {len(data)} bytes"
        )
    if len(data) > expected:
        raise ValueError(
            f"{path}: malformed IDX file: {len(data) - expected} unexpected trailing bytes after "
            f"the data of shape {shape}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr


def read_amat(data: bytes, path: str | os.PathLike = "<bytes>", width: int = 784) -> np.ndarray:
    """Parse Larochelle's ``.amat`` text format: one image per line, ``width`` 0/1 values.

    The canonical layout (``"d d ... d\\n"``, 2 x ``width`` bytes a line) is parsed as a
    strided view of the bytes (0.1 s for the 50,000-image training file; ``np.loadtxt``
    takes 0.3 s, ``np.loadtxt`` of numpy < 1.23 about a minute). Other layouts (``1.0``,
    tabs, CRLF line ends) fall back to ``np.loadtxt``; the values must still be 0 or 1.

    Args:
        data: The file's (decompressed) bytes.
        path: The file name, for error messages.
        width: Values per line (784 = 28 x 28).

    Returns:
        uint8 array ``(N, width)`` of 0/1 values.

    Raises:
        ValueError: A line with the wrong number of values, or values other than 0/1.

    Example:
        >>> read_amat(b"0 1 1 0\\n1 1 0 0\\n", width=4).tolist()
        [[0, 1, 1, 0], [1, 1, 0, 0]]
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if not data.strip():
        raise ValueError(f"{path}: empty .amat file, no images")
    # Canonical layout: "d d ... d\n", 2 * width bytes per line.
    line = 2 * width
    full = buf if buf[-1] == ord("\n") else np.append(buf, np.uint8(ord("\n")))
    if full.size % line == 0:
        rows = full.reshape(-1, line)
        vals, seps = rows[:, 0::2], rows[:, 1::2]
        if (
            np.all(seps[:, -1] == ord("\n"))
            and np.all(seps[:, :-1] == ord(" "))
            and np.all((vals == ord("0")) | (vals == ord("1")))
        ):
            return vals - np.uint8(ord("0"))
    # Any other layout ("1.0", tabs, CRLF ...): numpy's C text reader.
    try:
        values = np.loadtxt(io.BytesIO(data), dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: malformed .amat file ({exc})") from None
    if values.size == 0:
        raise ValueError(f"{path}: no images in .amat file")
    if values.shape[1] != width:
        raise ValueError(
            f"{path}: malformed .amat file: {values.shape[1]} values per line, expected {width} "
            "(28 x 28)"
        )
    if not np.all((values == 0) | (values == 1)):
        bad = values[(values != 0) & (values != 1)]
        raise ValueError(
            f"{path}: statically binarized data must be 0/1, found values such as "
            f"{bad[:3].tolist()}"
        )
    return values.astype(np.uint8)



def parse_idx_images(content: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Unsigned-byte IDX images ``(N, H, W)`` (magic ``0x00000803``), as in MNIST.

    Args:
        content: The file's (decompressed) bytes.
        path: The file name, for error messages.

    Returns:
        A read-only uint8 array ``(N, H, W)``.

    Raises:
        ValueError: Not a 3-d unsigned-byte IDX file (see :func:`read_idx`).

    Example:
        >>> parse_idx_images(bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 5, 6])).shape
        (1, 1, 2)
    """
    return _parse_idx_bytes(content, path, ndim=3, what="images")


def parse_idx_labels(content: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Unsigned-byte IDX labels ``(N,)`` (magic ``0x00000801``), as in MNIST.

    Args:
        content: The file's (decompressed) bytes.
        path: The file name, for error messages.

    Returns:
        A read-only uint8 array ``(N,)``.

    Raises:
        ValueError: Not a 1-d unsigned-byte IDX file (see :func:`read_idx`).

    Example:
        >>> parse_idx_labels(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 3])).tolist()
        [7, 3]
    """
    return _parse_idx_bytes(content, path, ndim=1, what="labels")


def _parse_idx_bytes(
    content: bytes, path: str | os.PathLike, ndim: int, what: str
) -> np.ndarray:
    """An unsigned-byte IDX array of ``ndim`` dimensions (MNIST's images and labels)."""
    arr = read_idx(content, path, ndim=ndim)
    if arr.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected unsigned-byte IDX {what} (magic 0x0000080{ndim}), got {arr.dtype}"
        )
    return arr


def parse_mnist_npz(
    content: bytes, path: str | os.PathLike = "<bytes>"
) -> dict[str, np.ndarray]:
    """The arrays of a ``keras.datasets`` ``.npz`` file (Keras's ``mnist.npz``).

    Args:
        content: The file's bytes.
        path: The file name, for error messages.

    Returns:
        ``{array name: array}``, holding at least ``x_train``, ``y_train``, ``x_test`` and
        ``y_test``. Pickled objects are refused (``allow_pickle=False``).

    Raises:
        ValueError: Not a readable ``.npz`` file, or one without the four arrays.

    Example:
        >>> buf = io.BytesIO()
        >>> np.savez(buf, x_train=np.zeros((2, 3, 3), np.uint8), y_train=np.zeros(2, np.uint8),
        ...          x_test=np.zeros((1, 3, 3), np.uint8), y_test=np.zeros(1, np.uint8))
        >>> sorted(parse_mnist_npz(buf.getvalue()))
        ['x_test', 'x_train', 'y_test', 'y_train']
    """
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from exc
    need = {"x_train", "y_train", "x_test", "y_test"}
    if not need <= set(arrays):
        raise ValueError(
            f"{path}: expected arrays {sorted(need)} (keras.datasets format), found "
            f"{sorted(arrays)}"
        )
    return arrays
