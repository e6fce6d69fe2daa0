"""Integrity of data files: checksums, and a process-wide cache of parsed files.

When a ``SHA256SUMS*`` file (``sha256sum`` format, or BSD ``SHA256 (f) = h``) sits beside
a data file, the file is checked against it; an entry for ``name`` is the hash of the
file's bytes, an entry for ``name`` without its ``.gz`` is the hash of the decompressed
content (the form of ``SHA256SUMS.uncompressed``). The decompressed content of the
canonical files is also checked against known constants (:data:`KNOWN_SHA256`), so a
re-gzipped copy (e.g. Debian's Fashion-MNIST, whose ``.gz`` bytes differ from upstream)
still verifies while a corrupted one does not. A mismatch raises :class:`ValueError`
naming the file, the expected and the actual hash.

Parsed arrays and hashes are cached in the process, keyed on (real path, size, mtime), so
repeated loads are cheap (:func:`clear_cache` empties it).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .formats import decompress

__all__ = ["KNOWN_SHA256", "FileRecord", "clear_cache", "read_file"]

# sha256 of the *decompressed* content of the canonical files, by (dataset, file role).
# MNIST: the original IDX files, identical to /work/shared/data/mnist and to TFDS's.
# binarized_mnist: Larochelle's .amat files (equal to the SHA256SUMS.uncompressed beside
# the shared copy and to TFDS's records). fashion_mnist: the IDX content of the Debian
# package dataset-fashion-mnist 0.0~git20200523.55506a9-1, which re-gzipped upstream's
# files (its .gz bytes no longer match upstream's published md5s, its content does
# match in size and decompresses to the 60,000/10,000 images with 6,000/1,000 per class).
# "npz": sha256 of the raw file keras.datasets.mnist.load_data() downloads.
#: sha256 of the decompressed content of canonical data files, ``{dataset: {role: hash}}``.
KNOWN_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "test-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "test-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    },
    "binarized_mnist": {
        "train": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
        "valid": "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
        "test": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
    },
    "fashion_mnist": {
        "train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}


@dataclass
class FileRecord:
    """A data file read by :func:`read_file`: its hashes and its parsed content.

    Attributes:
        raw_sha256: sha256 of the file's bytes.
        content_sha256: sha256 of the decompressed content (``raw_sha256`` for a file
            that is not compressed).
        value: What the parser returned: an array, or a dict of arrays for ``.npz``.
    """

    raw_sha256: str
    content_sha256: str
    value: Any


_CACHE: OrderedDict[tuple, FileRecord] = OrderedDict()
_SUMS_CACHE: dict[tuple, dict[str, tuple[str, str]]] = {}
_CACHE_LOCK = threading.RLock()
_CACHE_MAX = 16


def clear_cache() -> None:
    """Forget parsed files and computed hashes (they are otherwise kept per process)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _SUMS_CACHE.clear()


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def read_file(
    path: Path, parser: Callable[[bytes, Path], Any], check: tuple[str, str] | None = None
) -> FileRecord:
    """Read, hash and parse ``path`` once per (path, size, mtime); cached.

    The file is decompressed by content (:func:`qhvae.data.formats.decompress`) before
    ``parser`` sees it. The cache holds the last 16 files, keyed on the real path, size,
    modification time and the parser's name, so an edited or replaced file is read again.

    Args:
        path: The file.
        parser: ``parser(content, path)`` turns the decompressed bytes into the value, e.g.
            :func:`qhvae.data.formats.parse_idx_images`.
        check: ``(dataset, role)`` to verify the file, e.g. ``("mnist", "test-images")``
            (roles are the keys of :data:`KNOWN_SHA256`): the bytes against a
            ``SHA256SUMS`` entry for the file's name before decompressing, the content
            against an entry for the name without ``.gz`` and against
            :data:`KNOWN_SHA256` before parsing; also on cache hits. ``None``: no checks.

    Returns:
        The :class:`FileRecord` (the same object on a cache hit).

    Raises:
        ValueError: A checksum mismatch, an unreadable ``SHA256SUMS`` line, a corrupt
            compressed stream, or whatever ``parser`` raises for a malformed file.

    Example:
        >>> import tempfile
        >>> from qhvae.data.formats import parse_idx_labels
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "labels-idx1-ubyte"
        ...     _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]))
        ...     read_file(path, parse_idx_labels).value.tolist()
        [7, 3]
    """
    key = _file_key(path) + (getattr(parser, "__name__", repr(parser)),)
    with _CACHE_LOCK:
        rec = _CACHE.get(key)
        if rec is not None:
            _CACHE.move_to_end(key)
    if rec is not None:
        if check:
            _verify_raw(path, rec.raw_sha256, *check)
            _verify_content(path, rec.content_sha256, *check)
        return rec
    raw = path.read_bytes()
    raw_sha = hashlib.sha256(raw).hexdigest()
    if check:
        _verify_raw(path, raw_sha, *check)
    content = decompress(raw, path)
    content_sha = raw_sha if content is raw else hashlib.sha256(content).hexdigest()
    if check:
        _verify_content(path, content_sha, *check)
    value = parser(content, path)
    rec = FileRecord(raw_sha, content_sha, value)
    with _CACHE_LOCK:
        _CACHE[key] = rec
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return rec


