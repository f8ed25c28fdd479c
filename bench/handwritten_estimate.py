"""What a FINN user writes by hand to go from a trained Brevitas model to FINN's estimates:
the baseline that bench/build_overhead.py compares `qnnc build` with.

    python bench/handwritten_estimate.py BUILD_DIR C,H,W
(BUILD_DIR: a qnnc build directory whose train stage has run; its model.py and model.pt are used.)
"""

import importlib.util
import sys
from pathlib import Path

import torch
from brevitas.export import export_qonnx
from finn.util import settings
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.insert_topk import InsertTopK
from qonnx.util.cleanup import cleanup_model

root = Path(sys.argv[1])
out = root / "handwritten"
out.mkdir(exist_ok=True)
spec = importlib.util.spec_from_file_location("model", root / "model.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
state = torch.load(root / "model.pt", weights_only=False)
net = module.Net(widths=state["widths"])
net.load_state_dict(state["model"])
net.eval()
shape = (1, *map(int, sys.argv[2].split(",")))
export_qonnx(net, input_t=torch.zeros(shape), export_path=str(out / "model.qonnx.onnx"))
model = cleanup_model(ModelWrapper(str(out / "model.qonnx.onnx")))
model.set_tensor_datatype(model.graph.input[0].name, DataType["UINT8"])
model = model.transform(InsertTopK(k=1))
model.save(str(out / "model.onnx"))

settings.initialize_dummy_settings()
import finn.xsi  # noqa: E402

finn.xsi.SimEngine = type("SimEngine", (), {})  # no Vivado here: see qnnc/backends/finn_compat.py
import finn.builder.build_dataflow as build  # noqa: E402
import finn.builder.build_dataflow_config as build_cfg  # noqa: E402

cfg = build_cfg.DataflowBuildConfig(
    output_dir=str(out / "finn"), synth_clk_period_ns=10.0, target_fps=1000000, board="Pynq-Z2",
    shell_flow_type=build_cfg.ShellFlowType.VIVADO_ZYNQ, steps=build_cfg.estimate_only_dataflow_steps,
    generate_outputs=[build_cfg.DataflowOutputType.ESTIMATE_REPORTS],
)
try:
    build.build_dataflow_cfg(str(out / "model.onnx"), cfg)
except Exception as exc:  # the last step needs Vivado for its metadata, after the reports exist
    if not (out / "finn" / "report" / "estimate_network_performance.json").exists():
        raise
    print("estimate reports written;", exc)
