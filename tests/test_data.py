"""qhvae.data: loaders, search order, checksums, parsers, as_images, tf.data pipeline.

Fast and offline. Tests on the real MNIST files run when QHVAE_DATA_DIR points at the
shared data folder (e.g. QHVAE_DATA_DIR=/work/shared/data) and skip otherwise.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from qhvae import data
from qhvae.data import Dataset, as_images, integrity, load_dataset, lookup, read_amat, read_idx

# ----------------------------------------------------------------------------- helpers


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(
        f">{arr.ndim}I", *arr.shape
    ) + arr.tobytes()


def write(path: Path, content: bytes, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(content, mtime=0))
    else:
        path.write_bytes(content)
    return path


def fake_idx_set(folder: Path, n_train=12, n_test=6, size=6, seed=0, gz=True) -> dict:
    """A tiny MNIST-shaped IDX set; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        write(folder / name, idx_bytes(arr), gz)
    return arrays


def amat_bytes(arr01: np.ndarray) -> bytes:
    return b"".join(b" ".join(b"%d" % v for v in row) + b"\n" for row in arr01.reshape(len(arr01), -1))


def fake_amat_set(folder: Path, n=(5, 3, 4), seed=0, gz=True) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for part, k in zip(("train", "valid", "test"), n, strict=True):
        arr = (rng.random((k, 784)) < 0.3).astype(np.uint8)
        write(folder / f"binarized_mnist_{part}.amat", amat_bytes(arr), gz)
        out[part] = arr
    return out


@pytest.fixture
def hermetic(tmp_path, monkeypatch):
    """No QHVAE_DATA_DIR, a private Keras cache and a private 'system' folder."""
    monkeypatch.delenv("QHVAE_DATA_DIR", raising=False)
    keras_dir = tmp_path / "keras_home" / "datasets"
    system = tmp_path / "system"
    monkeypatch.setattr(lookup, "keras_datasets_dirs", lambda: [keras_dir])
    monkeypatch.setattr(lookup, "SYSTEM_DIR", system)
    data.clear_cache()
    yield {"keras": keras_dir, "system": system, "root": tmp_path}
    data.clear_cache()


_SHARED = os.environ.get("QHVAE_DATA_DIR")  # read before any fixture clears it


def shared_data_dir() -> Path:
    env = _SHARED
    if not env:
        pytest.skip("QHVAE_DATA_DIR is not set (point it at the shared data folder to run this)")
    if not (Path(env) / "mnist").is_dir():
        pytest.skip(f"QHVAE_DATA_DIR={env} has no mnist/ folder")
    return Path(env)


# ----------------------------------------------------------------------------- digits


def test_digits_splits_shapes_and_range():
    sizes = {}
    for split in data.SPLITS:
        ds = load_dataset("digits", split)
        sizes[split] = len(ds)
        assert ds.images.shape == (len(ds), 8, 8, 1)
        assert ds.images.dtype == np.float32
        assert ds.images.min() == 0.0 and ds.images.max() == 1.0
        np.testing.assert_array_equal(ds.images * 16, np.round(ds.images * 16))  # k / 16
        assert ds.labels.shape == (len(ds),) and ds.labels.dtype == np.int64
        assert set(np.unique(ds.labels)) <= set(range(10))
        assert (ds.name, ds.split, ds.binarized) == ("digits", split, False)
        assert ds.image_shape == (8, 8, 1)
    assert sizes == {"train": 1250, "valid": 250, "test": 297, "train_full": 1500}
    full = load_dataset("digits", "train_full")
    parts = [load_dataset("digits", s) for s in ("train", "valid")]
    np.testing.assert_array_equal(full.images, np.concatenate([p.images for p in parts]))
    # Deterministic.
    np.testing.assert_array_equal(load_dataset("digits", "test").images, load_dataset("digits", "test").images)


def test_names_splits_and_limit():
    assert len(load_dataset("DIGITS", limit=7)) == 7
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'.*digits, mnist, binarized_mnist, fashion_mnist"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="unknown split 'validation'.*train, valid, test, train_full"):
        load_dataset("digits", "validation")
    with pytest.raises(ValueError, match="limit"):
        load_dataset("digits", limit=0)


