"""FINN's dataflow build through finn-plus: the estimate steps here, the hardware steps where
Vivado is installed. The spec's folding is written as FINN's folding config JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from qnnc.backends.export import FINN_INPUT
from qnnc.backends.finn_compat import build_dataflow, prepare_finn
from qnnc.backends.finn_units import all_nodes, match_units
from qnnc.backends.folding import FOLDING_JSON, FOLDING_REPORT, make_folding_step
from qnnc.backends.thresholds import threshold_steps
from qnnc.errors import Diagnostic, QnncError, SpecError
from qnnc.fsutil import write_text_atomic
from qnnc.hw import power
from qnnc.hw.boards import BOARDS
from qnnc.spec import model as m

FINN_DIR = "finn"
ESTIMATE_JSON = "estimate.json"


def estimate_steps(spec: m.Spec, root: Path) -> list:
    """FINN's estimate steps with its folding steps (SetFolding for a target fps, then the
    folding JSON) replaced by qnnc's, which runs after the bit widths are final so that the
    costs it optimises are the ones FINN reports; thresholds are clipped into their units'
    reachable range right after the conversion to hardware layers, before FINN checks them."""
    import finn.builder.build_dataflow_config as bc

    replaced = ("step_target_fps_parallelization", "step_apply_folding_config")
    steps = [s for s in bc.estimate_only_dataflow_steps if s not in replaced]
    clip, restore = threshold_steps()
    steps.insert(steps.index("step_convert_to_hw") + 1, clip)
    steps.insert(steps.index("step_minimize_bit_width") + 1, restore)
    steps.insert(steps.index("step_minimize_bit_width") + 2, make_folding_step(spec, root))
    before, after = around_streamline(spec)
    at = steps.index("step_streamline")
    steps[at:at + 1] = [*before, "step_streamline", *after]
    return steps


def around_streamline(spec: m.Spec) -> tuple[tuple, tuple]:
    """qnnc's steps right before and right after FINN's step_streamline, for the estimate and
    for verify alike: a 1-D network made 2-D first, a network with residual blocks streamlined
    past its forks and joins after."""
    return ((step_1d_as_2d,) if is_1d(spec) else (),
            (step_streamline_residuals,) if has_residuals(spec) else ())


def has_residuals(spec: m.Spec) -> bool:
    return any(isinstance(layer, m.Residual) for layer in spec.network.layers)


def step_streamline_residuals(model, cfg):
    """FINN's streamlining stops at a fork (a residual block's input feeds two branches) and at
    the join (its add): move the scale past the fork into both branches, streamline, then move
    the add's equal scales past it, and streamline again, so that the add sums integers (FINN's
    ElementwiseAdd) and its scale is absorbed into the thresholds after it. Then the layout
    transposes around the blocks go, as FINN's conv lowering removes them around a plain chain:
    moved past forks and adds, into thresholds and max pools (made NHWC), cancelled in pairs;
    left in, each becomes a Shuffle in the hardware, as slow as a frame's elements."""
    from finn.transformation.streamline import Streamline
    from finn.transformation.streamline.absorb import AbsorbConsecutiveTransposes, AbsorbTransposeIntoMultiThreshold
    from finn.transformation.streamline.reorder import (
        MakeMaxPoolNHWC,
        MoveLinearPastEltwiseAdd,
        MoveLinearPastFork,
        MoveMulPastJoinAdd,
        MoveTransposePastFork,
        MoveTransposePastJoinAdd,
    )
    from qonnx.transformation.infer_data_layouts import InferDataLayouts
    from qonnx.transformation.infer_datatypes import InferDataTypes

    for transformation in (MoveLinearPastFork(), Streamline(), MoveLinearPastEltwiseAdd(), MoveMulPastJoinAdd(),
                           Streamline(), MoveTransposePastFork(), MoveTransposePastJoinAdd(),
                           AbsorbConsecutiveTransposes(), AbsorbTransposeIntoMultiThreshold()):
        model = model.transform(transformation)
    model = transposes_past_adds(model)
    for transformation in (MakeMaxPoolNHWC(), AbsorbTransposeIntoMultiThreshold(), MakeMaxPoolNHWC(),
                           AbsorbConsecutiveTransposes(), InferDataTypes(), InferDataLayouts()):
        model = model.transform(transformation)
    return model


