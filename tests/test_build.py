"""`qnnc build` as a user runs it: plan first, stages skipped when unchanged, failures keep
earlier work and name their log."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import MLP, ROOT
from conftest import run_qnnc as qnnc

# the tests of the built MLP run on one worker, which builds it once (pytest-xdist --dist loadgroup)
BUILT = pytest.mark.xdist_group("built_mlp")


def test_dry_run_shows_the_plan_and_writes_nothing(tmp_path):
    out = tmp_path / "b"
    result = qnnc("build", str(MLP), "--out", str(out), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "model.py" in result.stdout and "train.py" in result.stdout
    assert "stages: generate" in result.stdout
    assert not out.exists()


def test_unchanged_build_does_nothing_and_from_forces_a_stage(tmp_path):
    out = tmp_path / "b"
    first = qnnc("build", str(MLP), "--out", str(out), "--until", "train", "--epochs", "1")
    assert first.returncode == 0, first.stderr
    record = json.loads((out / "build.json").read_text())
    assert record["stages"]["train"]["status"] == "done"
    second = qnnc("build", str(MLP), "--out", str(out), "--until", "train", "--epochs", "1")
    assert "[generate] up to date" in second.stdout and "[train] up to date" in second.stdout
    third = qnnc("build", str(MLP), "--out", str(out), "--until", "train", "--epochs", "1", "--from", "train")
    assert "[generate] up to date" in third.stdout and "epoch 1/1" in third.stdout
    assert "resuming" not in third.stdout


def test_a_failing_stage_keeps_earlier_outputs_and_names_its_log(tmp_path):
    spec = tmp_path / "cifar.qnn"
    spec.write_text((ROOT / "specs" / "cnv_w1a1.qnn").read_text())
    out = tmp_path / "b"
    empty = {"QNNC_DATA_DIR": str(tmp_path / "none"), "QNNC_CACHE_DIR": str(tmp_path / "none")}
    result = qnnc("build", str(spec), "--out", str(out), "--until", "train", env=empty)
    assert result.returncode == 1
    assert "dataset 'cifar10' is not installed here" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert (out / "model.py").exists() and (out / "train.py").exists()
    stages = json.loads((out / "build.json").read_text())["stages"]
    assert stages["generate"]["status"] == "done" and stages["train"]["status"] == "failed"


@pytest.fixture(scope="module")
def estimated(built_mlp):
    return built_mlp


@pytest.mark.slow
@BUILT
def test_spec_to_finn_estimates_end_to_end(estimated):
    out, result = estimated
    assert result.returncode == 0, result.stdout + result.stderr
    stages = json.loads((out / "build.json").read_text())["stages"]
    assert [stages[s]["status"] for s in ("generate", "train", "export", "verify", "estimate")] == ["done"] * 5
    assert stages["verify"]["outputs"]["bit_exact"] is True
    assert [r["stage"] for r in stages["verify"]["outputs"]["stages"]] == [
        "qonnx", "finn-streamlined", "finn-hw-layers"]
    assert stages["hardware"]["status"] == "needs-vivado"
    assert "needs Vivado/Vitis" in result.stdout
    assert f"qnnc build {MLP} --out b --from hardware" in result.stdout  # as the user wrote --out
    est = stages["estimate"]["outputs"]
    assert est["fps"] > 0 and 0 < est["resources"]["LUT"] < est["capacity"]["LUT"]
    assert {"MVAU_hls_0", "MVAU_hls_1", "MVAU_hls_2", "LabelSelect_hls_0"} <= set(est["layers"])
    assert (out / "finn" / "report" / "estimate_layer_resources.json").exists()
    assert (out / "export" / "model.qonnx.onnx").exists()


@pytest.mark.slow
@BUILT
def test_every_node_of_the_generated_design_is_simulated_bit_exactly_in_the_build(estimated, simulation_sources):
    out, result = estimated
    stages = json.loads((out / "build.json").read_text())["stages"]
    generated = {row["node"]: row for row in stages["hwgen"]["outputs"]["nodes"]}
    stage = stages["simulate"]
    assert stage["status"] == "done", result.stdout
    found = stage["outputs"]
    assert found["bit_exact"] and found["samples"] == 32
    modes = {row["node"]: row["mode"] for row in found["nodes"]}
    assert list(modes) == list(generated)  # the design hwgen wrote, node for node
    assert {n for n in modes if n.startswith(("MVAU_hls", "LabelSelect_hls"))} == \
        {n for n, mode in modes.items() if mode == "cppsim"}
    assert {n for n in modes if n.startswith("IODMA_hls")} == {n for n, mode in modes.items() if mode == "dmasim"}
    assert {n for n in modes if n.endswith("_rtl") or "_rtl_" in n} == \
        {n for n, mode in modes.items() if mode == "rtlsim"}
    assert found["simulated"] == len(modes) == 21 and found["python"] == 0
    reshape = next(row for row in found["nodes"] if row["node"].startswith("Reshape_rtl"))
    assert reshape["cycles_back_pressure"] > reshape["cycles"] > 0  # random back-pressure only slows it
    assert reshape["finn_cycles"] > 0
    fifos = [row for row in found["nodes"] if row["node"].startswith("StreamingFIFO")]
    assert fifos and all("FINN's behavioral model" in row["note"] for row in fifos)  # said, never silent
    builds = {(out / "sim" / row["node"] / "verilator.log").read_text().split("shared build ")[-1].split(" (")[0]
              for row in fifos}
    assert len(builds) < len(fifos)  # FIFOs alike but for their names were built once
    assert "every simulated node bit-exact" in result.stdout


@pytest.mark.slow
@BUILT
def test_rerunning_an_unchanged_build_does_nothing(estimated):
    out, _ = estimated
    start = time.perf_counter()
    again = qnnc("build", str(MLP), "--out", str(out), "--epochs", "2", env={"XILINX_VIVADO": ""})
    assert again.returncode == 0
    for stage in ("generate", "train", "export", "verify", "estimate", "hwgen", "simulate", "package"):
        assert f"[{stage}] up to date" in again.stdout
    assert time.perf_counter() - start < 15


@pytest.mark.slow
@BUILT
def test_a_target_change_reruns_the_estimate_only(estimated, tmp_path):
    out, _ = estimated
    changed = tmp_path / MLP.name  # same name: the generated files are the same
    changed.write_text(MLP.read_text().replace("clock: 100 MHz", "clock: 125 MHz"))
    assert changed.read_text() != MLP.read_text()
    plan = qnnc("build", str(changed), "--out", str(out), "--epochs", "2", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    said = {line.split()[0]: line.split()[1] for line in plan.stdout.splitlines()[plan.stdout.splitlines().index(
        next(line for line in plan.stdout.splitlines() if line.startswith("stages:"))) + 1:]}
    assert said == {"generate": "skipped", "train": "skipped", "export": "skipped", "verify": "skipped",
                    "estimate": "runs", "hwgen": "runs", "simulate": "runs", "package": "runs", "hardware": "runs"}


@pytest.mark.slow
@BUILT
def test_a_corrupted_weight_is_caught_at_the_first_diverging_stage(estimated, tmp_path):
    from onnx import numpy_helper
    from qonnx.core.modelwrapper import ModelWrapper

    from qnnc.backends.verify import VerificationError, held_out, verify
    from qnnc.compiler import Compilation

    out, _ = estimated
    copy = tmp_path / "b"
    shutil.copytree(out, copy)
    model = ModelWrapper(str(copy / "export" / "model.onnx"))
    weight = max(model.graph.initializer, key=lambda t: numpy_helper.to_array(t).size)
    model.set_initializer(weight.name, -numpy_helper.to_array(weight))
    model.save(str(copy / "export" / "model.onnx"))
    spec = Compilation.from_path(MLP).spec
    with pytest.raises(VerificationError, match="'qonnx' is the first stage that diverges"):
        verify(copy, spec, held_out(spec, 64))


@pytest.mark.slow
def test_estimate_without_training(tmp_path):
    result = qnnc("estimate", str(MLP), "--out", str(tmp_path / "e"), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    layers = [row["layer"] for row in summary["per_layer"] if row["node"].startswith("MVAU")]
    assert layers == ["fc0", "fc1", "out"]
    assert summary["fps"] > 0 and 0 < summary["utilization"]["LUT"] < 1
    assert not (tmp_path / "e" / "metrics.json").exists()  # nothing was trained


def test_one_build_per_directory_at_a_time(tmp_path):
    out = tmp_path / "b"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    tfc = ROOT / "specs" / "tfc_w1a1.qnn"  # epochs of seconds: an orphan would live on between its outputs
    first = subprocess.Popen([sys.executable, "-m", "qnnc", "build", str(tfc), "--out", str(out), "--until", "train",
                              "--epochs", "200", "--samples", "30000"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.time() + 120
    while not psutil.Process(first.pid).children(recursive=True) and time.time() < deadline:
        time.sleep(0.05)
    second = qnnc("build", str(tfc), "--out", str(out), "--until", "train", "--epochs", "3")
    training = psutil.Process(first.pid).children(recursive=True)
    first.kill()
    first.wait()
    alive = psutil.wait_procs(training, timeout=1.0)[1]
    assert training and all(_dead(p) for p in alive)  # no training outlives its build
    assert second.returncode == 1
    assert f"{out} is in use by another qnnc (pid {first.pid}:" in second.stderr
    assert "--epochs 200" in second.stderr
    third = qnnc("build", str(tfc), "--out", str(out), "--until", "train", "--epochs", "1", "--samples", "2000")
    assert third.returncode == 0, third.stderr


def _dead(process: psutil.Process) -> bool:
    """Ended: gone, or a zombie its new parent has not reaped yet."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