# ----------------------------------------------------------------------------- real data


def test_real_mnist_from_env():
    root = shared_data_dir()
    ds = load_dataset("mnist", "test")
    assert ds.source.startswith(str(root / "mnist"))
    assert ds.images.shape == (10000, 28, 28, 1) and ds.labels.shape == (10000,)
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0 and not ds.binarized
    assert ds.labels[:5].tolist() == [7, 2, 1, 0, 4]
    full = load_dataset("mnist", "train_full")
    assert len(full) == 60000
    assert np.bincount(full.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert len(load_dataset("mnist", "train")) == 50000
    valid = load_dataset("mnist", "valid")
    assert len(valid) == 10000
    np.testing.assert_array_equal(valid.images, full.images[50000:])


def test_real_binarized_mnist_from_env():
    shared_data_dir()
    ds = load_dataset("binarized_mnist", "valid")
    assert ds.images.shape == (10000, 28, 28, 1) and ds.labels is None and ds.binarized
    assert set(np.unique(ds.images).tolist()) == {0.0, 1.0}
    assert 0.10 < ds.images.mean() < 0.16
    small = load_dataset("binarized_mnist", "test", limit=100)
    assert small.images.shape == (100, 28, 28, 1)


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist_from_system():
    ds = load_dataset("fashion_mnist", "test")
    assert ds.images.shape == (10000, 28, 28, 1)
    assert np.bincount(ds.labels).tolist() == [1000] * 10


# ----------------------------------------------------------------------------- search order


def test_fake_idx_loads_with_splits_and_scaling(hermetic):
    folder = hermetic["root"] / "mine"
    arrays = fake_idx_set(folder)
    train = load_dataset("mnist", "train", data_dir=folder, verify=False)
    valid = load_dataset("mnist", "valid", data_dir=folder, verify=False)
    test = load_dataset("mnist", "test", data_dir=folder, verify=False)
    assert (len(train), len(valid), len(test)) == (10, 2, 6)  # valid = last sixth
    x = arrays["train-images-idx3-ubyte"]
    np.testing.assert_allclose(train.images[..., 0], x[:10] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(valid.labels, arrays["train-labels-idx1-ubyte"][10:])
    np.testing.assert_array_equal(test.labels, arrays["t10k-labels-idx1-ubyte"])
    assert train.source == f"{folder / 'train-images-idx3-ubyte.gz'} + {folder / 'train-labels-idx1-ubyte.gz'}"


def test_search_order(hermetic, monkeypatch):
    root = hermetic["root"]
    a = fake_idx_set(root / "explicit" / "mnist", seed=1)  # dataset subfolder of data_dir
    b = fake_idx_set(root / "env", seed=2)  # directly in $QHVAE_DATA_DIR
    c = fake_idx_set(hermetic["system"] / "mnist", seed=3)
    monkeypatch.setenv("QHVAE_DATA_DIR", str(root / "env"))

    def first_label(**kw):
        return load_dataset("mnist", "test", verify=False, **kw).labels.tolist()

    assert first_label(data_dir=root / "explicit") == a["t10k-labels-idx1-ubyte"].tolist()
    (root / "empty").mkdir()
    assert first_label(data_dir=root / "empty") == b["t10k-labels-idx1-ubyte"].tolist()
    # a data_dir that does not exist is refused, not skipped in favour of $QHVAE_DATA_DIR
    with pytest.raises(FileNotFoundError, match=r"data_dir .*missing does not exist; fix the path"):
        first_label(data_dir=root / "missing")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        first_label(data_dir=root / "env" / "t10k-labels-idx1-ubyte.gz")
    assert first_label() == b["t10k-labels-idx1-ubyte"].tolist()
    monkeypatch.delenv("QHVAE_DATA_DIR")
    # Keras cache npz beats the system folder.
    rng = np.random.default_rng(4)
    hermetic["keras"].mkdir(parents=True)
    npz = {"x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
           "y_train": rng.integers(0, 10, 12, dtype=np.uint8),
           "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
           "y_test": np.array([9, 8, 7], dtype=np.uint8)}
    np.savez(hermetic["keras"] / "mnist.npz", **npz)
    ds = load_dataset("mnist", "test", verify=False)
    assert ds.labels.tolist() == [9, 8, 7] and ds.source == str(hermetic["keras"] / "mnist.npz")
    with pytest.raises(ValueError, match="mnist.npz.*known canonical mnist npz"):
        load_dataset("mnist", "test")  # a fake npz is not Keras's file
    (hermetic["keras"] / "mnist.npz").unlink()
    assert first_label() == c["t10k-labels-idx1-ubyte"].tolist()


def test_fashion_only_in_its_own_subfolder(hermetic, monkeypatch):
    root = hermetic["root"]
    fake_idx_set(root / "env", seed=1)  # MNIST-named files at the env root
    monkeypatch.setenv("QHVAE_DATA_DIR", str(root / "env"))
    with pytest.raises(FileNotFoundError):
        load_dataset("fashion_mnist", "train", verify=False)
    arrays = fake_idx_set(root / "env" / "fashion-mnist", seed=5, gz=False)  # uncompressed
    ds = load_dataset("Fashion-MNIST", "test", verify=False)
    assert ds.name == "fashion_mnist"
    np.testing.assert_array_equal(ds.labels, arrays["t10k-labels-idx1-ubyte"])
    assert ds.source.startswith(str(root / "env" / "fashion-mnist" / "t10k-images-idx3-ubyte"))


def test_alternative_idx_names(hermetic):
    folder = hermetic["root"] / "kaggle"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 5, 5), dtype=np.uint8)
    write(folder / "t10k-images.idx3-ubyte", idx_bytes(x), gz=False)
    ds = load_dataset("mnist", "test", data_dir=folder, verify=False)
    assert ds.labels is None and len(ds) == 4


