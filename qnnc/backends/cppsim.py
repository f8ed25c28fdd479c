"""C++ simulation of FINN's HLS nodes without Vitis, node by node against FINN's Python execution.

FINN writes each HLS node's C++ (``code_generation_cppsim``); FINN itself compiles it only
with Vitis HLS installed (its compile links Vitis' csim libraries). qnnc compiles the same
code with g++ against finn-hlslib, Xilinx's open-source ap_int headers and qnnc's own small
stand-ins for the Vitis headers (``templates/hls``), then lets FINN run it (exec mode
``cppsim``). The reference is the same graph with every node executed by FINN's Python model
of its generic operator, so the first node whose output differs is the one to blame.

The third-party sources come from ``$QNNC_THIRD_PARTY`` (a folder holding ``finn-hlslib/``
and ``HLS_arbitrary_Precision_Types/``).
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from qnnc.backends.third_party import ENV as THIRD_PARTY_ENV
from qnnc.backends.third_party import folder as sources_folder
from qnnc.backends.third_party import missing as missing_sources
from qnnc.errors import QnncError
from qnnc.resources import resource_dir

HLS_SUFFIX, RTL_SUFFIX = "_hls", "_rtl"
GENERIC_DOMAIN = "finn.custom_op.fpgadataflow"


class SimulationUnavailableError(QnncError):
    """What C++ simulation needs is not on this machine (a compiler, the third-party sources)."""


def third_party() -> Path:
    """The folder with finn-hlslib and the ap_int headers; an error says how to provide it."""
    folder, source = sources_folder()
    lacking = missing_sources(folder)
    if lacking:
        raise SimulationUnavailableError(
            f"C++ simulation needs finn-hlslib and Xilinx's ap_int headers, and {source} ({folder}) lacks "
            f"{', '.join(lacking)}: set {THIRD_PARTY_ENV} to a folder holding finn-hlslib/ and "
            "HLS_arbitrary_Precision_Types/, or run 'python -m qnnc.backends.third_party' where GitHub is reachable")
    if shutil.which("g++") is None:
        raise SimulationUnavailableError("C++ simulation needs g++, which is not on PATH")
    return folder


def compile_flags(sources: Path) -> list[str]:
    """g++'s flags for FINN's generated C++: qnnc's Vitis stand-ins read first, then FINN's npy
    helpers, finn-hlslib and the ap_int headers."""
    from finn.templates import get_templates_folder

    npy = Path(get_templates_folder()) / "npy2stream"
    ours = resource_dir("templates") / "hls"
    return ["-std=c++17", "-O1", "-include", str(ours / "qnnc_sim.h"), f"-I{ours}", f"-I{npy}",
            f"-I{sources / 'finn-hlslib'}", f"-I{sources / 'HLS_arbitrary_Precision_Types' / 'include'}"]


def compile_command(code_dir: Path, sources: Path) -> list[str]:
    """g++ for one node's generated C++ (FINN's cppsim code), linked with FINN's npy I/O. The
    code's own ``AP_INT_MAX_W`` (a stream wider than ap_int's default 1,024 bits) is given on the
    command line too: qnnc's stand-ins read ap_int.h before the code's first line."""
    code = sorted(code_dir.glob("*.cpp"))
    return ["g++", *compile_flags(sources), *width_flags(code), *map(str, code),
            str(npy_object(code_dir.parent, sources)), "-lz", "-o", str(code_dir / "node_model")]


def width_flags(code: list[Path]) -> list[str]:
    """The widest ``AP_INT_MAX_W`` the code defines, as a -D flag: qnnc's stand-ins include
    ap_int.h before the code's own define could take effect (ap_int's default is 1,024 bits)."""
    widths = [int(w) for p in code for w in re.findall(r"^#define AP_INT_MAX_W (\d+)", p.read_text(), re.M)]
    return [f"-DAP_INT_MAX_W={max(widths)}"] if widths else []


NPY_OBJECT = ".cnpy/cnpy.o"


def npy_object(folder: Path, sources: Path) -> Path:
    """FINN's npy reader (cnpy.cpp), the same for every node and most of a node's compile time,
    compiled once per simulation folder."""
    from finn.templates import get_templates_folder

    obj = folder / NPY_OBJECT
    with _NPY_LOCK:
        if obj.is_file():
            return obj
        obj.parent.mkdir(parents=True, exist_ok=True)
        source = Path(get_templates_folder()) / "npy2stream" / "cnpy.cpp"
        partial = obj.with_suffix(".partial.o")
        subprocess.run(["g++", *compile_flags(sources), "-c", str(source), "-o", str(partial)], check=True,
                       capture_output=True, text=True)
        partial.replace(obj)
        return obj


_NPY_LOCK = threading.Lock()  # nodes are built in parallel threads


@dataclass
class Simulation:
    """Per node of the dataflow graph, how it was run: 'cppsim', or 'python' with the reason."""

    modes: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def prepare(model, folder: Path, sources: Path, rtl_target: tuple[str, float] | None = None) -> Simulation:
    """Generate and compile every HLS node's C++ (and, given the FPGA part and clock period,
    every RTL node's Verilator testbench) into ``folder/<node>``; a node that does not build
    here runs FINN's Python model instead, with the reason recorded."""
    sim = Simulation()
    for node in model.graph.node:
        sim.modes[node.name], reason = prepare_node(model, node, folder, sources, rtl_target)
        if reason:
            sim.reasons[node.name] = reason
    return sim


