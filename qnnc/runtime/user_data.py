"""The user's own data: what a spec's ``dataset: npz(...)``, ``folder(...)`` or ``python(...)``
names, loaded and checked against the network's input and the declared classes.

The generated train.py describes it as a dict (``kind``, ``source``, ``classes``, ``shape``,
``values``: the input type's integer range, or None); ``source`` is as the spec wrote it and
is found relative to ``root``, the spec's folder.

- ``npz``: one NumPy ``.npz`` file holding ``x_train``, ``y_train``, ``x_test``, ``y_test``.
- ``folder``: a folder holding those four as ``.npy`` files (``x_train.npy`` ...), or MNIST's
  four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each possibly ``.gz``).
- ``python``: ``module:function`` (imported with the spec's folder first on the import path)
  or ``file.py:function``; the function returns the four arrays, as a tuple in that order or a
  dict with those names.

Samples must have the network's input shape (or as many values, which are then reshaped);
labels are whole numbers in 0 .. classes-1, one per sample; an integer input's values must
fit its type. A file that breaks a rule is named with the rule.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from qnnc.errors import QnncError

ARRAYS = ("x_train", "y_train", "x_test", "y_test")
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class UserDataError(QnncError):
    """The user's data is missing or does not fit the spec; the message names the file and rule."""


def location(data: dict, root: Path) -> Path:
    return (Path(root) / data["source"]).resolve()


def check_available(data: dict, root: Path) -> None:
    """Raise ``UserDataError`` now, cheaply, when the data is not where the spec says."""
    if data["kind"] == "python":
        module = data["source"].partition(":")[0]
        if module.endswith(".py"):
            found = (Path(root) / module).is_file() or None
        else:
            with _on_path(root):
                found = importlib.util.find_spec(module) if module else None
        if found is None:
            raise UserDataError(f"python(function=\"{data['source']}\"): module '{module}' is not found in {root} "
                                "or on the import path")
        return
    path = location(data, root)
    exists = path.is_file() if data["kind"] == "npz" else path.is_dir()
    if not exists:
        raise UserDataError(f"{data['kind']}: {path} does not exist (the spec names it relative to its own folder, "
                            f"{Path(root).resolve()})")


def load(data: dict, root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    check_available(data, root)
    raw, where = {"npz": _npz, "folder": _folder, "python": _python}[data["kind"]](data, root)
    return checked(raw, where, tuple(data["shape"]), data["classes"], data.get("values"))


def _npz(data: dict, root: Path) -> tuple[dict, dict]:
    path = location(data, root)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in ARRAYS if name not in npz.files]
            if missing:
                raise UserDataError(f"{path} lacks {', '.join(missing)} (it holds {', '.join(npz.files) or 'nothing'});"
                                    f" an npz dataset holds {', '.join(ARRAYS)}")
            return {name: npz[name] for name in ARRAYS}, {name: f"{path}[{name}]" for name in ARRAYS}
    except (OSError, ValueError) as exc:
        raise UserDataError(f"{path} cannot be read as a NumPy .npz file: {exc}") from exc


def _folder(data: dict, root: Path) -> tuple[dict, dict]:
    from qnnc.runtime.data import read_idx

    folder = location(data, root)
    npy = [folder / f"{name}.npy" for name in ARRAYS]
    if all(p.is_file() for p in npy):
        try:
            return ({name: np.load(p, allow_pickle=False) for name, p in zip(ARRAYS, npy, strict=True)},
                    {name: str(p) for name, p in zip(ARRAYS, npy, strict=True)})
        except (OSError, ValueError) as exc:
            raise UserDataError(f"a .npy file in {folder} cannot be read: {exc}") from exc
    idx = [next((c for c in (folder / n, folder / f"{n}.gz") if c.is_file()), None) for n in IDX_NAMES]
    if all(p is not None for p in idx):
        return ({name: read_idx(p) for name, p in zip(ARRAYS, idx, strict=True)},
                {name: str(p) for name, p in zip(ARRAYS, idx, strict=True)})
    raise UserDataError(f"{folder} holds neither {', '.join(p.name for p in npy)} nor the IDX files "
                        f"{', '.join(IDX_NAMES)}")


