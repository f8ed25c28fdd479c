"""Folding (PE/SIMD per layer) must respect FINN's divisibility rules.

FINN's MVAU needs PE | output width (MH) and SIMD | input width (MW); a convolution's sliding
window generator feeds SIMD channels at a time, so there SIMD | input channels; FINN's
StreamingMaxPool needs PE | channels.
"""

from __future__ import annotations

from qnnc.errors import Diagnostic, did_you_mean
from qnnc.hw.analytic import MAX_WIDTH, divisors
from qnnc.hw.boards import BOARDS
from qnnc.passes.facts import Facts
from qnnc.spec import model as m

MVAU_OPTIONS = ("pe", "simd", "ram_style", "resType", "mem_mode")
FOLDABLE = {"linear": MVAU_OPTIONS, "conv2d": MVAU_OPTIONS, "maxpool": ("pe",)}


def near_divisors(n: int, wanted: int, count: int = 3) -> list[int]:
    """The divisors of ``n`` closest to ``wanted``, nearest first (ties: the larger first)."""
    return sorted(divisors(n), key=lambda d: (abs(d - wanted), -d))[:count]


def limits(layer, shape) -> dict[str, tuple[int, str]]:
    """The width each folding factor must divide, and how to describe it."""
    pruned = " after pruning" if isinstance(layer, m.WeightLayer) and layer.kept != layer.out else ""
    if isinstance(layer, m.Linear):
        return {"pe": (shape.out[0], f"output width{pruned}"), "simd": (shape.inp[0], "input width")}
    if isinstance(layer, m.Conv2d):
        return {"pe": (shape.out[0], f"output channels{pruned}"), "simd": (shape.inp[0], "input channels")}
    return {"pe": (shape.inp[0], "channels")}


def check_folding(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    layers = {layer.name: layer for layer in spec.network.layers}
    found: list[Diagnostic] = []
    folding: dict[str, dict] = {}
    for name, fold in spec.target.folds.items():
        layer = layers.get(name)
        if layer is None:
            candidates = [n for n, lay in layers.items() if lay.kind in FOLDABLE]
            found.append(Diagnostic(
                "Q034", f"'fold {name}' names no layer", fold.span,
                hint=did_you_mean(name, candidates) or f"foldable layers: {', '.join(candidates) or 'none'}",
            ))
            continue
        found.extend(_check_layer_fold(layer, fold, facts.shape_of(name)))
        found.extend(_check_memory(spec, fold))
        folding[name] = fold.model_dump(exclude_none=True)
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
    return found


def _check_memory(spec: m.Spec, fold: m.Fold) -> list[Diagnostic]:
    """UltraRAM exists only on UltraScale+ parts that have it."""
    board = BOARDS[spec.target.board]
    if fold.ram_style != "ultra" or board.uram:
        return []
    return [Diagnostic("Q035", f"ram_style ultra needs UltraRAM, which {board.name} ({board.part}) does not have",
                       fold.span_of("ram_style"), hint="use block (BRAM) or distributed (LUT-RAM)")]