def prepare_node(model, node, folder: Path, sources: Path,
                 rtl_target: tuple[str, float] | None = None) -> tuple[str, str | None]:
    """One node: ('cppsim', None) once compiled and set to run in C++, ('rtlsim', None) once its
    Verilator testbench is built, else ('python', why)."""
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.rtlsim import prepare_rtl_node

    if node.op_type.endswith(RTL_SUFFIX):
        if rtl_target is None:
            return "python", "an RTL node, and RTL simulation was not asked for"
        return prepare_rtl_node(model, node, folder, *rtl_target)
    if not node.op_type.endswith(HLS_SUFFIX):
        return "python", "not a hardware node"
    inst, code_dir = getCustomOp(node), folder / node.name
    code_dir.mkdir(parents=True, exist_ok=True)
    inst.set_nodeattr("code_gen_dir_cppsim", str(code_dir))
    inst.code_generation_cppsim(model)
    built = subprocess.run(compile_command(code_dir, sources), capture_output=True, text=True)
    (code_dir / "compile.log").write_text(built.stdout + built.stderr)
    if built.returncode:
        first = next((ln for ln in built.stderr.splitlines() if "error" in ln), built.stderr[-300:])
        return "python", f"does not compile here: {first.strip()}"
    use_compiled(node, code_dir)
    return "cppsim", None


def use_compiled(node, code_dir: Path) -> None:
    """Set a node to run its compiled C++ from ``code_dir`` when FINN executes it."""
    from qonnx.custom_op.registry import getCustomOp

    inst = getCustomOp(node)
    inst.set_nodeattr("code_gen_dir_cppsim", str(code_dir))
    inst.set_nodeattr("executable_path", str(code_dir / "node_model"))
    inst.set_nodeattr("exec_mode", "cppsim")


def generic_twin(model, keep: set[str] = frozenset()):
    """The same graph with every specialized node (``*_hls``, ``*_rtl``) as FINN's generic
    operator, which FINN executes in Python; nodes named in ``keep`` stay as they are."""
    import finn.custom_op.fpgadataflow.reshape  # noqa: F401 - registers the generic Reshape operator

    twin = copy.deepcopy(model)
    for node in twin.graph.node:
        for suffix in (HLS_SUFFIX, RTL_SUFFIX):
            if node.op_type.endswith(suffix) and node.name not in keep:
                node.op_type, node.domain = node.op_type[: -len(suffix)], GENERIC_DOMAIN
    return _depthwise_in_stream_order(twin)


