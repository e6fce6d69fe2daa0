"""Where dataset files are looked for, and the opt-in download.

Search order (first hit wins; see :func:`search_locations`):

1. the ``data_dir`` argument, and its dataset subfolders (``mnist/``,
   ``mnist/binarized/``, ``binarized_mnist/``, ``fashion-mnist/``, ``fashion_mnist/``);
2. ``$QHVAE_DATA_DIR`` and the same subfolders (Fashion-MNIST only in its subfolders,
   since its file names are MNIST's);
3. the Keras cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``; also
   ``/tmp/.keras/datasets``, where Keras writes when the home is read-only):
   ``mnist.npz``, ``fashion-mnist/``, ``binarized_mnist/``;
4. ``/usr/share/datasets/<name>/`` (Debian's ``dataset-*`` packages);
5. a download, only with ``allow_download=True`` (never by default): MNIST and
   Fashion-MNIST through ``keras.datasets``, binarized MNIST through
   ``keras.utils.get_file`` from Larochelle's server, all into the Keras cache.

When nothing is found, :class:`FileNotFoundError` lists every folder searched (a
``data_dir`` that does not exist is marked so there). Training and the command line refuse
such a ``data_dir`` up front with :func:`check_data_dir`: a misspelt ``--data-dir`` must not
quietly yield the data found in another place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataNotFoundError
from .catalog import canonical_name
from .integrity import KNOWN_SHA256

__all__ = [
    "SYSTEM_DIR",
    "SearchLocation",
    "check_data_dir",
    "first_existing",
    "idx_file_names",
    "keras_datasets_dirs",
    "locate",
    "search_locations",
]

_ENV_VAR = "QHVAE_DATA_DIR"

#: Where Debian's ``dataset-*`` packages install data (searched after the Keras cache).
SYSTEM_DIR = Path("/usr/share/datasets")

_BINARIZED_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"


@dataclass(frozen=True)
class SearchLocation:
    """One folder :func:`qhvae.data.load_dataset` looks in, and why.

    Attributes:
        path: The folder (it need not exist).
        origin: Where it came from: ``"data_dir argument"``, ``"$QHVAE_DATA_DIR"``,
            ``"Keras cache"`` or ``"system datasets"``.
    """

    path: Path
    origin: str

    def __str__(self) -> str:
        return f"{self.path} ({self.origin})"


_SUBDIRS = {
    "mnist": ("mnist", "MNIST"),
    "binarized_mnist": ("binarized_mnist", "binarized-mnist", "mnist/binarized"),
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
}
_SYSTEM_SUBDIRS = {
    "mnist": ("mnist",),
    "binarized_mnist": ("binarized_mnist", "binarized-mnist", "mnist/binarized"),
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
}
_KERAS_SUBDIRS = {
    "mnist": ("", "mnist"),
    "binarized_mnist": ("binarized_mnist",),
    "fashion_mnist": ("fashion-mnist",),
}


def keras_datasets_dirs() -> list[Path]:
    """The Keras cache folders searched, in order: ``$KERAS_HOME/datasets`` (default
    ``~/.keras/datasets``), then ``/tmp/.keras/datasets`` (where Keras writes when the home
    is read-only).

    Example:
        >>> keras_datasets_dirs()[-1]
        PosixPath('/tmp/.keras/datasets')
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    dirs = [Path(home) / "datasets", Path("/tmp/.keras/datasets")]
    return list(dict.fromkeys(dirs))


def check_data_dir(data_dir: str | os.PathLike | None, name: str = "data_dir") -> Path | None:
    """Refuse an explicit data folder that does not exist or is a file (``None`` passes).

    Args:
        data_dir: the folder given by the user, or ``None``.
        name: how the user named it (e.g. ``--data-dir``), for the message.

    Returns:
        The folder as a :class:`~pathlib.Path` (``~`` expanded), or ``None``.

    Raises:
        DataNotFoundError: it does not exist (a ``FileNotFoundError`` too).
        NotADirectoryError: it is not a folder.

    Example:
        >>> check_data_dir("/nonexistent/data")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        qhvae.exceptions.DataNotFoundError: data_dir /nonexistent/data does not exist; fix the path, ...
    """
    if data_dir is None:
        return None
    path = Path(os.fspath(data_dir)).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"{name} {data_dir} does not exist; fix the path, create the folder, or leave {name} out (the data is "
            f"then looked for in ${_ENV_VAR}, the Keras cache and {SYSTEM_DIR})")
    if not path.is_dir():
        raise NotADirectoryError(f"{name} {data_dir} is not a folder; give the folder that holds the dataset files")
    return path


