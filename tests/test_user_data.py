"""The user's own data (`dataset: npz(...)`, `folder(...)`, `python(...)`): every form loads the
same arrays, every broken rule names its file, lint and estimate read no data, and a build
trains, exports and verifies on it."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from conftest import MLP, SPECS, run_qnnc

rng = np.random.default_rng(0)
SHAPE = (1, 8, 8)
ARRAYS = {"x_train": rng.integers(0, 17, (40, *SHAPE), dtype=np.uint8), "y_train": rng.integers(0, 10, 40),
          "x_test": rng.integers(0, 17, (12, *SHAPE), dtype=np.uint8), "y_test": rng.integers(0, 10, 12)}
DESCRIBED = {"classes": 10, "shape": list(SHAPE), "values": [0, 255]}


def load(kind: str, source: str, root, **changes):
    from qnnc.runtime.data import load as load_data

    return load_data({"kind": kind, "source": source, **DESCRIBED, **changes}, root)


def same(found) -> bool:
    return all(np.array_equal(a, ARRAYS[name]) for a, name in zip(found, ARRAYS, strict=True))


def idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_every_form_loads_the_same_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", **ARRAYS)
    (tmp_path / "npy").mkdir()
    for name, array in ARRAYS.items():
        np.save(tmp_path / "npy" / f"{name}.npy", array)
    (tmp_path / "idx").mkdir()
    for name, file in zip(ARRAYS, ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                   "t10k-labels-idx1-ubyte"), strict=True):
        (tmp_path / "idx" / f"{file}.gz").write_bytes(gzip.compress(idx(ARRAYS[name])))
    (tmp_path / "mydata.py").write_text("import numpy as np\n\ndef load():\n"
                                        f"    d = np.load({str(tmp_path / 'd.npz')!r})\n"
                                        "    return {k: d[k] for k in d.files}\n")
    assert same(load("npz", "d.npz", tmp_path))
    assert same(load("folder", "npy", tmp_path))
    assert same(load("folder", "idx", tmp_path))
    assert same(load("python", "mydata:load", tmp_path))
    assert same(load("python", "mydata.py:load", tmp_path))
    flat = {**ARRAYS, "x_train": ARRAYS["x_train"].reshape(40, -1), "x_test": ARRAYS["x_test"].reshape(12, -1)}
    np.savez(tmp_path / "flat.npz", **flat)
    assert same(load("npz", "flat.npz", tmp_path))  # as many values per sample: reshaped to the input


@pytest.mark.parametrize("change, message", [
    ({"x_train": ARRAYS["x_train"][:, :, :4]}, r"x_train\]: samples of shape \[1, 4, 8\], the network's input is"),
    ({"y_test": ARRAYS["y_test"][:5]}, r"y_test\]: 5 labels of shape \[5\] for 12 samples"),
    ({"y_train": ARRAYS["y_train"] + 5}, r"y_train\]: labels from 5 to 1\d, the spec declares 10 classes \(0 \.\. 9\)"),
    ({"x_test": ARRAYS["x_test"].astype(np.int16) - 3}, r"x_test\]: values from -3 to 13, the input type holds"),
    ({"x_train": ARRAYS["x_train"] / 2}, r"x_train\]: values from 0.0 to 8.0, the input type holds the whole numbers"),
])
def test_data_that_breaks_a_rule_is_named_with_the_rule(tmp_path, change, message):
    from qnnc.runtime.user_data import UserDataError

    np.savez(tmp_path / "d.npz", **{**ARRAYS, **change})
    with pytest.raises(UserDataError, match=str(tmp_path / "d.npz").replace(".", r"\.") + r"\[" + message):
        load("npz", "d.npz", tmp_path)


def test_missing_data_and_arrays_are_named(tmp_path):
    from qnnc.runtime.user_data import UserDataError

    with pytest.raises(UserDataError, match=f"npz: {tmp_path}/none.npz does not exist .*relative to its own folder"):
        load("npz", "none.npz", tmp_path)
    np.savez(tmp_path / "d.npz", x_train=ARRAYS["x_train"], y_train=ARRAYS["y_train"])
    with pytest.raises(UserDataError, match="d.npz lacks x_test, y_test \\(it holds x_train, y_train\\)"):
        load("npz", "d.npz", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserDataError, match="empty holds neither x_train.npy"):
        load("folder", "empty", tmp_path)
    with pytest.raises(UserDataError, match="module 'nowhere' is not found"):
        load("python", "nowhere:load", tmp_path)
    (tmp_path / "odd.py").write_text("def load():\n    return 1, 2\n")
    with pytest.raises(UserDataError, match=r"odd:load\(\) must return \(x_train, y_train, x_test, y_test\)"):
        load("python", "odd:load", tmp_path)


def user_spec(folder, dataset: str):
    text = MLP.read_text().replace("dataset: digits", f"dataset: {dataset}")
    assert text != MLP.read_text()
    path = folder / "mlp.qnn"
    path.write_text(text)
    return path


def test_lint_and_the_generated_training_name_the_data_as_the_spec_does(tmp_path):
    from qnnc.compiler import Compilation

    spec = user_spec(tmp_path, 'npz(file="data/digits.npz", classes=10)')
    comp = Compilation.from_path(spec)
    assert comp.diagnostics() == []  # the file does not exist: lint reads no data
    train = comp.plan.files["train.py"]
    assert "'source': 'data/digits.npz'" in train and str(tmp_path) not in train  # the same bytes wherever it is


def test_a_sweep_trial_finds_the_data_from_its_own_folder(tmp_path):
    from qnnc.compiler import Compilation
    from qnnc.study.engine import weight_layers
    from qnnc.study.rewrite import trial_text

    spec = user_spec(tmp_path, 'npz(file="data/digits.npz", classes=10)')
    comp = Compilation.from_path(spec)
    text = trial_text(comp.module, comp.source, weight_layers(comp.spec), {})
    assert f'file="{tmp_path / "data" / "digits.npz"}"' in text


@pytest.mark.slow
def test_a_build_trains_and_verifies_on_the_users_data(tmp_path):
    from qnnc.runtime.data import load as load_data

    x_tr, y_tr, x_te, y_te = load_data("digits")
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "digits.npz", x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    spec = user_spec(tmp_path, 'npz(file="data/digits.npz", classes=10)')
    out = tmp_path / "elsewhere" / "b"
    built = run_qnnc("build", str(spec), "--out", str(out), "--until", "verify", "--epochs", "1")
    assert built.returncode == 0, built.stdout + built.stderr
    stages = json.loads((out / "build.json").read_text())["stages"]
    assert stages["verify"]["outputs"]["bit_exact"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_samples"] + metrics["validation_samples"] == len(x_tr)  # 10 % held out for validation
    assert metrics["validation_samples"] == round(len(x_tr) * 0.1) and metrics["test_samples"] == len(x_te)
    again = run_qnnc("build", str(spec), "--out", str(out), "--until", "verify", "--epochs", "1")
    assert "[train] up to date" in again.stdout
    np.savez(tmp_path / "data" / "digits.npz", x_train=x_tr[:500], y_train=y_tr[:500], x_test=x_te, y_test=y_te)
    changed = run_qnnc("build", str(spec), "--out", str(out), "--until", "train", "--epochs", "1")
    assert "[train] up to date" not in changed.stdout  # other data: trained again
    shutil.rmtree(tmp_path / "data")
    estimated = run_qnnc("estimate", str(spec), "--out", str(tmp_path / "e"))  # needs no data at all
    assert estimated.returncode == 0, estimated.stderr
    missing = run_qnnc("build", str(spec), "--out", str(tmp_path / "c"), "--until", "train")
    assert missing.returncode == 1 and "data/digits.npz does not exist" in missing.stderr
    assert "Traceback" not in missing.stdout + missing.stderr


def user_data_specs():
    from qnnc.compiler import Compilation

    return [p for p in SPECS if Compilation.from_path(p).spec.train.user_data is not None]


def generated_data(spec, folder, samples: int = (256, 64)) -> None:
    """Random data of the spec's input shape, input type and classes, where its dataset setting
    names it (relative to ``folder``, where the spec copy lives)."""
    data = spec.dataset_value
    low, high = data["values"] or (-1, 1)
    arrays = {}
    for part, n in zip(("train", "test"), samples, strict=True):
        arrays[f"x_{part}"] = rng.integers(low, high + 1, (n, *data["shape"])).astype(np.int16)
        arrays[f"y_{part}"] = rng.integers(0, data["classes"], n)
    target = folder / data["source"]
    target.parent.mkdir(parents=True, exist_ok=True)
    if data["kind"] == "npz":
        np.savez(target, **arrays)
    elif data["kind"] == "folder":
        target.mkdir(exist_ok=True)
        for name, array in arrays.items():
            np.save(target / f"{name}.npy", array)
    else:
        raise AssertionError(f"write generated data for {data['kind']} here")


@pytest.mark.slow
@pytest.mark.parametrize("path", user_data_specs(), ids=lambda p: p.stem)
def test_an_example_on_the_users_data_builds_to_the_estimate(path, tmp_path):
    """The examples whose data is not installed here, on generated data in their own format."""
    from qnnc.compiler import Compilation

    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    generated_data(Compilation.from_path(copy).spec, tmp_path)
    out = tmp_path / "b"
    built = run_qnnc("build", str(copy), "--out", str(out), "--until", "estimate", "--epochs", "1")
    assert built.returncode == 0, built.stdout + built.stderr
    stages = json.loads((out / "build.json").read_text())["stages"]
    assert stages["verify"]["outputs"]["bit_exact"] and stages["estimate"]["status"] == "done"