def _depthwise_in_stream_order(model):
    """A depthwise unit (VVAU) reads its window generator's stream, PE channels at a time per
    kernel position ([C/PE][K][PE] per pixel). FINN's Python window generator gives the windows
    position by position ([K][C]), and FINN's Python VVAU takes that order only straight from a
    window generator; fed through a FIFO or width converter (as in the generated design) it
    reads stream order, and so does its C++. So there, the twin reorders the windows into
    stream order, with plain ONNX operators, right before the VVAU."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    from qonnx.custom_op.registry import getCustomOp

    producers = {out: n for n in model.graph.node for out in n.output}
    for node in list(model.graph.node):
        producer = producers.get(node.input[0])
        if not node.op_type.startswith("VVAU") or producer is None or \
                producer.op_type.startswith("ConvolutionInputGenerator"):
            continue
        inst = getCustomOp(node)
        channels, pe = inst.get_nodeattr("Channels"), inst.get_nodeattr("PE")
        if pe == channels:
            continue  # the two orders are one
        window = int(np.prod(inst.get_nodeattr("Kernel")))
        shape = model.get_tensor_shape(node.input[0])
        split, ordered, back = (f"{node.name}_{n}" for n in ("windows", "windows_ordered", "windows_stream"))
        model.graph.initializer.extend([
            numpy_helper.from_array(np.array([-1, window, channels // pe, pe], dtype=np.int64), f"{split}_shape"),
            numpy_helper.from_array(np.array(shape, dtype=np.int64), f"{back}_shape")])
        reorder = [helper.make_node("Reshape", [node.input[0], f"{split}_shape"], [split]),
                   helper.make_node("Transpose", [split], [ordered], perm=[0, 2, 1, 3]),
                   helper.make_node("Reshape", [ordered, f"{back}_shape"], [back])]
        pixels = int(np.prod(shape[:-1]))
        for tensor, dims in ((split, [pixels, window, channels // pe, pe]),
                             (ordered, [pixels, channels // pe, window, pe]), (back, list(shape))):
            model.graph.value_info.append(helper.make_tensor_value_info(tensor, TensorProto.FLOAT, dims))
        for tensor, n in ((f"{split}_shape", 4), (f"{back}_shape", len(shape))):
            model.graph.value_info.append(helper.make_tensor_value_info(tensor, TensorProto.INT64, [n]))
        at = list(model.graph.node).index(node)
        for i, n in enumerate(reorder):
            model.graph.node.insert(at + i, n)
        model.set_tensor_datatype(back, model.get_tensor_datatype(node.input[0]))
        node.input[0] = back
    return model


def run_both(simulated, reference, x) -> tuple[dict, dict]:
    """Every tensor of both graphs on one input (full execution contexts)."""
    from finn.core.onnx_exec import execute_onnx

    name = simulated.graph.input[0].name
    return (execute_onnx(simulated, {name: x}, return_full_exec_context=True),
            execute_onnx(reference, {name: x}, return_full_exec_context=True))


def divergence(model, got: dict, want: dict) -> tuple[str, str] | None:
    """The first node (in graph order) whose output differs between two execution contexts,
    and how; None when every node agrees bit-exactly."""
    import numpy as np

    for node in model.graph.node:
        for tensor in node.output:
            a, b = np.asarray(got[tensor]), np.asarray(want[tensor])
            if a.shape != b.shape or not np.array_equal(a, b):
                wrong = int(np.sum(a != b)) if a.shape == b.shape else a.size
                return node.name, f"{wrong} of {b.size} values of {tensor} differ"
    return None


def first_divergence(simulated, reference, x) -> tuple[str, str] | None:
    """Run both graphs on one input; the first node whose output differs, and how."""
    return divergence(simulated, *run_both(simulated, reference, x))


def twins(model, sim: Simulation) -> tuple[object, object]:
    """The graph to simulate (compiled nodes in C++, the others in FINN's Python) and its
    all-Python reference."""
    in_cpp = {n for n, mode in sim.modes.items() if mode == "cppsim"}  # RTL nodes are checked one by one
    return generic_twin(model, keep=in_cpp), generic_twin(model)


def simulate(model, folder: Path, inputs) -> tuple[Simulation, list[tuple[int, str, str]]]:
    """Every HLS node of ``model`` (a dataflow partition) compiled and run in C++ on each of
    ``inputs``, against FINN's Python execution of the same graph: the simulation's modes and,
    per input that diverged, (index, node, how)."""
    sim = prepare(model, folder, third_party())
    simulated, reference = twins(model, sim)
    found = []
    for i, x in enumerate(inputs):
        diverged = first_divergence(simulated, reference, x)
        if diverged is not None:
            found.append((i, *diverged))
    return sim, found


def dataflow_model(root: Path):
    """The folded dataflow partition of a build directory's estimate (its layers' nodes)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.hwgen import FOLDED

    model = ModelWrapper(str(Path(root) / FOLDED))
    partition = next((n for n in model.graph.node if n.op_type == "StreamingDataflowPartition"), None)
    return ModelWrapper(getCustomOp(partition).get_nodeattr("model")) if partition is not None else model


def availability() -> str:
    """What simulation can use here (part of the simulate stage's inputs: setting up the
    third-party sources later re-runs it)."""
    try:
        return f"ready {third_party()}"
    except SimulationUnavailableError as exc:
        return f"unavailable: {exc}"