def transposes_past_adds(model):
    """An add of a transposed tensor and an untransposed one (a block after a max pool: the
    branch comes back NHWC-to-NCHW from its convs, the skip is the pool's NCHW output) becomes
    the transposed add: Add(T(a), b) = T(Add(a, T'(b))), T' the inverse permutation, taken from
    an identical transpose of b where one exists (the branch's own, at the fork). FINN's
    MoveTransposePastJoinAdd moves only a transpose on both inputs."""
    from onnx import helper
    from qonnx.transformation.general import SortGraph
    from qonnx.transformation.infer_shapes import InferShapes

    def perm(node) -> list[int]:
        return [int(p) for p in helper.get_attribute_value(node.attribute[0])]

    def one_sided(node):
        if node.op_type != "Add" or any(model.get_initializer(t) is not None for t in node.input):
            return None
        producers = [model.find_producer(t) for t in node.input]
        sides = [i for i, p in enumerate(producers) if p is not None and p.op_type == "Transpose"]
        if len(sides) != 1:
            return None
        transpose = producers[sides[0]]
        return (sides[0], transpose) if len(model.find_consumers(transpose.output[0])) == 1 else None

    while (found := next(((n, *f) for n in model.graph.node if (f := one_sided(n)) is not None), None)) is not None:
        add, side, transpose = found
        order = perm(transpose)
        inverse = sorted(range(len(order)), key=order.__getitem__)
        other = add.input[1 - side]
        same = next((c for c in model.find_consumers(other) if c.op_type == "Transpose" and perm(c) == inverse), None)
        if same is None:
            same = helper.make_node("Transpose", [other], [model.make_new_valueinfo_name()], perm=inverse)
            model.graph.node.append(same)
        summed, out = model.make_new_valueinfo_name(), add.output[0]
        add.input[side], add.input[1 - side], add.output[0] = transpose.input[0], same.output[0], summed
        model.graph.node.remove(transpose)
        model.graph.node.append(helper.make_node("Transpose", [summed], [out], perm=order))
        model.set_tensor_datatype(summed, model.get_tensor_datatype(out))
        model = model.transform(SortGraph()).transform(InferShapes())
    return model


def is_1d(spec: m.Spec) -> bool:
    """A network on [channels, length] inputs: its tensors are 3-D until ``step_1d_as_2d``."""
    return len(spec.network.input.shape) == 2


def step_1d_as_2d(model, cfg):
    """qonnx's Change3DTo4DTensors, as finn-examples' VGG10 build runs it before streamlining:
    [N, C, L] tensors become [N, C, L, 1], a 1-D conv or pool one with a [k, 1] kernel, which
    FINN lowers and maps as 2-D ones (its sliding-window generator's 1-D mode)."""
    from qonnx.core import data_layout as DataLayout  # noqa: N812 - qonnx's own name for it
    from qonnx.transformation.change_3d_tensors_to_4d import Change3DTo4DTensors, _find_invalid_nodes
    from qonnx.transformation.infer_data_layouts import InferDataLayouts

    _subtractions_as_additions(model)
    left = sorted(set(_find_invalid_nodes(model)))
    if left:
        raise QnncError(f"qonnx cannot make the 1-D network 2-D for FINN: it has {', '.join(left)} nodes, which "
                        "Change3DTo4DTensors does not convert")
    model = model.transform(Change3DTo4DTensors())
    for node in model.graph.node:
        for attr in node.attribute:  # what it leaves 1-D:
            if node.op_type == "MaxPool" and attr.name == "dilations" and len(attr.ints) == 1:
                attr.ints.append(1)  # a MaxPool's dilations (PyTorch writes them)
            if node.op_type == "MultiThreshold" and attr.name == "data_layout" and attr.s in (b"NWC", b"NCW"):
                attr.s = b"NCHW"  # a threshold's layout (qonnx guessed NWC for [N, C, L]): per-channel ones
    tensors = [t.name for t in (*model.graph.input, *model.graph.value_info, *model.graph.output)]
    for name in tensors:  # and the tensors' layouts, which FINN's conversions read
        layout = model.get_tensor_layout(name)
        if layout is not None and len(layout) == 3 and len(model.get_tensor_shape(name) or ()) == 4:
            model.set_tensor_layout(name, DataLayout.NCHW)
    return model.transform(InferDataLayouts())


