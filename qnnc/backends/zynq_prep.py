"""FINN's Zynq build before synthesis, run on a copy of the folded model in the estimate stage.

A Vivado user's build meets these transformations first (finn-plus ``step_set_fifo_depths``
inserts data width converters and FIFOs; ``ZynqBuild`` inserts the IODMAs and data width
converters, specializes them, floorplans and partitions). None of them needs Vivado, so running
them here proves, before the expensive machine, that the folding is legal for every unit FINN
adds: a failure is a bug in qnnc's folding. The IODMAs they insert also give the cycles one
frame takes through the board's memory port: the throughput the board can deliver.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path

from qnnc.backends import finn_units
from qnnc.errors import InternalError

IODMA = "IODMA"


def io_cycles(model, port_bits: int) -> dict[str, int]:
    """The ceiling before folding: graph input and output, each padded to whole bytes per
    element and moved one port width per cycle (as ``qnnc.spec.target.transfer_cycles``)."""
    from qnnc.spec.target import transfer_cycles

    found = {}
    for side, tensor in (("input DMA", model.graph.input[0].name), ("output DMA", model.graph.output[0].name)):
        elements = math.prod(model.get_tensor_shape(tensor))
        found[side] = transfer_cycles(elements, model.get_tensor_datatype(tensor).bitwidth(), port_bits)
    return found


def prepare_design(model, fpgapart: str, port_bits: int, partition_dir: Path):
    """FINN's pre-synthesis transformations on a copy of the folded ``model``: the parent model
    of the design's dataflow partitions (input DMA, layers, output DMA), whose models are
    written into ``partition_dir``. A transformation or a folding rule that fails is qnnc's
    bug, reported with FINN's words."""
    from finn.transformation.fpgadataflow.create_dataflow_partition import CreateDataflowPartition
    from finn.transformation.fpgadataflow.floorplan import Floorplan
    from finn.transformation.fpgadataflow.insert_dwc import InsertDWC
    from finn.transformation.fpgadataflow.insert_fifo import InsertFIFO
    from finn.transformation.fpgadataflow.insert_iodma import InsertIODMA
    from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
    from finn.transformation.fpgadataflow.transpose_decomposition import (
        InferInnerOuterShuffles,
        ShuffleDecomposition,
    )
    from qonnx.transformation.general import GiveReadableTensorNames, GiveUniqueNodeNames
    from qonnx.transformation.infer_data_layouts import InferDataLayouts

    work = copy.deepcopy(model)
    # a layout transpose inside the design (around a residual block's fork or add) becomes FINN's
    # inner and outer shuffles first, as finn-plus's step_transpose_decomposition makes them
    shuffles = (ShuffleDecomposition(), InferInnerOuterShuffles(), SpecializeLayers(fpgapart)) \
        if work.get_nodes_by_op_type("Shuffle") else ()
    for transformation in (*shuffles, InsertDWC(), InsertFIFO(create_shallow_fifos=True), SpecializeLayers(fpgapart),
                           InferDataLayouts(), InsertIODMA(port_bits), InsertDWC(), SpecializeLayers(fpgapart),
                           Floorplan(), CreateDataflowPartition(partition_model_dir=str(partition_dir))):
        try:
            work = work.transform(transformation).transform(GiveUniqueNodeNames())
            work = work.transform(GiveReadableTensorNames())
        except Exception as exc:  # noqa: BLE001 - any failure here is the folding's fault, said as FINN says it
            raise InternalError(f"qnnc's folding fails FINN's {type(transformation).__name__}, which a Zynq build "
                                f"runs before synthesis: {type(exc).__name__}: {exc}") from exc
    for model_of, node in hardware_nodes(work):
        if not finn_units.streams_fold(model_of, finn_units.instance(node)):
            raise InternalError(f"qnnc's folding leaves {node.name} ({node.op_type}) illegal by FINN's folding rules "
                                "after FINN's pre-synthesis transformations")
    return work


def prepare(model, fpgapart: str, port_bits: int):
    """The design's (partition model, node) pairs after FINN's pre-synthesis transformations,
    run on a copy and thrown away (the estimate's check, and its DMA cycles)."""
    with tempfile.TemporaryDirectory(prefix="qnnc-zynq-") as partitions:
        return list(hardware_nodes(prepare_design(model, fpgapart, port_bits, Path(partitions))))


def partition_paths(parent) -> list[str]:
    """The model files of the parent's dataflow partitions, in the order data flows through them."""
    from qonnx.custom_op.registry import getCustomOp

    return [getCustomOp(node).get_nodeattr("model") for node in parent.graph.node
            if node.op_type == "StreamingDataflowPartition"]


def partitions(parent) -> list:
    """The models of the parent's dataflow partitions, in the order data flows through them."""
    from qonnx.core.modelwrapper import ModelWrapper

    return [ModelWrapper(path) for path in partition_paths(parent)]


def hardware_nodes(parent):
    """(partition model, node) for every node inside the parent's dataflow partitions."""
    for child in partitions(parent):
        yield from ((child, node) for node in child.graph.node)


def dma_cycles(nodes) -> dict[str, int]:
    """Per IODMA FINN inserted, the cycles of one frame through its memory port (FINN moves the
    frame as bytes, ``NumChannels`` per stream word, one interface width per cycle)."""
    found = {}
    for _, node in nodes:
        if node.op_type.startswith(IODMA):
            inst = finn_units.instance(node)
            bits = math.prod(inst.get_normal_input_shape()) * inst.get_input_datatype().bitwidth()
            found[node.name] = math.ceil(bits / inst.get_nodeattr("intfWidth"))
    return found
