"""The hwgen stage: the hardware a Vivado build would start from, generated without Vivado.

On the folded model of the estimate, FINN's Zynq build transformations (data width converters,
FIFOs at FINN's default depths, the IODMAs on the board's memory port, floorplan, dataflow
partitions), then every node's code by FINN's own generators: an HLS node's top-level C++ and
its Vitis HLS script, an RTL node's Verilog. Last, FINN's PYNQ driver settings for the design.

    hw/dataflow_parent.onnx        the design: its dataflow partitions, in the order data flows
    hw/partitions/                 the partitions' models (their nodes name their sources)
    hw/<node>/                     each node's generated sources
    hw/driver/settings.json        FINN's driver settings (finn-plus-driver on the board reads them)
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from qnnc.backends import zynq_prep
from qnnc.backends.finn_compat import prepare_finn, use_build_dir
from qnnc.backends.finn_units import match_units
from qnnc.hw.boards import BOARDS
from qnnc.spec import model as m

HW_DIR = "hw"
PARENT = f"{HW_DIR}/dataflow_parent.onnx"
PARTITIONS = f"{HW_DIR}/partitions"
DRIVER = f"{HW_DIR}/driver"
SETTINGS = f"{DRIVER}/settings.json"
FOLDED = "finn/intermediate_models/step_qnnc_folding.onnx"  # the estimate's folded model
# FINN's parent model of the estimate: the input transpose it leaves to the host is there (the
# design's own parent, made from the folded partition, starts at the input DMA)
HOST_SIDE = "finn/intermediate_models/dataflow_parent.onnx"
DRIVER_TYPE = "FINNDMAOverlay"  # finn-plus-driver's overlay for a design fed by IODMAs
PLATFORM = "zynq-iodma"


def clock_ns(spec: m.Spec) -> float:
    return 1000.0 / spec.target.clock_mhz


def generate(root: Path, spec: m.Spec) -> dict:
    """The hwgen stage's work in the build directory ``root``."""
    from qonnx.core.modelwrapper import ModelWrapper

    prepare_finn()
    root = Path(root).resolve()  # its tools run in folders of their own: no path may be relative
    use_build_dir(root / "finn" / "tmp")
    board = BOARDS[spec.target.board]
    shutil.rmtree(root / HW_DIR, ignore_errors=True)  # nothing of an earlier design may linger
    (root / PARTITIONS).mkdir(parents=True)
    parent = zynq_prep.prepare_design(ModelWrapper(str(root / FOLDED)), board.part, board.port_bits,
                                      root / PARTITIONS)
    owners, nodes = {}, []
    for child, path in zip(zynq_prep.partitions(parent), zynq_prep.partition_paths(parent), strict=True):
        owners |= match_units(child.graph.node, spec)
        for node in child.graph.node:
            nodes.append(write_sources(child, node, root / HW_DIR / node.name, board.part, clock_ns(spec)))
        child.save(path)  # with each node's source folder
    parent.save(str(root / PARENT))
    write_driver_settings(parent, root / DRIVER, clock_ns(spec))
    for row in nodes:
        row["layer"] = owners.get(row["node"])
    return {"nodes": nodes, "parent": PARENT, "driver_settings": SETTINGS}


def write_sources(model, node, folder: Path, fpgapart: str, clk_ns: float) -> dict:
    """One node's sources, by FINN's own code generator, into ``folder``."""
    from qonnx.custom_op.registry import getCustomOp

    inst = getCustomOp(node)
    folder.mkdir(parents=True, exist_ok=True)
    inst.set_nodeattr("code_gen_dir_ipgen", str(folder.resolve()))
    inst.code_generation_ipgen(model, fpgapart, clk_ns)
    kind = "rtl" if node.op_type.endswith("_rtl") else "hls"
    return {"node": node.name, "op_type": node.op_type, "kind": kind,
            "files": sorted(str(p.relative_to(folder.parent.parent)) for p in folder.rglob("*") if p.is_file())}


def write_driver_settings(parent, folder: Path, clk_ns: float) -> None:
    """FINN's PYNQ driver for the design: in finn-plus its code is the finn-plus-driver package
    installed on the board, and what is particular to a design is its settings.json (I/O shapes,
    data types, DMA names) and, for runtime-writable weights, their files."""
    from finn.transformation.fpgadataflow.make_driver import MakePYNQDriver

    made = name_instances(parent).transform(MakePYNQDriver(PLATFORM, DRIVER_TYPE, clk_period_ns=clk_ns))
    shutil.copytree(made.get_metadata_prop("pynq_driver_dir"), folder, dirs_exist_ok=True)


def name_instances(parent):
    """The names the partitions get as IP blocks in the Vivado design, by FINN's rule
    (``MakeZYNQProject``, which runs with Vivado): one fed by the graph's input is ``idma<i>``,
    one feeding its output ``odma<i>``, any other keeps its node name. The driver finds its
    DMAs by these names."""
    from qonnx.custom_op.registry import getCustomOp

    named = copy.deepcopy(parent)
    counts = {"idma": 0, "odma": 0}
    for node in named.graph.node:
        if node.op_type != "StreamingDataflowPartition":
            continue
        fed = bool(node.input) and named.find_producer(node.input[0]) is not None
        kind = "idma" if not fed else "odma" if not named.find_consumers(node.output[0]) else None
        name = node.name if kind is None else f"{kind}{counts[kind]}"
        if kind is not None:
            counts[kind] += 1
        getCustomOp(node).set_nodeattr("instance_name", name)
    return named


def host_model(root: Path):
    """The model whose nodes before the accelerator the host runs (``host.to_accelerator``)."""
    from qonnx.core.modelwrapper import ModelWrapper

    return ModelWrapper(str(Path(root) / HOST_SIDE))


def design(root: Path) -> tuple[object, list]:
    """The generated design of a build directory: its parent model and its partitions' models,
    read from the directory wherever it now is (FINN's models name files by absolute paths)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    root = Path(root).resolve()
    parent = ModelWrapper(str(root / PARENT))
    parts = []
    for node in parent.graph.node:
        if node.op_type == "StreamingDataflowPartition":
            here = root / PARTITIONS / Path(getCustomOp(node).get_nodeattr("model")).name
            getCustomOp(node).set_nodeattr("model", str(here))
            parts.append(ModelWrapper(str(here)))
    for part in parts:
        for node in part.graph.node:
            getCustomOp(node).set_nodeattr("code_gen_dir_ipgen", str(root / HW_DIR / node.name))
    return parent, parts