def test_not_found_lists_every_place(hermetic, monkeypatch):
    root = hermetic["root"]
    env = root / "env"
    monkeypatch.setenv("QHVAE_DATA_DIR", str(env))
    (root / "nowhere").mkdir(parents=True)  # an empty folder: the search goes on past it
    places = data.search_locations("mnist", root / "nowhere")
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("mnist", "train", data_dir=root / "nowhere")
    msg = str(info.value)
    for loc in places:
        assert str(loc.path) in msg
    for expected in (
        str(root / "nowhere"), str(root / "nowhere" / "mnist"), str(env), str(env / "mnist"),
        str(hermetic["keras"]), str(hermetic["system"] / "mnist"),
        "train-images-idx3-ubyte.gz", "mnist.npz", "QHVAE_DATA_DIR", "data_dir",
        "allow_download=True", "No download was tried",
    ):
        assert expected in msg, expected
    # Binarized MNIST and Fashion-MNIST list their own folders.
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("binarized_mnist", "test")
    assert str(env / "mnist" / "binarized") in str(info.value)
    assert "binarized_mnist_test.amat.gz" in str(info.value)
    monkeypatch.delenv("QHVAE_DATA_DIR")
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("fashion_mnist", "test")
    assert str(hermetic["system"] / "fashion-mnist") in str(info.value)
    assert "$QHVAE_DATA_DIR is not set" in str(info.value)
    assert "dataset-fashion-mnist" in str(info.value)


