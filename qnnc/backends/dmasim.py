"""C++ simulation of FINN's IODMA nodes: the accelerator's memory side, without Vitis.

FINN executes an IODMA in Python as nothing at all (its ``execute_node`` is empty), so the
bytes the driver writes are never checked against what the hardware reads. qnnc compiles the
node's own top-level C++ (FINN's ``code_generation_ipgen``, written by the hwgen stage: the
finn-hlslib DMA and data width converters Vitis HLS would synthesize) with a testbench of its
own (``templates/hls/dma_tb.cpp``) that gives it memory as the processor left it: the input
DMA reads the driver's packed bytes and streams words; the output DMA writes the stream's words
into memory, which the driver unpacks.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

from qnnc.errors import QnncError
from qnnc.resources import resource_dir

IODMA = "IODMA"


class DmaSimulationError(QnncError):
    """An IODMA's simulation did not complete."""


def is_dma(node) -> bool:
    return node.op_type.startswith(IODMA)


def frame_bytes(inst) -> int:
    return math.prod(inst.get_normal_input_shape()) * inst.get_input_datatype().bitwidth() // 8


def compile_command(node, inst, hw_dir: Path, out: Path, sources: Path) -> list[str]:
    from qnnc.backends.cppsim import compile_flags

    direction = ["-DQNNC_DMA_IN"] if inst.get_nodeattr("direction") == "in" else []
    return ["g++", *compile_flags(sources), f"-DQNNC_DMA={node.name}",
            f"-DQNNC_MEM_W={inst.get_nodeattr('intfWidth')}", f"-DQNNC_STREAM_W={inst.get_nodeattr('streamWidth')}",
            f"-DQNNC_FRAME_BYTES={frame_bytes(inst)}", *direction, str(hw_dir / f"top_{node.name}.cpp"),
            str(resource_dir("templates") / "hls" / "dma_tb.cpp"), "-o", str(out / "dma_tb")]


def prepare_dma_node(node, folder: Path, sources: Path) -> tuple[str, str | None]:
    """Compile the node's generated C++ (from hwgen's folder) with qnnc's DMA testbench into
    ``folder/<node>``: ('dmasim', None), or ('python', why)."""
    from qonnx.custom_op.registry import getCustomOp

    inst, out = getCustomOp(node), folder / node.name
    hw_dir = Path(inst.get_nodeattr("code_gen_dir_ipgen") or out / "none")
    if not (hw_dir / f"top_{node.name}.cpp").is_file():
        return "python", "its generated C++ is not there (the hwgen stage writes it)"
    if inst.get_nodeattr("burstMode") != "increment":
        return "python", "a DMA of external weights: qnnc's testbench moves frames"
    out.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(compile_command(node, inst, hw_dir, out, sources), capture_output=True, text=True)
    (out / "compile.log").write_text(built.stdout + built.stderr)
    if built.returncode:
        first = next((ln for ln in built.stderr.splitlines() if "error" in ln), built.stderr[-300:])
        return "python", f"does not compile here: {first.strip()}"
    return "dmasim", None


def _run(node, folder: Path, args: list[str]) -> None:
    ran = subprocess.run([str(folder / node.name / "dma_tb"), *args], cwd=folder / node.name, capture_output=True,
                         text=True, timeout=600)
    if ran.returncode:
        raise DmaSimulationError(f"{node.name}'s simulation failed ({folder / node.name}): {ran.stderr.strip()[-300:]}")


# FINN's InsertIODMA declares every DMA's stream UINT8 (its FIXME: "always using 8-bit dtypes")
# whatever the tensor holds; the bits are the tensor's, so the stream is read and written as the
# data type the model annotates on it (INT8 for a signed raw input: byte 253 is -3).


def read_memory(node, folder: Path, data: bytes, frames: int, dtype) -> np.ndarray:
    """An input DMA: the stream it makes of ``frames`` frames in memory, as a tensor of its
    normal output shape per frame, its words read as ``dtype`` (the stream tensor's type)."""
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.rtlsim import from_words

    inst, here = getCustomOp(node), folder / node.name
    (here / "memory_in.bin").write_bytes(data)
    _run(node, folder, ["memory_in.bin", "stream_out.txt", str(frames)])
    words = [int(w, 16) for w in (here / "stream_out.txt").read_text().split()]
    per_frame = len(words) // frames
    shape = inst.get_normal_output_shape()
    return np.stack([from_words(inst, words[i * per_frame: (i + 1) * per_frame], dtype).reshape(shape)
                     for i in range(frames)])


def write_memory(node, folder: Path, tensors: np.ndarray, dtype) -> bytes:
    """An output DMA: the memory it writes for a stream of ``tensors`` (one per frame) of
    ``dtype`` (the stream tensor's type)."""
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.rtlsim import to_words

    inst, here = getCustomOp(node), folder / node.name
    words = [w for tensor in tensors for w in to_words(inst, tensor, dtype)]
    (here / "stream_in.txt").write_text("".join(f"{int(w):x}\n" for w in words))
    _run(node, folder, ["stream_in.txt", "memory_out.bin", str(len(tensors))])
    return (here / "memory_out.bin").read_bytes()
