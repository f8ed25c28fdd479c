"""Trained Brevitas model -> QONNX (brevitas.export.export_qonnx) -> cleaned model that FINN
takes: input data type annotated, a class-label output turned into TopK (FINN's LabelSelect)."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

from qnnc.spec import model as m

QONNX_MODEL = "export/model.qonnx.onnx"
FINN_INPUT = "export/model.onnx"


def finn_input_dtype(inp: m.InputSpec) -> str:
    """FINN's name for the raw input's data type."""
    return inp.raw_type.finn_name


def import_generated(root: Path):
    """The generated model.py of a build directory, as a fresh module."""
    name = "qnnc_model"  # the same in every build: it is recorded in the exported model's metadata
    spec = importlib.util.spec_from_file_location(name, Path(root) / "model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def without_build_paths(model) -> None:
    """Drop the exporter's per-node debug metadata (Python stack traces with absolute paths of
    the build directory and the virtualenv), so that an export does not depend on where it ran."""
    graphs = [model.graph]
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            del node.metadata_props[:]
            graphs += [a.g for a in node.attribute if a.HasField("g")]
        for info in (*graph.input, *graph.output, *graph.value_info):
            del info.metadata_props[:]


def load_trained(root: Path):
    import torch

    module = import_generated(root)
    state = torch.load(Path(root) / "model.pt", weights_only=False)
    net = module.Net(widths=state["widths"])
    net.load_state_dict(state["model"])
    return net.eval()


def export(root: Path, spec: m.Spec) -> dict:
    import torch
    from brevitas.export import export_qonnx
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.general import GiveReadableTensorNames, GiveUniqueNodeNames
    from qonnx.transformation.insert_topk import InsertTopK
    from qonnx.util.cleanup import cleanup_model

    root = Path(root)
    (root / "export").mkdir(exist_ok=True)
    net = load_trained(root)
    example = torch.zeros(1, *spec.network.input.shape)
    with tempfile.TemporaryDirectory(dir=root / "export", prefix=".export-") as scratch:
        export_qonnx(net, input_t=example, export_path=str(Path(scratch) / "model.onnx"))
        exported = ModelWrapper(str(Path(scratch) / "model.onnx"))  # with any side file's weights
    without_build_paths(exported.model)
    exported.save(str(root / "export" / ".model.qonnx.onnx.tmp"))  # weights inline, no side file
    (root / "export" / ".model.qonnx.onnx.tmp").replace(root / QONNX_MODEL)
    model = cleanup_model(ModelWrapper(str(root / QONNX_MODEL)))
    model.set_tensor_datatype(model.graph.input[0].name, DataType[finn_input_dtype(spec.network.input)])
    out = spec.network.output
    if out.kind in ("label", "top"):
        model = model.transform(InsertTopK(k=out.k))
    # deterministic names (InsertTopK draws random tensor names): the same spec and weights give
    # byte-identical files
    model = model.transform(GiveUniqueNodeNames()).transform(GiveReadableTensorNames())
    tmp = root / "export" / ".model.onnx.tmp"
    model.save(str(tmp))
    tmp.replace(root / FINN_INPUT)
    return {"qonnx": QONNX_MODEL, "finn_input": FINN_INPUT, "nodes": [n.op_type for n in model.graph.node]}