def search_locations(name: str, data_dir: str | os.PathLike | None = None) -> list[SearchLocation]:
    """The folders searched for dataset ``name``, in order (they need not exist).

    Args:
        name: A dataset in :data:`qhvae.data.DATASETS` (``"digits"`` needs no files:
            empty list).
        data_dir: The explicit folder, if any.

    Example:
        >>> [str(loc.path) for loc in search_locations("mnist", "/data")][:2]
        ['/data', '/data/mnist']
    """
    name = canonical_name(name)
    if name == "digits":
        return []
    locs: list[SearchLocation] = []
    if data_dir is not None:
        root = Path(os.fspath(data_dir)).expanduser()
        locs.append(SearchLocation(root, "data_dir argument"))
        locs += [SearchLocation(root / s, "data_dir argument") for s in _SUBDIRS[name]]
    env = os.environ.get(_ENV_VAR)
    if env:
        root = Path(env).expanduser()
        if name != "fashion_mnist":  # its file names are MNIST's: only in its own folder
            locs.append(SearchLocation(root, f"${_ENV_VAR}"))
        locs += [SearchLocation(root / s, f"${_ENV_VAR}") for s in _SUBDIRS[name]]
    for kdir in keras_datasets_dirs():
        locs += [
            SearchLocation(kdir / s if s else kdir, "Keras cache") for s in _KERAS_SUBDIRS[name]
        ]
    locs += [SearchLocation(SYSTEM_DIR / s, "system datasets") for s in _SYSTEM_SUBDIRS[name]]
    seen: set[Path] = set()
    unique = []
    for loc in locs:
        if loc.path not in seen:
            seen.add(loc.path)
            unique.append(loc)
    return unique


def idx_file_names(prefix: str, kind: str) -> list[str]:
    """File names for IDX images/labels, in the order they are tried.

    Args:
        prefix: ``"train"`` or ``"test"`` (the test files are also named ``t10k-...``).
        kind: ``"images"`` (``idx3``) or ``"labels"`` (``idx1``).

    Example:
        >>> idx_file_names("train", "labels")[:2]
        ['train-labels-idx1-ubyte.gz', 'train-labels-idx1-ubyte']
    """
    idx = "idx3" if kind == "images" else "idx1"
    prefixes = ["t10k", "test"] if prefix == "test" else ["train"]
    names = []
    for p in prefixes:
        for stem in (f"{p}-{kind}-{idx}-ubyte", f"{p}-{kind}.{idx}-ubyte"):
            names += [stem + ".gz", stem]
    return names


def first_existing(directory: Path, names: Sequence[str]) -> Path | None:
    """The first of ``names`` that is a file in ``directory``, or ``None``.

    Example:
        >>> first_existing(Path("/nonexistent"), ["a.gz", "a"]) is None
        True
    """
    for fname in names:
        p = directory / fname
        if p.is_file():
            return p
    return None


class _NotFound(Exception):
    """Nothing in ``locations`` held the ``wanted`` files (turned into a user message)."""

    def __init__(self, wanted: str, locations: list[SearchLocation]):
        self.wanted = wanted
        self.locations = locations


def _find(
    name: str, locations: list[SearchLocation], wanted: Mapping[str, Sequence[str]]
) -> tuple[str, Path]:
    """First location holding one of the files of any group in ``wanted`` (in order)."""
    for loc in locations:
        for group, names in wanted.items():
            p = first_existing(loc.path, names)
            if p is not None:
                return group, p
    described = "; ".join(f"{', '.join(names)}" for names in wanted.values())
    raise _NotFound(described, locations)


