"""The finn-plus accommodations in qnnc.backends.finn_compat: each test fails if finn-plus
changes so that an accommodation is no longer needed or no longer works."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qnnc.backends import finn_compat

NO_VIVADO = {k: v for k, v in os.environ.items() if k != "XILINX_VIVADO"}


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=NO_VIVADO, timeout=300)


@pytest.mark.skipif(finn_compat.vivado_available(), reason="only meaningful without Vivado")
def test_build_steps_still_need_the_simengine_placeholder_without_vivado():
    result = run_python(
        "from finn.util import settings; settings.initialize_dummy_settings()\n"
        "import finn.builder.build_dataflow_steps\n"
    )
    assert result.returncode != 0 and "XILINX_VIVADO" in result.stderr, (
        "finn-plus now imports its build steps without Vivado: remove accommodation 2")


def test_finn_needs_settings_initialised():
    result = run_python("from finn.util.settings import get_settings; get_settings()")
    assert result.returncode != 0 and "initialize_dummy_settings" in result.stderr, (
        "finn-plus finds its settings on its own now: remove accommodation 1")


def test_prepare_finn_makes_the_builder_importable():
    result = run_python(
        "from qnnc.backends.finn_compat import prepare_finn; prepare_finn()\n"
        "import finn.builder.build_dataflow as bd, finn.builder.build_dataflow_config as bc\n"
        "print(bc.estimate_only_dataflow_steps[-1])\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("step_generate_estimate_reports")


FAILING_STEP = """
from types import SimpleNamespace
import onnx
from onnx import TensorProto, helper
from qnnc.backends.finn_compat import FinnStepError, build_dataflow, prepare_finn
prepare_finn()
import finn.builder.build_dataflow_config as bc

graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"], name="Identity_0")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
onnx.save(helper.make_model(graph), "{out}/in.onnx")

def step_that_asserts(model, cfg):
    for node in model.graph.node:
        assert node.op_type != "Identity", "thresholds must be nonnegative"
    return model

cfg = bc.DataflowBuildConfig(output_dir="{out}/finn", synth_clk_period_ns=10.0, board="Pynq-Z2",
                             shell_flow_type=bc.ShellFlowType.VIVADO_ZYNQ, folding_config_file="{out}/none.json",
                             steps=[step_that_asserts, "step_generate_estimate_reports"],
                             generate_outputs=[bc.DataflowOutputType.ESTIMATE_REPORTS], verbose=False)
try:
    build_dataflow("{out}/in.onnx", cfg, layer_of=lambda node: "fc1")
except FinnStepError as exc:
    print("ERROR:", exc)
"""


def test_a_failing_finn_step_is_named_with_its_own_exception_not_the_missing_vivado(tmp_path):
    # outside pytest's environment FINN's build ends every failure by looking for Vivado
    env = {k: v for k, v in NO_VIVADO.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([sys.executable, "-c", FAILING_STEP.replace("{out}", str(tmp_path))],
                            capture_output=True, text=True, env=env, timeout=300)
    error = next((line for line in result.stdout.splitlines() if line.startswith("ERROR:")), None)
    assert error is not None, result.stdout + result.stderr
    assert "FINN step step_that_asserts failed at node Identity_0 (spec layer 'fc1')" in error
    assert "AssertionError: thresholds must be nonnegative" in error
    assert "XILINX_VIVADO" not in error
