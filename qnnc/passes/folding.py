"""Folding (PE/SIMD per layer) must respect FINN's divisibility rules.

FINN's MVAU needs PE | output width (MH) and SIMD | input width (MW); a convolution's sliding
window generator feeds SIMD channels at a time, so there SIMD | input channels; a depthwise
convolution's VVAU needs PE | channels and SIMD | window (K*K), SIMD > 1 only at PE = channels;
FINN's StreamingMaxPool and the Pool unit of an average pool need PE | channels.
"""

from __future__ import annotations

import math

from qnnc.errors import Diagnostic, did_you_mean
from qnnc.hw.analytic import MAX_WIDTH, divisors
from qnnc.hw.boards import BOARDS
from qnnc.passes.facts import Facts
from qnnc.spec import model as m

MVAU_OPTIONS = ("pe", "simd", "ram_style", "resType", "mem_mode")
INPUT_UNIT = "input"  # 'fold input': FINN's thresholding unit of the input quantizer
FOLDABLE = {"linear": MVAU_OPTIONS, "conv2d": MVAU_OPTIONS, "conv1d": MVAU_OPTIONS, "maxpool": ("pe",),
            "maxpool1d": ("pe",), "avgpool": ("pe",)}


def near_divisors(n: int, wanted: int, count: int = 3) -> list[int]:
    """The divisors of ``n`` closest to ``wanted``, nearest first (ties: the larger first)."""
    return sorted(divisors(n), key=lambda d: (abs(d - wanted), -d))[:count]


def limits(layer, shape) -> dict[str, tuple[int, str]]:
    """The width each folding factor must divide, and how to describe it."""
    pruned = " after pruning" if isinstance(layer, m.WeightLayer) and layer.kept != layer.out else ""
    if isinstance(layer, m.Linear):
        return {"pe": (shape.out[0], f"output width{pruned}"), "simd": (shape.inp[0], "input width")}
    if isinstance(layer, m.Conv2d) and layer.depthwise:
        return {"pe": (shape.out[0], "channels"), "simd": (math.prod(layer.window), "window (kernel height x width)")}
    if isinstance(layer, m.Conv):
        return {"pe": (shape.out[0], f"output channels{pruned}"), "simd": (shape.inp[0], "input channels")}
    return {"pe": (shape.inp[0], "channels")}


def check_folding(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    layers = {layer.name: layer for layer in spec.network.layers}
    found: list[Diagnostic] = []
    folding: dict[str, dict] = {}
    for name, fold in spec.target.folds.items():
        layer = layers.get(name)
        if name == INPUT_UNIT:
            found.extend(_check_input_fold(spec, fold))
            folding[name] = fold.unit_settings()
            continue
        if layer is None:
            candidates = [n for n, lay in layers.items() if lay.kind in FOLDABLE]
            found.append(Diagnostic(
                "Q034", f"'fold {name}' names no layer", fold.span,
                hint=did_you_mean(name, candidates) or f"foldable layers: {', '.join(candidates) or 'none'}",
            ))
            continue
        found.extend(_check_layer_fold(layer, fold, facts.shape_of(name)))
        found.extend(_check_memory(spec, fold))
        folding[name] = fold.unit_settings()
    errors = [d for d in found if d.is_error]
    return (facts if errors else facts.with_(folding=folding)), found


def _check_layer_fold(layer, fold: m.Fold, shape) -> list[Diagnostic]:
    allowed = FOLDABLE.get(layer.kind)
    if allowed is None:
        return [Diagnostic(
            "Q034", f"{layer.kind} layer '{layer.name}' has no folding of its own", fold.span,
            hint="FINN absorbs it into the neighbouring matrix unit; fold that layer instead",
        )]
    found = []
    for key in MVAU_OPTIONS:
        if getattr(fold, key) is not None and key not in allowed:
            found.append(Diagnostic("Q034", f"'{key}' does not apply to {layer.kind} layer '{layer.name}'",
                                    fold.span_of(key), hint=f"{layer.kind} takes: {', '.join(allowed)}"))
    for key, (width, what) in limits(layer, shape).items():
        value = getattr(fold, key)
        if value is None or width % value == 0:
            continue
        code = "Q031" if key == "simd" else "Q032"
        near = ", ".join(map(str, near_divisors(width, value))) if width <= MAX_WIDTH else "none near"
        found.append(Diagnostic(
            code, f"{key.upper()} {value} does not divide the layer's {what} {width}", fold.span_of(key),
            hint=f"divisors of {width} near {value}: {near}",
        ))
    if isinstance(layer, m.Conv2d) and layer.depthwise and (fold.simd or 1) > 1 and fold.pe != shape.out[0] \
            and not found:
        found.append(Diagnostic(
            "Q031", f"SIMD {fold.simd} on depthwise conv2d '{layer.name}' needs PE {shape.out[0]} (all its "
            f"channels): FINN's window generator streams PE channels at a time", fold.span_of("simd"),
            hint=f"pe: {shape.out[0]}, or simd: 1"))
    return found


def input_width(spec: m.Spec) -> int:
    """The channels FINN's input unit thresholds side by side: the flat input of an MLP (which
    flattens first), the channels of an image."""
    net = spec.network
    flat = len(net.input.shape) == 1 or (net.layers and isinstance(net.layers[0], m.Flatten))
    return math.prod(net.input.shape) if flat else net.input.shape[0]


def _check_input_fold(spec: m.Spec, fold: m.Fold) -> list[Diagnostic]:
    """``fold input``: FINN's thresholding unit of the input quantizer (finn-examples' TFC-w1a2
    sets its PE to 49)."""
    if spec.network.input.quant is None:
        return [Diagnostic("Q034", "'fold input': the input has no quantizer, so FINN makes no input unit", fold.span,
                           hint="quantize the input ('-> quant int8') or remove the fold line")]
    found = [Diagnostic("Q034", f"'{key}' does not apply to the input unit", fold.span_of(key),
                        hint="the input unit takes: pe") for key in MVAU_OPTIONS[1:] if getattr(fold, key) is not None]
    width = input_width(spec)
    if fold.pe is not None and width % fold.pe:
        near = ", ".join(map(str, near_divisors(width, fold.pe))) if width <= MAX_WIDTH else "none near"
        found.append(Diagnostic("Q032", f"PE {fold.pe} does not divide the input unit's channels {width}",
                                fold.span_of("pe"), hint=f"divisors of {width} near {fold.pe}: {near}"))
    return found


def _check_memory(spec: m.Spec, fold: m.Fold) -> list[Diagnostic]:
    """UltraRAM exists only on UltraScale+ parts that have it."""
    board = BOARDS[spec.target.board]
    if fold.ram_style != "ultra" or board.uram:
        return []
    return [Diagnostic("Q035", f"ram_style ultra needs UltraRAM, which {board.name} ({board.part}) does not have",
                       fold.span_of("ram_style"), hint="use block (BRAM) or distributed (LUT-RAM)")]