def _python(data: dict, root: Path) -> tuple[dict, dict]:
    module_name, _, function = data["source"].partition(":")
    if not function:
        raise UserDataError(f"python(function=\"{data['source']}\"): write it as 'module:function'")
    module = _module(module_name, root)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise UserDataError(f"{module.__file__} has no function '{function}'")
    result = fn()
    if isinstance(result, dict):
        missing = [name for name in ARRAYS if name not in result]
        if missing:
            raise UserDataError(f"{data['source']}() returned a dict without {', '.join(missing)}")
        arrays = {name: np.asarray(result[name]) for name in ARRAYS}
    elif isinstance(result, tuple | list) and len(result) == len(ARRAYS):
        arrays = {name: np.asarray(a) for name, a in zip(ARRAYS, result, strict=True)}
    else:
        raise UserDataError(f"{data['source']}() must return (x_train, y_train, x_test, y_test) or a dict of them")
    return arrays, {name: f"{data['source']}()[{name}]" for name in ARRAYS}


def _module(name: str, root: Path):
    """A dotted module name (the spec's folder first on the import path) or a .py file."""
    if name.endswith(".py"):
        path = (Path(root) / name).resolve()
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    with _on_path(root):
        return importlib.import_module(name)


class _on_path:  # noqa: N801 - used as a context manager, like a function
    """The spec's folder first on the import path, for the user's module, and only meanwhile."""

    def __init__(self, root: Path):
        self.root = str(Path(root).resolve())

    def __enter__(self):
        sys.path.insert(0, self.root)

    def __exit__(self, *exc):
        sys.path.remove(self.root)


def checked(arrays: dict, where: dict, shape: tuple[int, ...], classes: int,
            values: list[int] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays, samples in the network's input shape and labels as int64, once every
    rule holds."""
    out = []
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        x_at, y_at = where[f"x_{part}"], where[f"y_{part}"]
        if x.ndim < 1 or len(x) == 0 or int(np.prod(x.shape[1:])) != int(np.prod(shape)):
            raise UserDataError(f"{x_at}: samples of shape {list(x.shape[1:])}, the network's input is {list(shape)}")
        if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
            raise UserDataError(f"{x_at}: samples must be finite numbers (found {x.dtype})")
        if values is not None and (np.any(x != np.round(x)) or x.min() < values[0] or x.max() > values[1]):
            raise UserDataError(f"{x_at}: values from {x.min()} to {x.max()}, the input type holds the whole numbers "
                                f"{values[0]} .. {values[1]}")
        labels = np.asarray(y).reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        if labels.ndim != 1 or len(labels) != len(x):
            raise UserDataError(f"{y_at}: {labels.size:,} labels of shape {list(y.shape)} for {len(x):,} samples; "
                                "one label per sample")
        if labels.size and (np.any(labels != np.round(labels)) or labels.min() < 0 or labels.max() >= classes):
            raise UserDataError(f"{y_at}: labels from {labels.min()} to {labels.max()}, the spec declares {classes} "
                                f"classes (0 .. {classes - 1})")
        out += [x.reshape((len(x), *shape)), labels.astype(np.int64)]
    return tuple(out)  # type: ignore[return-value]


def digest(data: dict, root: Path) -> str:
    """What the data is, for deciding whether training must run again: the files' contents
    (for a function, its module's source)."""
    h = hashlib.sha256(repr(sorted((k, str(v)) for k, v in data.items())).encode())
    if data["kind"] == "python":
        module = data["source"].partition(":")[0]
        if module.endswith(".py"):
            files = [(Path(root) / module).resolve()]
        else:
            with _on_path(root):
                spec = importlib.util.find_spec(module)
            files = [Path(spec.origin)] if spec is not None and spec.origin else []
    else:
        path = location(data, root)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file.is_file():
            h.update(file.name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return h.hexdigest()
