"""FINN's dataflow build through finn-plus: the estimate steps here, the hardware steps where
Vivado is installed. The spec's folding is written as FINN's folding config JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from qnnc.backends.export import FINN_INPUT
from qnnc.backends.finn_compat import build_dataflow, prepare_finn
from qnnc.boards import BOARDS
from qnnc.fsutil import write_text_atomic
from qnnc.spec import model as m

FINN_DIR = "finn"
FOLDING_JSON = "finn/folding_config.json"
FINN_KEYS = {"pe": "PE", "simd": "SIMD", "ram_style": "ram_style", "resType": "resType", "mem_mode": "mem_mode"}
DEFAULT_TARGET_FPS = 1e6  # for 'fps: max' until qnnc chooses the folding itself


def all_nodes(graph):
    """Every node of a graph and of the subgraphs inside it (FINN's dataflow partitions)."""
    from qonnx.core.modelwrapper import ModelWrapper

    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.g is not None and attr.g.node:
                yield from all_nodes(attr.g)
            elif attr.name == "model" and attr.s and Path(attr.s.decode()).is_file():
                yield from all_nodes(ModelWrapper(attr.s.decode()).graph)


FEEDERS = ("ConvolutionInputGenerator", "FMPadding")  # units that only feed the unit after them


def match_units(nodes, spec: m.Spec) -> dict[str, str]:
    """FINN unit name -> the spec layer it implements. FINN keeps the layers' order: the n-th
    matrix unit (MVAU) is the n-th linear/conv layer, the n-th Pool/StreamingMaxPool the n-th
    maxpool, LabelSelect the output; a sliding-window generator or padding unit belongs to the
    unit it feeds (a conv's MVAU, or the Pool of a maxpool)."""
    nodes = list(nodes)
    owners = {
        "MVAU": iter(layer.name for layer in spec.network.layers if isinstance(layer, m.WeightLayer)),
        "Pool": iter(layer.name for layer in spec.network.layers if isinstance(layer, m.MaxPool)),
        "StreamingMaxPool": iter(layer.name for layer in spec.network.layers if isinstance(layer, m.MaxPool)),
    }
    matched: dict[str, str] = {}
    for node in nodes:
        kind = next((k for k in owners if node.op_type.startswith(k)), None)
        layer = next(owners[kind], None) if kind else ("output" if node.op_type.startswith("LabelSelect") else None)
        if layer is not None:
            matched[node.name] = layer
    consumer = {tensor: node for node in nodes for tensor in node.input}
    for node in nodes:
        if node.op_type.startswith(FEEDERS):
            fed = node
            while fed is not None and fed.op_type.startswith(FEEDERS):
                fed = consumer.get(fed.output[0])
            if fed is not None and fed.name in matched:
                matched[node.name] = matched[fed.name]
    return matched


def folding_config(model, spec: m.Spec) -> dict:
    """FINN node name -> folding from the spec; a sliding-window generator takes its conv's SIMD."""
    config: dict = {"Defaults": {}}
    layers = {layer.name: layer for layer in spec.network.layers}
    for node, owner in match_units(all_nodes(model.graph), spec).items():
        fold = spec.target.folds.get(owner)
        if fold is None:
            continue
        if node.startswith("MVAU"):
            config[node] = {FINN_KEYS[k]: v for k, v in fold.model_dump(exclude_none=True).items()}
        elif node.startswith("ConvolutionInputGenerator") and fold.simd is not None \
                and isinstance(layers[owner], m.Conv2d):
            config[node] = {"SIMD": fold.simd}
    return config


def make_folding_step(spec: m.Spec, root: Path):
    def step_qnnc_spec_folding(model, cfg):
        """Write the spec's folding as FINN's folding config JSON, then apply it with FINN's own step."""
        from finn.builder.build_dataflow_steps import step_apply_folding_config
        from qonnx.transformation.general import GiveUniqueNodeNames

        model = model.transform(GiveUniqueNodeNames())
        config = folding_config(model, spec)
        write_text_atomic(root / FOLDING_JSON, json.dumps(config, indent=2, sort_keys=True) + "\n")
        cfg.folding_config_file = str(root / FOLDING_JSON)
        return step_apply_folding_config(model, cfg)

    return step_qnnc_spec_folding


def estimate_config(spec: m.Spec, root: Path):
    prepare_finn()
    import finn.builder.build_dataflow_config as bc

    steps = list(bc.estimate_only_dataflow_steps)
    if spec.target.folds:
        steps[steps.index("step_apply_folding_config")] = make_folding_step(spec, root)
    fps = spec.target.fps if math.isfinite(spec.target.fps) else DEFAULT_TARGET_FPS
    return bc.DataflowBuildConfig(
        output_dir=str(root / FINN_DIR),
        synth_clk_period_ns=1000.0 / spec.target.clock_mhz,
        target_fps=int(fps),
        board=BOARDS[spec.target.board].finn_name,
        shell_flow_type=bc.ShellFlowType.VIVADO_ZYNQ,
        steps=steps,
        generate_outputs=[bc.DataflowOutputType.ESTIMATE_REPORTS],
        verbose=False,
    )


def estimate(root: Path, spec: m.Spec) -> dict:
    root = Path(root)
    build_dataflow(root / FINN_INPUT, estimate_config(spec, root))
    left = left_outside_dataflow(root)
    if left:
        raise RuntimeError(f"FINN left {', '.join(left)} outside its dataflow partition: these would run on "
                           "the CPU; see finn/intermediate_models/dataflow_parent.onnx")
    return summarize(root, spec)


def left_outside_dataflow(root: Path) -> list[str]:
    """Nodes FINN did not put into hardware, as 'OpType (name)'."""
    from qonnx.core.modelwrapper import ModelWrapper

    parent = ModelWrapper(str(Path(root) / FINN_DIR / "intermediate_models" / "dataflow_parent.onnx"))
    graph_input = parent.graph.input[0].name
    return [f"{n.op_type} ({n.name})" for n in parent.graph.node
            if n.op_type != "StreamingDataflowPartition" and not _is_input_layout(n, graph_input)]


def _is_input_layout(node, graph_input: str) -> bool:
    """FINN's NCHW -> NHWC transpose of a conv net's input: a data layout change that the host
    side does when it packs the input, not a computation."""
    return node.op_type == "Transpose" and list(node.input) == [graph_input]


def hardware_config(spec: m.Spec, root: Path):
    """The remaining FINN steps (code generation, IP, FIFOs, synthesis, bitfile, driver, package)."""
    prepare_finn()
    import finn.builder.build_dataflow_config as bc

    config = estimate_config(spec, root)
    estimate_steps = list(bc.estimate_only_dataflow_steps)
    config.steps = config.steps + [s for s in bc.default_build_dataflow_steps if s not in estimate_steps]
    config.generate_outputs = [bc.DataflowOutputType.ESTIMATE_REPORTS, bc.DataflowOutputType.BITFILE,
                               bc.DataflowOutputType.PYNQ_DRIVER, bc.DataflowOutputType.DEPLOYMENT_PACKAGE]
    return config


def hardware(root: Path, spec: m.Spec) -> dict:
    root = Path(root)
    build_dataflow(root / FINN_INPUT, hardware_config(spec, root))
    return {"deploy": str(Path(FINN_DIR) / "deploy")}


def summarize(root: Path, spec: m.Spec) -> dict:
    report = Path(root) / FINN_DIR / "report"
    perf = json.loads((report / "estimate_network_performance.json").read_text())
    layers = json.loads((report / "estimate_layer_resources.json").read_text())
    total = {k: sum(v.get(k, 0) for n, v in layers.items() if n != "total") for k in ("LUT", "BRAM_18K", "DSP")}
    board = BOARDS[spec.target.board]
    capacity = {"LUT": board.lut, "BRAM_18K": board.bram18, "DSP": board.dsp}
    return {
        "fps": perf["estimated_throughput_fps"], "latency_ns": perf["estimated_latency_ns"],
        "bottleneck": perf["max_cycles_node_name"], "resources": total, "capacity": capacity,
        "utilization": {k: round(total[k] / capacity[k], 4) for k in total},
        "layers": sorted(n for n in layers if n != "total"),
    }


def per_layer(root: Path, spec: m.Spec) -> list[dict]:
    """FINN's per-unit cycles and resources, each matched to the spec layer it implements."""
    report = Path(root) / FINN_DIR / "report"
    cycles = json.loads((report / "estimate_layer_cycles.json").read_text())
    resources = json.loads((report / "estimate_layer_resources.json").read_text())
    from qonnx.core.modelwrapper import ModelWrapper

    final = ModelWrapper(str(Path(root) / FINN_DIR / "intermediate_models" / "step_generate_estimate_reports.onnx"))
    layers = match_units(all_nodes(final.graph), spec)
    rows = []
    for node, n_cycles in cycles.items():
        res = resources.get(node, {})
        rows.append({"node": node, "layer": layers.get(node), "cycles": n_cycles, "LUT": res.get("LUT", 0),
                     "BRAM_18K": res.get("BRAM_18K", 0), "DSP": res.get("DSP", 0)})
    return rows