def layer_finder(spec: m.Spec, root: Path):
    """Node name -> the spec layer it implements, read from the last model FINN saved."""
    def layer_of(node: str) -> str | None:
        from qonnx.core.modelwrapper import ModelWrapper

        saved = sorted((Path(root) / FINN_DIR / "intermediate_models").glob("*.onnx"), key=lambda p: p.stat().st_mtime)
        for path in reversed(saved):
            owners = match_units(all_nodes(ModelWrapper(str(path)).graph), spec)
            if node in owners:
                return owners[node]
        return None
    return layer_of


def _subtractions_as_additions(model) -> None:
    """x - c as x + (-c) for a constant c (the input's mapping to [-1, 1], or its mean):
    Change3DTo4DTensors converts Add but not Sub."""
    for node in model.graph.node:
        constant = model.get_initializer(node.input[1]) if node.op_type == "Sub" else None
        if constant is not None:
            node.op_type = "Add"
            model.set_initializer(node.input[1], -constant)


def estimate_config(spec: m.Spec, root: Path):
    prepare_finn()
    import finn.builder.build_dataflow_config as bc

    return bc.DataflowBuildConfig(
        output_dir=str(root / FINN_DIR),
        synth_clk_period_ns=1000.0 / spec.target.clock_mhz,
        folding_config_file=str(root / FOLDING_JSON),  # written by qnnc's folding step
        board=BOARDS[spec.target.board].finn_name,
        shell_flow_type=bc.ShellFlowType.VIVADO_ZYNQ,
        steps=estimate_steps(spec, root),
        generate_outputs=[bc.DataflowOutputType.ESTIMATE_REPORTS],
        verbose=False,
    )


