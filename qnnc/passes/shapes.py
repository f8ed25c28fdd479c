"""Shape inference through every layer, with pruned widths."""

from __future__ import annotations

import math

from qnnc.errors import Diagnostic
from qnnc.passes.facts import Facts, LayerShape
from qnnc.spec import model as m


def _fmt(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _window(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def pool_window(layer: m.MaxPool | m.AvgPool, shape: tuple[int, ...]) -> tuple[int, int]:
    """A pooling layer's kernel and stride on a [C, H, W] input: a global average pool's window
    is the whole (square) feature map."""
    kernel = layer.kernel if layer.kernel is not None else shape[1]
    return kernel, layer.stride or kernel


def output_shape(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...] | None, Diagnostic | None]:
    """The shape after ``layer`` for input ``shape``, or a diagnostic saying why not."""
    if isinstance(layer, m.Linear):
        if len(shape) != 1:
            return None, Diagnostic(
                "Q030", f"linear layer '{layer.name}' needs a flat input, but gets shape {_fmt(shape)}",
                layer.span, hint="add 'flatten' before it",
            )
        return (layer.kept,), None
    if isinstance(layer, (m.Conv2d, m.MaxPool, m.AvgPool)):
        if len(shape) != 3:
            return None, Diagnostic(
                "Q030", f"{layer.kind} layer '{layer.name}' needs a [channels, height, width] input, "
                f"but gets shape {_fmt(shape)}", layer.span,
            )
        if isinstance(layer, m.AvgPool) and layer.kernel is None and shape[1] != shape[2]:
            return None, Diagnostic(
                "Q033", f"avgpool '{layer.name}' without a kernel pools the whole feature map, which must be "
                f"square, but it is {shape[1]}x{shape[2]}", layer.span, hint="give the kernel: 'avgpool (k)'")
        if isinstance(layer, m.Conv2d):
            kernel = layer.kernel
            h, w = (_window(d, layer.kernel, layer.stride, layer.padding) for d in shape[1:])
            channels = layer.kept
        else:
            kernel, stride = pool_window(layer, shape)
            h, w = (_window(d, kernel, stride) for d in shape[1:])
            channels = shape[0]
        if h < 1 or w < 1:
            return None, Diagnostic(
                "Q033", f"{layer.kind} layer '{layer.name}' has a {kernel}x{kernel} kernel "
                f"but its input is only {shape[1]}x{shape[2]}", layer.span,
                hint="use a smaller kernel, add padding, or remove a pooling layer before it",
            )
        return (channels, h, w), None
    if isinstance(layer, m.Flatten):
        return (math.prod(shape),), None
    return shape, None


def infer_shapes(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    shape = spec.network.input.shape
    out: list[LayerShape] = []
    for layer in spec.network.layers:
        new, diag = output_shape(layer, shape)
        if diag is not None:
            return facts, [diag]
        out.append(LayerShape(layer.name, layer.kind, shape, new))
        shape = new
    return facts.with_(shapes=tuple(out)), []