def test_default_search_locations(monkeypatch, tmp_path):
    monkeypatch.setenv("QHVAE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    paths = [str(loc.path) for loc in data.search_locations("fashion_mnist", "/x")]
    assert paths[:3] == ["/x", "/x/fashion-mnist", "/x/fashion_mnist"]
    assert str(tmp_path) not in paths  # fashion: not the env root itself
    assert str(tmp_path / "fashion-mnist") in paths
    assert str(tmp_path / "kh" / "datasets" / "fashion-mnist") in paths
    assert paths.index(str(tmp_path / "fashion-mnist")) < paths.index(
        str(tmp_path / "kh" / "datasets" / "fashion-mnist")) < paths.index(
        "/usr/share/datasets/fashion-mnist")
    assert data.search_locations("digits") == []


@pytest.mark.slow
def test_download_only_when_allowed(hermetic, monkeypatch):
    keras = pytest.importorskip("keras")
    calls = []

    def fake_load_data():
        calls.append(1)
        hermetic["keras"].mkdir(parents=True, exist_ok=True)
        np.savez(hermetic["keras"] / "mnist.npz",
                 x_train=np.zeros((6, 28, 28), np.uint8), y_train=np.zeros(6, np.uint8),
                 x_test=np.full((2, 28, 28), 255, np.uint8), y_test=np.ones(2, np.uint8))

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fake_load_data)
    with pytest.raises(FileNotFoundError):
        load_dataset("mnist", "test")
    assert calls == []
    ds = load_dataset("mnist", "test", allow_download=True, verify=False)
    assert calls == [1] and len(ds) == 2 and ds.images.max() == 1.0

    def offline():
        raise OSError("no network")

    (hermetic["keras"] / "mnist.npz").unlink()
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(FileNotFoundError, match="download was tried.*no network"):
        load_dataset("mnist", "test", allow_download=True)


# ----------------------------------------------------------------------------- checksums


def test_sidecar_checksum_mismatch(hermetic):
    folder = hermetic["root"] / "d"
    fake_idx_set(folder)
    names = sorted(p.name for p in folder.iterdir())
    (folder / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    )
    with pytest.raises(ValueError, match="known canonical mnist"):  # sums fine, not MNIST
        load_dataset("mnist", "test", data_dir=folder)
    load_dataset("mnist", "test", data_dir=folder, verify=False)  # reads and caches
    # Corrupt one file (still a valid IDX file) and give it a new mtime: re-read, re-checked.
    target = folder / "t10k-images-idx3-ubyte.gz"
    arr = read_idx(gzip.decompress(target.read_bytes()))
    bad = arr.copy()
    bad[0, 0, 0] ^= 1
    target.write_bytes(gzip.compress(idx_bytes(bad), mtime=0))
    os.utime(target, ns=(1, 1))
    with pytest.raises(ValueError) as info:
        load_dataset("mnist", "test", data_dir=folder)
    msg = str(info.value)
    assert str(target) in msg and "SHA256SUMS" in msg
    expected = (folder / "SHA256SUMS").read_text().split("\n")[names.index(target.name)].split()[0]
    assert expected in msg and hashlib.sha256(target.read_bytes()).hexdigest() in msg
    assert load_dataset("mnist", "test", data_dir=folder, verify=False).images.shape == (6, 6, 6, 1)


def test_uncompressed_checksums_and_bsd_format(hermetic):
    folder = hermetic["root"] / "b"
    arrays = fake_amat_set(folder)
    sums = {p: hashlib.sha256(amat_bytes(a)).hexdigest() for p, a in arrays.items()}
    (folder / "SHA256SUMS.uncompressed").write_text(
        f"SHA256 (binarized_mnist_train.amat) = {sums['train']}\n"
        f"{sums['valid']} *binarized_mnist_valid.amat\n"
        f"{'0' * 64}  binarized_mnist_test.amat\n"
    )
    (folder / "SHA256SUMS.asc").write_text("-----BEGIN PGP SIGNATURE-----\nnot a sum\n")
    ds = load_dataset("binarized_mnist", "train_full", data_dir=folder, verify=False)
    assert len(ds) == 8
    match = "(?s)binarized_mnist_test.amat.gz.*decompressed content.*expected sha256 0{64}"
    with pytest.raises(ValueError, match=match):
        load_dataset("binarized_mnist", "test", data_dir=folder)
    # train and valid match their uncompressed sums, but are not the canonical files.
    with pytest.raises(ValueError, match="known canonical binarized_mnist train"):
        load_dataset("binarized_mnist", "train", data_dir=folder)