_SIGNATURE_SUFFIXES = {".asc", ".gpg", ".sig", ".sign"}
_SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$")
_BSD_LINE = re.compile(r"^SHA256\s*\((.+)\)\s*=\s*([0-9a-fA-F]{64})\s*$")


def _sidecar_sums(directory: Path) -> dict[str, tuple[str, str]]:
    """``{file name: (sha256, sums file)}`` from SHA256SUMS* files in ``directory``."""
    entries: dict[str, tuple[str, str]] = {}
    try:
        candidates = sorted(
            p for p in directory.iterdir()
            if p.is_file()
            and (p.name.upper().startswith("SHA256SUMS") or p.suffix == ".sha256")
            and p.suffix.lower() not in _SIGNATURE_SUFFIXES
        )
    except OSError:
        return entries
    for sums in candidates:
        key = _file_key(sums)
        with _CACHE_LOCK:
            parsed = _SUMS_CACHE.get(key)
        if parsed is None:
            parsed = {}
            text = sums.read_text(encoding="utf-8", errors="replace")
            for lineno, line in enumerate(text.splitlines(), 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = _SUMS_LINE.match(line)
                if m:
                    digest, fname = m.group(1), m.group(2)
                else:
                    m = _BSD_LINE.match(line)
                    if not m:
                        raise ValueError(
                            f"{sums}: line {lineno} is not a sha256 checksum line "
                            f"('<64 hex digits>  <file name>'): {line[:80]!r}; fix or remove it, "
                            "or pass verify=False"
                        )
                    fname, digest = m.group(1), m.group(2)
                fname = fname[2:] if fname.startswith("./") else fname
                parsed[Path(fname).name] = (digest.lower(), str(sums))
            with _CACHE_LOCK:
                _SUMS_CACHE[key] = parsed
        entries.update(parsed)
    return entries


def _mismatch(path: Path, expected: str, actual: str, against: str, what: str) -> ValueError:
    return ValueError(
        f"checksum mismatch for {path} ({what}): expected sha256 {expected} ({against}), got "
        f"{actual}. The file is corrupted, truncated or not the expected data; replace it "
        "(or pass verify=False to load it anyway)."
    )


def _verify_raw(path: Path, raw_sha: str, dataset: str, role: str) -> None:
    """Check the file's bytes against a SHA256SUMS entry for its name (and a known npz)."""
    sums = _sidecar_sums(path.parent)
    if path.name in sums:
        expected, sums_file = sums[path.name]
        if raw_sha != expected:
            raise _mismatch(path, expected, raw_sha, sums_file, "file bytes")
    if role == "npz":
        _verify_known(path, raw_sha, dataset, role, "file bytes")


def _verify_content(path: Path, content_sha: str, dataset: str, role: str) -> None:
    """Check decompressed content against SHA256SUMS entries for the name without .gz
    (the ``SHA256SUMS.uncompressed`` form) and against :data:`KNOWN_SHA256`."""
    sums = _sidecar_sums(path.parent)
    base = path.name
    for suffix in (".gz", ".bz2", ".xz"):
        if base.endswith(suffix) and base[: -len(suffix)] in sums:
            expected, sums_file = sums[base[: -len(suffix)]]
            if content_sha != expected:
                raise _mismatch(path, expected, content_sha, sums_file, "decompressed content")
    if role != "npz":
        _verify_known(path, content_sha, dataset, role, "decompressed content")


def _verify_known(path: Path, actual: str, dataset: str, role: str, what: str) -> None:
    known = KNOWN_SHA256.get(dataset, {}).get(role)
    if known is None or actual == known:
        return
    others = [n for n, table in KNOWN_SHA256.items() if n != dataset and actual in table.values()]
    note = f" It is the canonical {others[0]} file, not {dataset}." if others else ""
    err = _mismatch(path, known, actual, f"known canonical {dataset} {role}", what)
    raise ValueError(str(err) + note)