def test_exports_are_byte_identical_wherever_they_run(tmp_path):
    """Same spec and weights, two directories: the same ONNX files, and no side files left."""
    outs = [tmp_path / "one", tmp_path / "somewhere" / "else"]
    for out in outs:
        result = qnnc("estimate", str(MLP), "--out", str(out))
        assert result.returncode == 0, result.stderr
    for name in ("model.qonnx.onnx", "model.onnx"):
        assert (outs[0] / "export" / name).read_bytes() == (outs[1] / "export" / name).read_bytes()
    assert sorted(p.name for p in (outs[0] / "export").iterdir()) == ["model.onnx", "model.qonnx.onnx"]


def test_the_continue_command_keeps_the_builds_options_and_quotes_paths():
    import shlex
    from pathlib import Path

    from qnnc.pipeline.runner import continue_command
    from qnnc.pipeline.stages import Options

    text = continue_command("my specs/t.qnn", Path("out dir/b"), "hardware", Options(epochs=2, samples=500))
    assert shlex.split(text) == ["qnnc", "build", "my specs/t.qnn", "--out", "out dir/b", "--from", "hardware",
                                 "--epochs", "2", "--samples", "500"]


def test_a_bug_in_qnnc_is_internal_and_a_tool_failure_is_the_toolchains(tmp_path):
    import json as stdlib_json

    from qnnc.errors import InternalError, ToolchainError
    from qnnc.pipeline.stages import Context, Options, run_backend

    ctx = Context(root=tmp_path, plan=None, spec=None, options=Options(), log=lambda _line: None)

    def qnnc_bug(root, spec):
        from qnnc.hw import solver

        return solver.fastest([], {}, {})  # max() of nothing, raised in qnnc's own code

    def tool_failure(root, spec):
        return stdlib_json.loads("{")  # raised inside a library qnnc calls

    with pytest.raises(InternalError, match="ValueError"):
        run_backend("export", qnnc_bug, ctx)
    def tool_missing_file(root, spec):  # FINN making ~/.finn where $HOME does not exist
        return Path(root / "no-home" / ".finn").mkdir()

    def full_disk(root, spec):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ToolchainError, match="JSONDecodeError"):
        run_backend("export", tool_failure, ctx)
    with pytest.raises(ToolchainError, match="FileNotFoundError.*no-home"):
        run_backend("export", tool_missing_file, ctx)
    with pytest.raises(OSError, match="No space") as caught:  # the machine's: the CLI says so, exit 1
        run_backend("export", full_disk, ctx)
    assert caught.value.errno == errno.ENOSPC and str(tmp_path) in caught.value.filename