def test_known_constants_catch_swapped_dataset(hermetic, monkeypatch):
    root = shared_data_dir()
    folder = hermetic["root"] / "fashion-looking"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(root / "mnist" / name, folder / name)
    with pytest.raises(ValueError, match="It is the canonical mnist file, not fashion_mnist"):
        load_dataset("fashion_mnist", "test", data_dir=folder)


def test_real_checksum_mismatch_on_corrupted_copy(hermetic):
    root = shared_data_dir()
    folder = hermetic["root"] / "copy"
    folder.mkdir()
    for name in ("SHA256SUMS", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(root / "mnist" / name, folder / name)
    assert len(load_dataset("mnist", "test", data_dir=folder)) == 10000
    target = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    target.chmod(0o644)
    target.write_bytes(bytes(raw))
    os.utime(target, ns=(2, 2))
    with pytest.raises(ValueError, match="(?s)checksum mismatch for .*t10k-labels-idx1-ubyte.gz.*"
                       "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"):
        load_dataset("mnist", "test", data_dir=folder)


def test_repeated_loads_use_the_cache(hermetic, monkeypatch):
    folder = hermetic["root"] / "c"
    fake_idx_set(folder)
    reads = []
    original = integrity.decompress
    monkeypatch.setattr(integrity, "decompress", lambda raw, path: (reads.append(path), original(raw, path))[1])
    for _ in range(3):
        load_dataset("mnist", "train", data_dir=folder, verify=False)
    assert len(reads) == 2  # images + labels, once
    data.clear_cache()
    load_dataset("mnist", "train", data_dir=folder, verify=False)
    assert len(reads) == 4


# ----------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x00\x00", "only 2 byte"),
        (b"\x08\x03\x00\x00" + b"\x00" * 20, "bad magic number 0x08030000"),
        (bytes([0, 0, 0x42, 3]) + b"\x00" * 20, "bad magic number 0x00004203"),
        (bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + b"\x01\x02\x03\x04\x05", "1 dimension.*expected 3"),
        (bytes([0, 0, 8, 3]) + struct.pack(">II", 2, 2), "truncated IDX header"),
        (bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 2, 2) + b"\x00" * 7,
         "truncated IDX file.*24 bytes.*has 23 bytes"),
        (bytes([0, 0, 8, 3]) + struct.pack(">III", 1, 2, 2) + b"\x00" * 6, "2 unexpected trailing bytes"),
    ],
    ids=["tiny", "magic-order", "magic-type", "rank", "short-header", "truncated", "trailing"],
)
def test_malformed_idx(hermetic, content, match):
    folder = hermetic["root"] / "bad"
    path = write(folder / "t10k-images-idx3-ubyte", content, gz=False)
    with pytest.raises(ValueError, match=match) as info:
        load_dataset("mnist", "test", data_dir=folder, verify=False)
    assert str(path) in str(info.value)


def test_truncated_gzip_and_label_mismatch(hermetic):
    folder = hermetic["root"] / "gz"
    fake_idx_set(folder)
    target = folder / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-20])
    with pytest.raises(ValueError, match=f"{target}: corrupt or truncated compressed file"):
        load_dataset("mnist", "test", data_dir=folder, verify=False)
    write(folder / "train-labels-idx1-ubyte", idx_bytes(np.zeros(5, np.uint8)), gz=True)
    with pytest.raises(ValueError, match="5 labels for 12 images"):
        load_dataset("mnist", "train", data_dir=folder, verify=False)


