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