def _not_found_error(name: str, split: str, nf: _NotFound, allow_download: bool,
                     download_note: str = "") -> FileNotFoundError:
    lines = [
        f"Could not find the {name!r} data for split {split!r}.",
        f"Looked for: {nf.wanted}",
        "in these folders, in this order:",
    ]
    for i, loc in enumerate(nf.locations, 1):
        exists = "" if loc.path.is_dir() else "  [no such folder]"
        lines.append(f"  {i}. {loc.path}  ({loc.origin}){exists}")
    if not os.environ.get(_ENV_VAR):
        lines.append(f"  (${_ENV_VAR} is not set, so no folder came from it)")
    if allow_download:
        lines.append(f"A download was tried and did not produce the files{download_note}.")
    else:
        lines.append("No download was tried (allow_download=False, the default).")
    sub = _SUBDIRS[name][0]
    dl = {
        "mnist": "keras.datasets.mnist.load_data()",
        "fashion_mnist": "keras.datasets.fashion_mnist.load_data()",
        "binarized_mnist": f"keras.utils.get_file() from {_BINARIZED_URL}",
    }[name]
    lines.append(
        f"To fix it: pass data_dir='/path/to/folder' holding the files, or set "
        f"{_ENV_VAR}=/path/to/data (a folder with the files or a '{sub}/' subfolder), "
        + (
            "or install the Debian package dataset-fashion-mnist, "
            if name == "fashion_mnist"
            else ""
        )
        + f"or pass allow_download=True to fetch them into the Keras cache with {dl} "
        "(needs internet)."
    )
    return FileNotFoundError("\n".join(lines))


def _download(name: str) -> str:
    """Fetch ``name`` into the Keras cache; returns a note for error messages."""
    import keras

    if name == "mnist":
        keras.datasets.mnist.load_data()
    elif name == "fashion_mnist":
        keras.datasets.fashion_mnist.load_data()
    else:
        for part in ("train", "valid", "test"):
            fname = f"binarized_mnist_{part}.amat"
            keras.utils.get_file(
                fname, origin=_BINARIZED_URL + fname,
                file_hash=KNOWN_SHA256["binarized_mnist"][part],
                cache_subdir=os.path.join("datasets", "binarized_mnist"),
            )
    return ""



def locate(
    name: str,
    split: str,
    data_dir: str | os.PathLike | None,
    wanted: Mapping[str, Sequence[str]],
    *,
    allow_download: bool = False,
) -> tuple[str, Path]:
    """Find a file of dataset ``name``, downloading it first only if allowed.

    The folders of :func:`search_locations` are tried in order; in each, the groups of
    ``wanted`` are tried in order, and in a group the file names in order. With
    ``allow_download=True`` and no hit, the dataset is fetched into the Keras cache and the
    search runs again.

    Args:
        name: A canonical dataset name other than ``"digits"`` (see
            :func:`qhvae.data.catalog.canonical_name`).
        split: The split being loaded (for the error message only).
        data_dir: The explicit folder, if any.
        wanted: ``{group: file names}``, e.g. ``{"idx": [...], "npz": ["mnist.npz"]}``.
        allow_download: Download when nothing is found (never by default).

    Returns:
        ``(group, path)``: the group whose file was found, and the file.

    Raises:
        FileNotFoundError: Nothing found (after the download, if one was tried); the
            message lists what was looked for, every folder searched in order, and how to
            point the loader at the data.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     (Path(tmp) / "mnist.npz").touch()
        ...     group, path = locate("mnist", "test", tmp, {"npz": ["mnist.npz"]})
        ...     group, path.name
        ('npz', 'mnist.npz')
    """
    try:
        return _find(name, search_locations(name, data_dir), wanted)
    except _NotFound as nf:
        if not allow_download:
            raise _not_found_error(name, split, nf, False) from None
        try:
            note = _download(name)
        except Exception as exc:  # no network, etc.
            raise _not_found_error(
                name, split, nf, True, f" ({type(exc).__name__}: {exc})"
            ) from exc
    try:
        return _find(name, search_locations(name, data_dir), wanted)
    except _NotFound as nf2:
        raise _not_found_error(name, split, nf2, True, note) from None