def test_read_idx_and_amat_parsers():
    x = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(idx_bytes(x)), x)
    signed = struct.pack(">BBBB", 0, 0, 0x0C, 1) + struct.pack(">I", 2) + struct.pack(">ii", -1, 7)
    assert read_idx(signed).tolist() == [-1, 7]
    rows = (np.random.default_rng(0).random((3, 784)) < 0.5).astype(np.uint8)
    text = amat_bytes(rows)
    np.testing.assert_array_equal(read_amat(text), rows)
    np.testing.assert_array_equal(read_amat(text.rstrip(b"\n")), rows)  # no final newline
    np.testing.assert_array_equal(read_amat(text.replace(b"\n", b"\r\n")), rows)  # fallback
    np.testing.assert_array_equal(read_amat(text.replace(b"1", b"1.0")), rows)
    with pytest.raises(ValueError, match="f.amat: malformed .amat file"):
        read_amat(text + b"0 1\n", "f.amat")
    with pytest.raises(ValueError, match="783 values per line"):
        read_amat(amat_bytes(rows[:, :783]))
    with pytest.raises(ValueError, match="must be 0/1.*2.0"):
        read_amat(text.replace(b"1", b"2"))
    with pytest.raises(ValueError, match="empty"):
        read_amat(b"\n")


def test_fake_binarized_split_loads(hermetic):
    folder = hermetic["root"] / "mnist" / "binarized"
    arrays = fake_amat_set(folder)
    ds = load_dataset("binarized_mnist", "valid", data_dir=hermetic["root"], verify=False)
    assert ds.binarized and ds.labels is None and ds.images.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(ds.images.reshape(3, -1), arrays["valid"])
    full = load_dataset("binarized_mnist", "train_full", data_dir=folder, verify=False)
    np.testing.assert_array_equal(full.images.reshape(8, -1), np.concatenate([arrays["train"], arrays["valid"]]))
    assert full.source.count(" + ") == 1


# ----------------------------------------------------------------------------- as_images


def test_as_images_accepts():
    u8 = np.array([[[0, 255], [51, 0]]], dtype=np.uint8)
    out = as_images(u8)
    assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 1], [0.2, 0]])
    f32 = np.random.default_rng(0).random((3, 4, 4, 1), dtype=np.float32)
    assert as_images(f32) is f32  # already valid: no copy
    np.testing.assert_array_equal(as_images(f32[..., 0]), f32)
    assert as_images(np.ones((2, 3, 3), dtype=bool)).max() == 1.0
    binary = np.array([[[0, 1], [1, 0]]], dtype=np.uint8)  # 0/1 integers stay 0/1
    assert as_images(binary).max() == 1.0
    assert as_images(np.full((1, 2, 2), 16), scale=16).max() == 1.0
    assert as_images([[[0.0, 1.0 + 1e-8]]]).max() == 1.0  # within atol: clipped
    assert as_images(np.zeros((1, 2, 2), np.float64)).dtype == np.float32


@pytest.mark.parametrize(
    "array, exc, match",
    [
        (np.full((2, 3, 3), np.nan), ValueError, "1?8 NaN or infinite"),
        (np.array([[[0.5, np.inf]]]), ValueError, "1 NaN or infinite"),
        (np.full((2, 3, 3), 2.0), ValueError, r"\[0, 1\].*divided by 255"),
        (np.full((2, 3, 3), -0.5), ValueError, r"range \[-0.5, -0.5\]"),
        (np.full((2, 3, 3), 300), ValueError, "0..255"),
        (np.full((2, 3, 3), -1), ValueError, "0..255"),
        (np.zeros((2, 784)), ValueError, "2-d.*reshape"),
        (np.zeros((5,)), ValueError, "1-d"),
        (np.zeros((1, 2, 2, 2, 1)), ValueError, "5-d"),
        (np.zeros((2, 4, 4, 3)), ValueError, "3 channels"),
        (np.zeros((0, 28, 28)), ValueError, "empty"),
        (np.zeros((2, 0, 28, 1)), ValueError, "empty"),
        (np.array([[["a"]]]), TypeError, "numeric"),
        (np.zeros((1, 2, 2), complex), TypeError, "numeric"),
    ],
)
def test_as_images_rejects(array, exc, match):
    with pytest.raises(exc, match=match):
        as_images(array)


def test_as_images_names_the_array_and_checks_scale():
    with pytest.raises(ValueError, match="^x_user: "):
        as_images(np.full((1, 2, 2), 3.0), name="x_user")
    with pytest.raises(ValueError, match="scale"):
        as_images(np.zeros((1, 2, 2)), scale=0)
    with pytest.raises(ValueError, match="scale=1"):
        as_images(np.full((1, 2, 2), 200), scale=1)


