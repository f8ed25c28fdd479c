"""Units and their choices from a FINN dataflow model, costed by FINN's own cost models.

Each choice is set on FINN's node object and costed with the node's ``get_exp_cycles`` and
``node_res_estimation`` (the same calls behind FINN's estimate reports), then the node's
attributes are put back. The legal values follow FINN's folding rules, as FINN's SetFolding
applies them: a matrix unit's PE divides its output width MH and SIMD its input width MW; a
channel-wise unit's PE divides its channels; a window generator's SIMD divides its input
channels (with the parallel window only at full SIMD); a pool or depthwise unit (VVAU) and its
window generator share one PE, and a VVAU's SIMD divides its window and grows past 1 only at
full PE; an HLS weight unit's weight stream stays within FINN's widest ap_int.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from qnnc.hw.analytic import MAX_AP_INT_BITS, depthwise_legal, divisors
from qnnc.hw.solver import RESOURCES, Choice, Unit
from qnnc.spec import model as m

CHANNEL_UNITS = ("Thresholding", "Reshape", "DuplicateStreams", "GlobalAccPool", "Squeeze", "Unsqueeze",
                 "ElementwiseAdd")
POOLS = ("Pool_hls",)


def instance(node):
    """The custom-op object of a FINN node (its attributes and cost model)."""
    from qonnx.custom_op.registry import getCustomOp

    return getCustomOp(node)


def _attr(inst, name: str, default=None):
    try:
        return inst.get_nodeattr(name)
    except AttributeError:
        return default


def weight_unit_options(inst, op_type: str, ram_styles: tuple[str, ...]) -> Iterator[dict]:
    """A matrix unit: PE divides its output width MH, SIMD its input width MW. A depthwise unit
    (VVAU): PE divides the channels, SIMD the window, and SIMD grows only at full PE."""
    if op_type.startswith("VVAU"):
        pes, simds = inst.get_nodeattr("Channels"), math.prod(inst.get_nodeattr("Kernel"))
    else:
        pes, simds = inst.get_nodeattr("MH"), inst.get_nodeattr("MW")
    wbits = inst.get_input_datatype(1).bitwidth()
    decoupled = inst.get_nodeattr("mem_mode") == "internal_decoupled"
    for pe in divisors(pes):
        for simd in divisors(simds):
            if op_type.startswith("VVAU") and not depthwise_legal(pes, pe, simd):
                continue
            if op_type.endswith("_hls") and decoupled and pe * simd * wbits > MAX_AP_INT_BITS:
                continue
            for style in ram_styles if decoupled else (inst.get_nodeattr("ram_style"),):
                yield {"PE": pe, "SIMD": simd, "ram_style": style}


def channels(inst) -> int:
    return int(_attr(inst, "NumChannels") or inst.get_normal_output_shape()[-1])


def node_options(model, node, ram_styles: tuple[str, ...]) -> list[dict[str, dict]]:
    """The legal settings of one unit, as {node name: attributes}; [] for a node that is folded
    together with its consumer (a pool's window generator) and so is not a unit itself."""
    inst, op = instance(node), node.op_type
    if op.startswith("MVAU"):
        return [{node.name: o} for o in weight_unit_options(inst, op, ram_styles)]
    if op.startswith(CHANNEL_UNITS):
        return [{node.name: {"PE": pe}} for pe in divisors(channels(inst))]
    if op.startswith("LabelSelect"):
        return [{node.name: {"PE": pe}} for pe in divisors(inst.get_nodeattr("Labels"))]
    if op.startswith("FMPadding"):
        return [{node.name: {"SIMD": s}} for s in divisors(inst.get_nodeattr("NumChannels"))]
    if op in POOLS or op.startswith("VVAU"):  # one PE with the depthwise window generator feeding it
        window = model.find_producer(node.input[0])
        tied = window is not None and window.op_type.startswith("ConvolutionInputGenerator")
        options = weight_unit_options(inst, op, ram_styles) if op.startswith("VVAU") else \
            ({"PE": pe} for pe in divisors(inst.get_nodeattr("Channels")))
        return [{node.name: o, **({window.name: {"SIMD": o["PE"]}} if tied else {})} for o in options]
    if op.startswith("ConvolutionInputGenerator"):
        if inst.get_nodeattr("depthwise"):
            return []  # folded with the pool or depthwise unit it feeds
        cin = inst.get_nodeattr("IFMChannels")
        rtl = op.endswith("_rtl")
        return [{node.name: {"SIMD": s, **({"parallel_window": int(s == cin and pw)} if rtl else {})}}
                for s in divisors(cin) for pw in ((0, 1) if rtl and s == cin else (0,))]
    return [{node.name: {}}]  # not foldable: its one setting is the current one


def streams_fold(model, inst) -> bool:
    """FINN's own folding rules for a node, as its stream shape functions assert them (PE must
    divide the last axis, SIMD the channels...): True if none of them refuses the setting. A
    shape a node does not define (an input DMA's folded input) is no refusal."""
    node = inst.onnx_node
    streamed = [i for i, t in enumerate(node.input) if model.get_initializer(t) is None]
    calls = [f for i in streamed for f in (lambda i=i: inst.get_folded_input_shape(i),
                                           lambda i=i: inst.get_instream_width(i))]
    calls += [f for i in range(len(node.output)) for f in (lambda i=i: inst.get_folded_output_shape(i),
                                                           lambda i=i: inst.get_outstream_width(i))]
    for call in calls:
        try:
            call()
        except AssertionError:
            return False
        except ValueError:
            continue
    return True


def cost(model, attrs: dict[str, dict], fpgapart: str) -> tuple[int, dict[str, float]] | None:
    """Cycles per frame and resources of a setting, from FINN's own cost model, or None when
    FINN's folding rules refuse it; the nodes are left as they were."""
    cycles, total = 0, dict.fromkeys(RESOURCES, 0.0)
    for name, values in attrs.items():
        inst = instance(model.get_node_from_name(name))
        before = {k: inst.get_nodeattr(k) for k in values}
        for k, v in values.items():
            inst.set_nodeattr(k, v)
        try:
            if not streams_fold(model, inst):
                return None
            cycles = max(cycles, int(inst.get_exp_cycles()))
            res = inst.node_res_estimation(fpgapart)
            for r in RESOURCES:
                total[r] += float(res.get(r, 0))
        finally:
            for k, v in before.items():
                inst.set_nodeattr(k, v)
    return cycles, total


def units(model, fpgapart: str, owners: dict[str, str], pinned: dict[str, dict] | None = None,
          ram_styles: tuple[str, ...] = ("auto", "distributed")) -> list[Unit]:
    """Every hardware node of a FINN dataflow model as a unit with its costed choices, each
    legal by FINN's own folding rules. ``owners`` maps node names to spec layers; ``pinned``
    maps node names to attributes the spec fixes (its ``fold`` lines): only choices that agree
    with them are kept."""
    pinned = pinned or {}
    found = []
    for node in model.graph.node:
        styles = (pinned[node.name]["ram_style"],) if "ram_style" in pinned.get(node.name, {}) else ram_styles
        options = node_options(model, node, styles)
        options = [o for o in options if _agrees(o, pinned)] or _pinned_only(options, pinned)
        if not options:
            continue
        choices = []
        for option in options:
            option = {n: {**a, **{k: v for k, v in pinned.get(n, {}).items() if k not in a}}
                      for n, a in option.items()}
            costed = cost(model, option, fpgapart)
            if costed is None:
                continue
            cycles, res = costed
            choices.append(Choice(attrs=option, cycles=cycles, cost=res, alternative=_alternative(option)))
        if not choices:
            raise IllegalFoldingError(node.name, owners.get(node.name), options[0])
        found.append(Unit(name=node.name, layer=owners.get(node.name), choices=tuple(choices)))
    return found


class IllegalFoldingError(Exception):
    """No setting of a unit that FINN's folding rules accept agrees with the spec's fold line."""

    def __init__(self, node: str, layer: str | None, option: dict):
        self.node, self.layer = node, layer
        super().__init__(f"FINN's folding rules refuse every setting of {node} that agrees with the spec "
                         f"({option})")


def _alternative(option: dict[str, dict]) -> bool:
    return any(a.get("ram_style", "auto") != "auto" for a in option.values())


def _agrees(option: dict[str, dict], pinned: dict[str, dict]) -> bool:
    return all(option[n].get(k, v) == v for n in option for k, v in pinned.get(n, {}).items())


def _pinned_only(options: list[dict], pinned: dict[str, dict]) -> list[dict]:
    """When a pinned value is not among the legal options (lint reports it), keep the pins."""
    return [{n: dict(pinned.get(n, {})) for n in options[0]}] if options else []


def apply(model, attrs: dict[str, dict]):
    """Set the chosen attributes on the model's nodes."""
    for name, values in attrs.items():
        inst = instance(model.get_node_from_name(name))
        for k, v in values.items():
            inst.set_nodeattr(k, v)
    return model


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
WEIGHT_UNITS = ("MVAU", "VVAU")  # a linear or conv2d layer's unit; VVAU: a depthwise conv2d


def _owner_kind(node) -> str | None:
    """Which kind of spec layer a FINN unit implements, as ``match_units`` counts them."""
    if node.op_type.startswith(WEIGHT_UNITS):
        return "weights"
    if node.op_type.startswith("StreamingMaxPool"):
        return "maxpool"
    if node.op_type.startswith("Pool"):
        from qonnx.util.basic import get_by_name

        function = get_by_name(getattr(node, "attribute", ()), "Function")
        return "avgpool" if function is not None and function.s.decode() == "QuantAvgPool" else "maxpool"
    return None


def match_units(nodes, spec: m.Spec) -> dict[str, str]:
    """FINN unit name -> the spec layer it implements. FINN keeps the layers' order: the n-th
    weight unit (MVAU, or VVAU for a depthwise conv) is the n-th linear/conv layer, the n-th
    max-pooling unit (StreamingMaxPool, or Pool computing MaxPool) the n-th maxpool, the n-th
    Pool computing QuantAvgPool the n-th avgpool, LabelSelect the output, a thresholding unit
    before any weight unit the input's quantizer ('input'); a sliding-window generator or
    padding unit belongs to the unit it feeds (a conv's MVAU or VVAU, or the Pool of a maxpool
    or avgpool)."""
    nodes = list(nodes)
    layers = spec.network.layers
    owners = {
        "weights": iter(layer.name for layer in layers if isinstance(layer, m.WeightLayer)),
        "maxpool": iter(layer.name for layer in layers if isinstance(layer, m.MaxPool)),
        "avgpool": iter(layer.name for layer in layers if isinstance(layer, m.AvgPool)),
    }
    matched: dict[str, str] = {}
    first = next((i for i, node in enumerate(nodes) if node.op_type.startswith(WEIGHT_UNITS)), len(nodes))
    for node in nodes[:first]:  # before any matrix unit, a thresholding unit is the input quantizer's
        if node.op_type.startswith("Thresholding") and spec.network.input.quant is not None:
            matched[node.name] = "input"
            break
    for node in nodes:
        kind = _owner_kind(node)
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
