"""The simulate stage: the design hwgen generated, run here on held-out test samples the way the
board will run it, and checked node by node.

The host packs the samples as FINN's driver does (``host``); the input DMA's C++ reads those
bytes from memory (``dmasim``); every HLS node runs its C++ (``cppsim``) and every RTL node
its Verilog in Verilator (``rtlsim``), each compared with FINN's Python model of the same node
on the same input; the output DMA's C++ writes the result into memory, and the driver's
unpacking of those bytes must give PyTorch's outputs. The first node that differs is named
with its spec layer and its folder; a node that cannot run here runs FINN's Python model, and
why is said and recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qnnc.backends import cppsim, dmasim, host, hwgen
from qnnc.backends.finn_units import match_units
from qnnc.errors import QnncError
from qnnc.fsutil import write_text_atomic

SIM_DIR = "sim"
SAMPLES = 32  # held-out test samples through the simulated design
DESIGN_JSON = f"{SIM_DIR}/design.json"  # how each node runs: what the board emulator runs again


class SimulationMismatchError(QnncError):
    """A simulated node computes other values than FINN's Python model of it."""


@dataclass
class Simulated:
    """The design ready to run: its partitions, and per node how it runs and why."""

    parent: object
    parts: list
    modes: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # why a node runs FINN's Python model
    notes: dict[str, str] = field(default_factory=dict)  # what else to know of how a node was simulated
    build_s: dict[str, float] = field(default_factory=dict)  # wall time of each node's build
    twins: dict[int, tuple] = field(default_factory=dict)  # compute partition -> (simulated, python) graphs


def prepare(root: Path, target: tuple[str, float], sources: Path) -> Simulated:
    """Build every node of the generated design in ``root/sim/<node>``, as many at once as
    the machine has cores (each build is a compiler's process)."""
    parent, parts = hwgen.design(root)
    design = Simulated(parent, parts)
    folder = root / SIM_DIR

    def build(part, node) -> tuple[str, str | None]:
        start = time.perf_counter()
        try:
            if dmasim.is_dma(node):
                return dmasim.prepare_dma_node(node, folder, sources)
            return cppsim.prepare_node(part, node, folder, sources, target)
        finally:
            design.build_s[node.name] = round(time.perf_counter() - start, 2)

    jobs = [(part, node) for part in parts for node in part.graph.node]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        built = list(pool.map(lambda job: build(*job), jobs))
    for (_, node), (mode, reason) in zip(jobs, built, strict=True):
        design.modes[node.name] = mode
        if reason:
            (design.reasons if mode == "python" else design.notes)[node.name] = reason
    write_text_atomic(root / DESIGN_JSON, json.dumps({"modes": design.modes, "reasons": design.reasons,
                                                      "notes": design.notes}, indent=2, sort_keys=True) + "\n")
    return _ready(design)


def attach(root: Path) -> Simulated:
    """The design an earlier simulate stage built in ``root``, ready to run again."""
    parent, parts = hwgen.design(root)
    saved = json.loads((Path(root) / DESIGN_JSON).read_text())
    design = Simulated(parent, parts, saved["modes"], saved["reasons"], saved["notes"])
    for part in parts:
        for node in part.graph.node:
            if design.modes[node.name] == "cppsim":
                cppsim.use_compiled(node, Path(root) / SIM_DIR / node.name)
    return _ready(design)


def _ready(design: Simulated) -> Simulated:
    for i, part in enumerate(design.parts):
        if not _dma_of(part):
            design.twins[i] = cppsim.twins(part, cppsim.Simulation(design.modes, design.reasons))
    return design


def _dma_of(part):
    """The IODMA a partition holds alone (FINN's floorplan gives each its own), or None."""
    nodes = list(part.graph.node)
    return nodes[0] if len(nodes) == 1 and dmasim.is_dma(nodes[0]) else None


@dataclass
class Divergence:
    node: str
    sample: int
    how: str


def _differs(got: np.ndarray, want: np.ndarray) -> str | None:
    got, want = np.asarray(got), np.asarray(want)
    if got.size != want.size:
        return f"{got.size} values where FINN's Python model gives {want.size}"
    wrong = int(np.sum(got.reshape(want.shape) != want))
    return f"{wrong} of {want.size} values differ" if wrong else None