def test_dataset_validates_its_fields():
    ds = Dataset(np.full((4, 3, 3), 255, np.uint8), np.arange(4), "mine", "train", False, "")
    assert ds.images.dtype == np.float32 and ds.images.max() == 1.0 and len(ds) == 4
    with pytest.raises(ValueError, match="3 labels for 4 images"):
        Dataset(np.zeros((4, 3, 3)), np.arange(3))
    with pytest.raises(ValueError, match="binarized=True"):
        Dataset(np.full((4, 3, 3), 0.5), binarized=True)
    with pytest.raises(ValueError, match="integer"):
        Dataset(np.zeros((4, 3, 3)), np.zeros(4))
    b = load_dataset("digits", "test").binarize(seed=1)
    assert b.binarized and set(np.unique(b.images)) == {0.0, 1.0}
    np.testing.assert_array_equal(b.images, load_dataset("digits", "test").binarize(seed=1).images)


# ----------------------------------------------------------------------------- tf.data


def epochs(tf_ds, k):
    return [np.concatenate([x.numpy() for x in tf_ds]) for _ in range(k)]


def test_dynamic_binarization_resamples_each_epoch_with_the_right_mean():
    pytest.importorskip("tensorflow")
    ds = load_dataset("digits", "train_full")
    p = ds.images
    n_epochs = 8
    draws = epochs(ds.to_tf(300, shuffle=False, seed=7), n_epochs)
    for x in draws:
        assert x.shape == p.shape and x.dtype == np.float32
        assert set(np.unique(x).tolist()) <= {0.0, 1.0}
        # Mean over N*H*W pixels within 5 standard errors of the mean grey level.
        se = np.sqrt(np.sum(p * (1 - p))) / p.size
        assert abs(x.mean() - p.mean()) < 5 * se
    assert np.all(draws[0][p == 0] == 0) and np.all(draws[0][p == 1] == 1)
    # Two epochs differ where the pixel is uncertain: expected fraction 2 E[p (1 - p)].
    frac = np.mean(draws[0] != draws[1])
    expect = 2 * np.mean(p * (1 - p))
    assert abs(frac - expect) < 5 * np.sqrt(expect / p.size)
    # Per pixel, the average over the epochs is Binomial(n_epochs, p) / n_epochs.
    grey = (p > 0) & (p < 1)
    z2 = (np.mean(draws, axis=0)[grey] - p[grey]) ** 2 / (p[grey] * (1 - p[grey]) / n_epochs)
    assert abs(z2.mean() - 1) < 5 * np.sqrt(2 / grey.sum()) + 0.02


def test_seed_makes_epochs_reproducible_and_shuffles():
    pytest.importorskip("tensorflow")
    ds = load_dataset("digits", "test")
    a = epochs(ds.to_tf(64, seed=3), 2)
    b = epochs(ds.to_tf(64, seed=3), 2)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1])
    plain = epochs(ds.to_tf(64, seed=3, dynamic_binarization=False), 2)
    assert not np.array_equal(plain[0], plain[1])  # a new order each epoch
    np.testing.assert_allclose(np.sort(plain[0].ravel()), np.sort(ds.images.ravel()))


def test_static_binarized_is_not_resampled_and_batch_options():
    tf = pytest.importorskip("tensorflow")
    ds = load_dataset("digits", "test").binarize(seed=0)
    first, second = epochs(ds.to_tf(100, shuffle=False), 2)
    np.testing.assert_array_equal(first, ds.images)
    np.testing.assert_array_equal(second, ds.images)
    tf_ds = ds.to_tf(100, drop_remainder=True)
    assert tf_ds.element_spec == tf.TensorSpec((100, 8, 8, 1), tf.float32)
    assert [int(x.shape[0]) for x in tf_ds] == [100, 100]
    assert [int(x.shape[0]) for x in ds.to_tf(100, shuffle=False)] == [100, 100, 97]
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            ds.to_tf(bad)
