"""What the board's processor does around the accelerator, as finn-plus-driver does it.

FINN's driver (the ``finn-plus-driver`` package on the board, configured by the design's
``settings.json``) takes an input in the accelerator's normal shape, folds it
(``ishape_folded``) and packs it into bytes for the input DMA
(``finnpy_to_packed_bytearray``, innermost elements and bytes reversed); it unpacks the
output DMA's bytes the same way back. finn-plus-driver's ``packing`` module is a copy of
FINN's ``finn.util.data_packing`` (its docstring says to keep the two in sync), so qnnc calls
FINN's functions with the driver's arguments; ``tests/test_deploy.py`` runs the driver itself.

Before that, the host lays out the input as the accelerator takes it: a conv net's NCHW input
becomes NHWC (FINN leaves that transpose outside the dataflow partition, for the host).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def io_shapes(settings_path: Path) -> dict:
    """The design's ``io_shape_dict`` from its driver settings."""
    return json.loads(Path(settings_path).read_text())["driver_information"]["io_shape_dict"]


def batched(shape, batch: int) -> tuple[int, ...]:
    return (batch, *shape[1:])


def datatype(name: str):
    from qonnx.core.datatype import DataType

    return DataType[name[name.index("[") + 1: name.index("]")].strip("'")]


def to_accelerator(parent, x: np.ndarray) -> np.ndarray:
    """Raw inputs [N, ...] in the accelerator's layout: the nodes FINN's dataflow parent
    (``hwgen.host_model``) has before its first dataflow partition (only an input transpose,
    NCHW to NHWC), on the inputs in that model's shape (a 1-D network's [C, L] as [C, L, 1])."""
    from qonnx.util.basic import get_by_name

    x = x.reshape(len(x), *parent.get_tensor_shape(parent.graph.input[0].name)[1:])
    for node in parent.graph.node:
        if node.op_type == "StreamingDataflowPartition":
            break
        if node.op_type != "Transpose":
            raise ValueError(f"the design leaves {node.op_type} ({node.name}) before its accelerator")
        x = np.transpose(x, list(get_by_name(node.attribute, "perm").ints))
    return x


def pack_input(io: dict, x: np.ndarray) -> bytes:
    """A batch [N, ...normal shape] as the bytes the driver gives the input DMA."""
    from finn.util.data_packing import finnpy_to_packed_bytearray

    folded = np.asarray(x, dtype=np.float32).reshape(batched(io["ishape_folded"][0], len(x)))
    packed = finnpy_to_packed_bytearray(folded, datatype(io["idt"][0]), reverse_inner=True, reverse_endian=True)
    return packed.tobytes()


def unpack_output(io: dict, data: bytes, batch: int) -> np.ndarray:
    """The output DMA's bytes for a batch, as the driver returns them (normal shape)."""
    from finn.util.data_packing import packed_bytearray_to_finnpy

    packed = np.frombuffer(data, dtype=np.uint8).reshape(batched(io["oshape_packed"][0], batch))
    folded = packed_bytearray_to_finnpy(packed, datatype(io["odt"][0]), batched(io["oshape_folded"][0], batch),
                                        reverse_inner=True, reverse_endian=True)
    return folded.reshape(batched(io["oshape_normal"][0], batch))


def unpack_input(io: dict, data: bytes, batch: int) -> np.ndarray:
    """The inverse of ``pack_input``: the accelerator's inputs a batch of packed bytes holds."""
    from finn.util.data_packing import packed_bytearray_to_finnpy

    packed = np.frombuffer(data, dtype=np.uint8).reshape(batched(io["ishape_packed"][0], batch))
    folded = packed_bytearray_to_finnpy(packed, datatype(io["idt"][0]), batched(io["ishape_folded"][0], batch),
                                        reverse_inner=True, reverse_endian=True)
    return folded.reshape(batched(io["ishape_normal"][0], batch))


def pack_output(io: dict, y: np.ndarray) -> bytes:
    """The inverse of ``unpack_output``: the bytes an output DMA leaves for outputs ``y``."""
    from finn.util.data_packing import finnpy_to_packed_bytearray

    folded = np.asarray(y, dtype=np.float32).reshape(batched(io["oshape_folded"][0], len(y)))
    packed = finnpy_to_packed_bytearray(folded, datatype(io["odt"][0]), reverse_inner=True, reverse_endian=True)
    return packed.tobytes()