def estimate(root: Path, spec: m.Spec) -> dict:
    root = Path(root)
    build_dataflow(root / FINN_INPUT, estimate_config(spec, root), layer_finder(spec, root))
    left = left_outside_dataflow(root)
    if left:
        last = spec.network.layers[-1]
        raise SpecError([Diagnostic(
            "Q042", f"FINN left {', '.join(left)} outside its dataflow partition: these would run on the CPU",
            last.span, hint="end with '-> label' or a quantized activation; FINN's model: "
            "finn/intermediate_models/dataflow_parent.onnx")])
    summary = summarize(root, spec)
    summary["per_layer"] = per_layer(root, spec, summary["folding"])
    write_text_atomic(root / ESTIMATE_JSON, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    check_fit(summary["folding"], spec)
    return summary


def check_fit(folding: dict, spec: m.Spec) -> None:
    """A design over the board's caps, or short of an fps target, is the spec's mistake, with
    lint's codes and positions (Q070, Q071): by how much, what costs most and what would fit
    (the reports stay for a look)."""
    t = spec.target
    over = [f"{r} {folding['totals'][r]:,.0f} of {folding['budget'][r]:,.0f} allowed"
            for r in folding["budget"] if folding["totals"][r] > folding["budget"][r]]
    costliest = folding["costliest"]
    fold = t.folds.get(costliest)
    if over:
        raise SpecError([Diagnostic(
            "Q070", f"the design does not fit {t.board} under the spec's caps ({'; '.join(over)})",
            fold.span if fold is not None else t.span_of("fps"),
            hint=f"the costliest layer is '{costliest}'; {_fit_advice(spec)}; folding report: {FOLDING_REPORT}")])
    if not folding["meets_target"]:
        slow = t.folds.get(folding["bottleneck_layer"] or "")
        raise SpecError([Diagnostic(
            "Q071", f"fps {t.fps:,.0f} is out of reach on {t.board}: the bottleneck {folding['bottleneck']} gives "
            f"{folding['fps']:,.0f} FPS at its fastest folding at {t.clock_mhz:g} MHz",
            slow.span if slow is not None else t.span_of("fps"),
            hint="write 'fps: max' for the fastest design that fits, or a lower target")])


def _fit_advice(spec: m.Spec) -> str:
    """What would make it fit, never what the spec already does."""
    t = spec.target
    steps = ["lower the fps target"] if not math.isinf(t.fps) else []
    if t.max_lut < 1 or t.max_bram < 1:
        steps.append("raise max_lut/max_bram")
    steps.append("narrow the layers, lower their bit-widths or prune")
    return ", ".join(steps)


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
    """FINN's remaining steps (code generation, IP, FIFO sizing, synthesis, bitfile, driver,
    package), continuing FINN's build from the estimate's last model."""
    prepare_finn()
    import finn.builder.build_dataflow_config as bc

    config = estimate_config(spec, root)
    done = set(bc.estimate_only_dataflow_steps)
    rest = [s for s in bc.default_build_dataflow_steps if s not in done]
    config.steps = config.steps + rest
    config.start_step = rest[0]  # FINN reads the model the step before it saved (intermediate_models/)
    config.generate_outputs = [bc.DataflowOutputType.ESTIMATE_REPORTS, bc.DataflowOutputType.BITFILE,
                               bc.DataflowOutputType.PYNQ_DRIVER, bc.DataflowOutputType.DEPLOYMENT_PACKAGE]
    return config


def hardware(root: Path, spec: m.Spec) -> dict:
    """FINN's Vivado steps, then the deployment folder completed with their bitfile."""
    from qnnc.backends.deploy import complete_with, write_readme

    root = Path(root)
    build_dataflow(root / FINN_INPUT, hardware_config(spec, root), layer_finder(spec, root))
    copied = complete_with(root, root / FINN_DIR / "bitfile", root / FINN_DIR / "driver")
    write_readme(root, spec, continue_command="")
    return {"deploy": "deploy", "copied": copied}


def summarize(root: Path, spec: m.Spec) -> dict:
    """FINN's estimate, with the board's I/O as FINN's Zynq build inserts it: one frame through
    the IODMA's memory port bounds the throughput, and the energy is taken at what the board can
    deliver."""
    report = Path(root) / FINN_DIR / "report"
    perf = json.loads((report / "estimate_network_performance.json").read_text())
    layers = json.loads((report / "estimate_layer_resources.json").read_text())
    folding = json.loads((Path(root) / FOLDING_REPORT).read_text())
    total = {k: sum(v.get(k, 0) for n, v in layers.items() if n != "total") for k in ("LUT", "BRAM_18K", "DSP")}
    board = BOARDS[spec.target.board]
    capacity = {"LUT": board.lut, "BRAM_18K": board.bram18, "DSP": board.dsp}
    dma = folding.get("dma_cycles") or {}
    io_node = max(dma, key=dma.get) if dma else None
    io_fps = spec.target.clock_mhz * 1e6 / dma[io_node] if io_node else math.inf
    layer_fps = perf["estimated_throughput_fps"]
    fps = min(layer_fps, io_fps)
    io_bound = io_fps < layer_fps
    return {
        "fps": fps, "fps_layers": layer_fps, "fps_io": io_fps if io_node else None, "io_cycles": dma,
        "bound_by": "I/O" if io_bound else "layer", "latency_ns": perf["estimated_latency_ns"],
        "bottleneck": io_node if io_bound else perf["max_cycles_node_name"], "resources": total,
        "capacity": capacity, "utilization": {k: round(total[k] / capacity[k], 4) for k in total},
        "layers": sorted(n for n in layers if n != "total"), "folding": folding,
        "power": power.for_build(Path(root), total, spec.target.clock_mhz, board.part, fps),
    }


def per_layer(root: Path, spec: m.Spec, folding: dict) -> list[dict]:
    """FINN's per-unit cycles and resources, each matched to the spec layer it implements,
    with the folding qnnc chose for it."""
    report = Path(root) / FINN_DIR / "report"
    cycles = json.loads((report / "estimate_layer_cycles.json").read_text())
    resources = json.loads((report / "estimate_layer_resources.json").read_text())
    from qonnx.core.modelwrapper import ModelWrapper

    final = ModelWrapper(str(Path(root) / FINN_DIR / "intermediate_models" / "step_generate_estimate_reports.onnx"))
    layers = match_units(all_nodes(final.graph), spec)
    chosen = {node: attrs for row in folding["units"] for node, attrs in row["attrs"].items()}
    rows = []
    for node, n_cycles in cycles.items():
        res = resources.get(node, {})
        rows.append({"node": node, "layer": layers.get(node), "cycles": n_cycles, "LUT": res.get("LUT", 0),
                     "BRAM_18K": res.get("BRAM_18K", 0), "DSP": res.get("DSP", 0),
                     "folding": chosen.get(node, {})})
    return rows