class Run:
    """One pass of a batch of samples through the simulated design."""

    def __init__(self, design: Simulated, io: dict, folder: Path):
        self.design, self.io, self.folder = design, io, folder
        self.cycles: dict[tuple[str, bool], float] = {}  # (node, with back-pressure) -> cycles a frame
        self.divergence: Divergence | None = None

    def diverged(self, node: str, sample: int, how: str | None) -> None:
        if how is not None and self.divergence is None:
            self.divergence = Divergence(node, sample, how)

    def through(self, x: np.ndarray) -> np.ndarray:
        """The design's outputs for the accelerator inputs ``x`` [N, ...] as the driver
        returns them: packed, through the design, unpacked."""
        written = self.through_memory(host.pack_input(self.io, x), len(x))
        return host.unpack_output(self.io, written, len(x))

    def through_memory(self, memory: bytes, frames: int) -> bytes:
        """What the design leaves in memory for ``frames`` inputs the driver left there: the
        input DMA reads them, the partitions of layers compute, the output DMA writes."""
        tensors = host.unpack_input(self.io, memory, frames)  # what FINN's model of the input DMA gives on
        written = b""
        for i, part in enumerate(self.design.parts):
            dma = _dma_of(part)
            if dma is None:
                tensors = self.compute(i, part, tensors)
            elif dma.name in self.design.reasons:  # not simulated: FINN's (empty) model, the driver's packing
                if _direction(dma) == "out":
                    written = host.pack_output(self.io, tensors)
            elif _direction(dma) == "in":
                read = dmasim.read_memory(dma, self.folder, memory, frames, part.get_tensor_datatype(dma.output[0]))
                for n in range(frames):
                    self.diverged(dma.name, n, _differs(read[n], tensors[n]))
                tensors = read
            else:
                written = dmasim.write_memory(dma, self.folder, tensors, part.get_tensor_datatype(dma.input[0]))
                unpacked = host.unpack_output(self.io, written, frames)
                for n in range(frames):
                    self.diverged(dma.name, n, _differs(unpacked[n], tensors[n]))
        return written

    def compute(self, i: int, part, xs: np.ndarray) -> np.ndarray:
        """The samples through a partition of layers: the C++ nodes as a chain, each against
        FINN's Python model of the graph; each RTL node on the inputs that model gives it,
        every sample's frame streamed back to back."""
        from qnnc.backends.rtlsim import in_stream_order, run_rtl_node

        simulated, python = self.design.twins[i]
        shape = part.get_tensor_shape(part.graph.input[0].name)
        runs = [cppsim.run_both(simulated, python, x.reshape(shape)) for x in xs]
        for n, (got, want) in enumerate(runs):
            first = cppsim.divergence(simulated, got, want)
            if first is not None:
                self.diverged(first[0], n, first[1])
        for node in part.graph.node:
            if self.design.modes[node.name] != "rtlsim":
                continue
            given = [want[node.input[0]] for _, want in runs]
            for pressure in (False, True):  # free-flowing (FINN's estimate assumes it), then stalled at random
                outs, self.cycles[node.name, pressure] = run_rtl_node(node, given, self.folder, pressure)
                for n, (out, (_, want)) in enumerate(zip(outs, runs, strict=True)):
                    expected = in_stream_order(node, np.asarray(want[node.output[0]]))
                    self.diverged(node.name, n, _differs(out, expected))
        return np.stack([np.asarray(got[part.graph.output[0].name]) for got, _ in runs])


def _direction(node) -> str:
    from qonnx.custom_op.registry import getCustomOp

    return getCustomOp(node).get_nodeattr("direction")


def simulate_build(root: Path, spec) -> dict:
    """The simulate stage's work in the build directory ``root``."""
    from qnnc.backends.finn_compat import prepare_finn
    from qnnc.backends.verify import compare, held_out, reference
    from qnnc.hw.boards import BOARDS

    prepare_finn()
    root = Path(root).resolve()  # its tools run in folders of their own: no path may be relative
    shutil.rmtree(root / SIM_DIR, ignore_errors=True)  # a run leaves only its own files
    start = time.perf_counter()
    design = prepare(root, (BOARDS[spec.target.board].part, hwgen.clock_ns(spec)), cppsim.third_party())
    built = time.perf_counter()
    ref = reference(root, spec, held_out(spec, SAMPLES))
    run = Run(design, host.io_shapes(root / hwgen.SETTINGS), root / SIM_DIR)
    outputs = run.through(host.to_accelerator(hwgen.host_model(root), ref.x))
    seconds = {"build": round(built - start, 1), "run": round(time.perf_counter() - built, 1)}
    layers = {}
    for part in design.parts:
        layers |= match_units(part.graph.node, spec)
    if run.divergence is not None:
        d = run.divergence
        raise SimulationMismatchError(
            f"node {d.node} (layer {layers.get(d.node, '-')}) is the first to differ from FINN's Python model on "
            f"test sample {d.sample}: {d.how} (its sources: {hwgen.HW_DIR}/{d.node}/, its simulation: "
            f"{SIM_DIR}/{d.node}/)")
    against = compare("simulated", ref, outputs.reshape(len(ref.x), -1))
    if against["mismatches"]:
        raise SimulationMismatchError(
            f"the simulated design's output, unpacked as the driver unpacks it, differs from PyTorch's on "
            f"{against['mismatches']} of {len(ref.x)} test samples (first: sample {against['first_mismatch']})")
    return {**report(design, layers, run.cycles, len(ref.x)), "seconds": seconds}


def report(design: Simulated, layers: dict, cycles: dict, samples: int) -> dict:
    from qonnx.custom_op.registry import getCustomOp

    nodes = []
    for part in design.parts:
        for n in part.graph.node:
            row = {"node": n.name, "op_type": n.op_type, "layer": layers.get(n.name), "mode": design.modes[n.name],
                   "build_s": design.build_s.get(n.name)}
            if n.name in design.reasons:
                row["python_because"] = design.reasons[n.name]
            if n.name in design.notes:
                row["note"] = design.notes[n.name]
            if (n.name, False) in cycles:  # a frame's cycles, frames back to back
                row["cycles"] = round(cycles[n.name, False], 1)
                row["cycles_back_pressure"] = round(cycles[n.name, True], 1)  # both streams stalled at random
                row["finn_cycles"] = int(getCustomOp(n).get_exp_cycles())
            nodes.append(row)
    simulated = sum(row["mode"] != "python" for row in nodes)
    return {"samples": samples, "bit_exact": True, "nodes": nodes, "simulated": simulated,
            "python": len(nodes) - simulated, "driver": "packed and unpacked as finn-plus-driver does"}
