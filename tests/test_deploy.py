"""The deployment folder as a board runs it: FINN's own driver (finn-plus-driver, in an
environment of its own as on a board) runs the folder's validate.py against an emulated board,
whose accelerator is the build's simulated hardware; the answers must be PyTorch's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv

import numpy as np
import pytest

from conftest import MLP, ROOT

# every test here uses the built MLP: they run on one worker, which builds it once (pytest-xdist
# --dist loadgroup), with test_build.py's tests of it
pytestmark = pytest.mark.xdist_group("built_mlp")


@pytest.fixture(scope="module")
def built(built_mlp):
    out, result = built_mlp
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="session")
def board_python(tmp_path_factory):
    """A Python environment as on a PYNQ board: finn-plus-driver at finn-plus's version (with
    its own numpy < 2), nothing of qnnc's; PYNQ itself is the test's stand-in (tests/board)."""
    from qnnc.backends.deploy import driver_version

    folder = tmp_path_factory.mktemp("board") / "venv"
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                f"finn-plus-driver=={driver_version()}"], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def on_board(folder, board_python, build, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "board"), "QNNC_BOARD_BUILD": str(build),
           "QNNC_BOARD_PYTHON": sys.executable}
    return subprocess.run([str(board_python), "validate.py", *args], cwd=folder, capture_output=True, text=True,
                          env=env, timeout=1800)


@pytest.mark.slow
def test_the_package_holds_everything_but_the_bitfile(built):
    from qnnc.backends.verify import reference
    from qnnc.compiler import Compilation
    from qnnc.runtime.data import load

    deploy = built / "deploy"
    assert sorted(p.name for p in deploy.iterdir()) == ["README.md", "driver", "test_data.npz", "validate.py"]
    settings = json.loads((deploy / "driver" / "settings.json").read_text())["driver_information"]
    assert settings["driver_type"] == "FINNDMAOverlay" and settings["platform"] == "zynq-iodma"
    assert settings["io_shape_dict"]["idma_names"] == ["idma0"] and settings["io_shape_dict"]["odma_names"] == ["odma0"]
    data = np.load(deploy / "test_data.npz")
    spec = Compilation.from_path(MLP).spec
    _, _, x_test, y_test = load(spec.train.dataset)
    assert data["x"].dtype == np.uint8 and np.array_equal(data["x"], x_test)  # an MLP's input needs no new layout
    assert np.array_equal(data["labels"], y_test)
    ref = reference(built, spec, x_test.astype(np.float32))
    assert np.array_equal(data["expected"], ref.outputs.reshape(len(x_test), -1))
    metrics = json.loads((built / "metrics.json").read_text())
    assert np.mean(data["expected"][:, 0] == data["labels"]) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    readme = (deploy / "README.md").read_text()
    assert f"qnnc build {MLP} --out b --from hardware --epochs 2" in readme
    missing = subprocess.run([sys.executable, "validate.py"], cwd=deploy, capture_output=True, text=True)
    assert missing.returncode == 1 and "bitfile/finn-accel.bit is missing" in missing.stderr


@pytest.mark.slow
def test_the_driver_on_an_emulated_board_gives_pytorchs_answers(built, board_python, tmp_path, simulation_sources):
    folder = tmp_path / "deploy"
    shutil.copytree(built / "deploy", folder)
    (folder / "bitfile").mkdir()
    (folder / "bitfile" / "finn-accel.bit").write_bytes(b"")  # the stand-in board loads nothing
    ran = on_board(folder, board_python, built, "--batch", "128")  # 300 samples: batches of 128, 128 and 44
    assert ran.returncode == 0, ran.stdout + ran.stderr
    report = json.loads((folder / "validation.json").read_text())
    metrics = json.loads((built / "metrics.json").read_text())
    assert report["samples"] == 300 and report["agrees_with_pytorch"] == 300
    # a sample whose top scores tie may get either label (FINN's LabelSelect and PyTorch's argmax
    # break ties their own ways); every other answer is PyTorch's, so the accuracies differ by ties only
    tied = int(np.load(folder / "test_data.npz")["tied"].sum())
    assert abs(report["test_accuracy"] - metrics["test_accuracy"]) * 300 <= tied + 1e-6


@pytest.mark.slow
def test_a_wrong_node_on_the_emulated_board_is_named(built, board_python, tmp_path, simulation_sources):
    """A copy of the build whose first matrix unit never fires: the board emulator names it."""
    import re

    from qnnc.backends.cppsim import compile_command, third_party

    build = tmp_path / "b"
    shutil.copytree(built, build, symlinks=True)
    unit = next(p for p in sorted((build / "sim").iterdir()) if p.name.startswith("MVAU_hls"))
    text = (unit / "thresh.h").read_text()
    row = re.search(r"\{(-?\d+(, -?\d+)*)\}", text)
    (unit / "thresh.h").write_text(text[:row.start(1)] + ", ".join(["8191"] * len(row.group(1).split(",")))
                                   + text[row.end(1):])
    subprocess.run(compile_command(unit, third_party()), check=True, capture_output=True)
    folder = tmp_path / "deploy"
    shutil.copytree(build / "deploy", folder)
    (folder / "bitfile").mkdir()
    (folder / "bitfile" / "finn-accel.bit").write_bytes(b"")
    ran = on_board(folder, board_python, build, "--limit", "64")
    assert ran.returncode != 0
    assert f"node {unit.name} differs from FINN's Python model" in ran.stdout + ran.stderr


@pytest.mark.slow
def test_the_hardware_stage_completes_the_package(built, tmp_path):
    """What the hardware stage does after FINN's Vivado steps, given their outputs."""
    from qnnc.backends.deploy import complete_with, write_readme
    from qnnc.compiler import Compilation

    build = tmp_path / "b"
    shutil.copytree(built, build, symlinks=True)
    finn_out = tmp_path / "finn"
    (finn_out / "bitfile").mkdir(parents=True)
    (finn_out / "driver").mkdir()
    for name in ("finn-accel.bit", "finn-accel.hwh"):
        (finn_out / "bitfile" / name).write_text(name)
    settings = json.loads((build / "deploy" / "driver" / "settings.json").read_text())
    settings["driver_information"]["fclk_mhz"] = 99.0  # FINN's own, after its FIFO sizing
    (finn_out / "driver" / "settings.json").write_text(json.dumps(settings))
    copied = complete_with(build, finn_out / "bitfile", finn_out / "driver")
    found = write_readme(build, Compilation.from_path(MLP).spec, continue_command="")
    assert found["complete"] and found["missing"] == []
    assert sorted(copied) == ["deploy/bitfile/finn-accel.bit", "deploy/bitfile/finn-accel.hwh",
                              "deploy/driver/settings.json"]
    assert json.loads((build / "deploy" / "driver" / "settings.json").read_text()) == settings
    assert "The bitfile is here" in (build / "deploy" / "README.md").read_text()


@pytest.mark.slow
def test_the_hardware_stage_continues_finns_build_from_the_estimate(built, tmp_path):
    """On a Vivado machine, --from hardware runs FINN's remaining steps on the estimate's model;
    here, its first step (which needs no Vivado) shows FINN starts where the estimate ended."""
    from qnnc.backends.export import FINN_INPUT
    from qnnc.backends.finn import hardware_config
    from qnnc.backends.finn_compat import build_dataflow
    from qnnc.compiler import Compilation

    build = tmp_path / "b"
    shutil.copytree(built, build, symlinks=True)
    models = build / "finn" / "intermediate_models"
    before = {p.name: p.stat().st_mtime for p in models.glob("*.onnx")}
    config = hardware_config(Compilation.from_path(MLP).spec, build)
    assert config.start_step == "step_transpose_decomposition"
    config.stop_step = config.start_step
    build_dataflow(build / FINN_INPUT, config)
    after = {p.name: p.stat().st_mtime for p in models.glob("*.onnx")}
    assert set(after) - set(before) == {"step_transpose_decomposition.onnx"}
    assert all(after[name] == when for name, when in before.items())  # no estimate step ran again
