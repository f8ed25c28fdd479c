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
    """A pooling layer's kernel and stride on a [C, H, W] or [C, L] input: a global average
    pool's window is the whole (square) feature map."""
    kernel = layer.kernel if layer.kernel is not None else shape[1]
    return kernel, layer.stride or kernel


ONE_D = (m.Conv1d, m.MaxPool1d)  # on [channels, length]


def output_shape(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...] | None, Diagnostic | None]:
    """The shape after ``layer`` for input ``shape``, or a diagnostic saying why not."""
    if isinstance(layer, m.Linear):
        if len(shape) != 1:
            return None, Diagnostic(
                "Q030", f"linear layer '{layer.name}' needs a flat input, but gets shape {_fmt(shape)}",
                layer.span, hint="add 'flatten' before it",
            )
        return (layer.kept,), None
    if isinstance(layer, (m.Conv, m.MaxPool, m.AvgPool)):
        one_d = isinstance(layer, ONE_D)
        if len(shape) != (2 if one_d else 3):
            wanted = "[channels, length]" if one_d else "[channels, height, width]"
            return None, Diagnostic(
                "Q030", f"{layer.kind} layer '{layer.name}' needs a {wanted} input, but gets shape {_fmt(shape)}",
                layer.span, hint=_dims_hint(layer, shape))
        if isinstance(layer, m.AvgPool) and layer.kernel is None and shape[1] != shape[2]:
            return None, Diagnostic(
                "Q033", f"avgpool '{layer.name}' without a kernel pools the whole feature map, which must be "
                f"square, but it is {shape[1]}x{shape[2]}", layer.span, hint="give the kernel: 'avgpool (k)'")
        if isinstance(layer, m.Conv):
            window, strides, padding = layer.window[:len(shape) - 1], layer.stride, layer.padding
            channels = shape[0] if layer.depthwise else layer.kept
        else:
            kernel, strides = pool_window(layer, shape)
            window, padding = (kernel,) * (len(shape) - 1), 0
            channels = shape[0]
        spatial = tuple(_window(d, k, strides, padding) for d, k in zip(shape[1:], window, strict=True))
        if min(spatial) < 1:
            return None, Diagnostic(
                "Q033", f"{layer.kind} layer '{layer.name}' has a {'x'.join(map(str, window))} kernel "
                f"but its input is only {'x'.join(map(str, shape[1:]))}", layer.span,
                hint="use a smaller kernel, add padding, or remove a pooling layer before it",
            )
        return (channels, *spatial), None
    if isinstance(layer, m.Flatten):
        return (math.prod(shape),), None
    return shape, None


def _dims_hint(layer, shape: tuple[int, ...]) -> str | None:
    """The layer of the other dimensionality, where the input has it."""
    if len(shape) == 2 and layer.kind in ("conv2d", "maxpool"):
        return f"on a [channels, length] input use '{layer.kind.removesuffix('2d')}1d'"
    if len(shape) == 3 and layer.kind in ("conv1d", "maxpool1d"):
        return f"on a [channels, height, width] input use '{ {'conv1d': 'conv2d', 'maxpool1d': 'maxpool'}[layer.kind]}'"
    if len(shape) == 1:
        return "a flat input has no channels to slide over: give the input [channels, length] or [C, H, W]"
    return None


def check_groups(layer: m.Conv2d, written: int) -> Diagnostic | None:
    """A convolution with groups maps onto FINN only as a depthwise one (qonnx lowers it to a
    vector-vector unit, VVAU): one group per input channel, as many outputs, weights of 2 bits
    or more (bipolar weights would take FINN's XNOR path, which has no zero for the channels a
    filter skips), no pruning of its own. ``written``: the input channels as the spec writes
    them (before the previous layer's pruning)."""
    if not layer.depthwise:
        return None
    at = layer.span_of("groups")
    if layer.groups != written:
        return Diagnostic(
            "Q037", f"conv2d '{layer.name}' has groups={layer.groups} on {written} input channels: FINN maps "
            "groups=1 and depthwise convolution (groups = input channels) only", at,
            hint=f"groups={written} for depthwise, or groups=1; a grouped convolution is a depthwise one "
                 f"(groups={written}) followed by a 1x1 conv2d")
    if layer.out != written:
        return Diagnostic(
            "Q037", f"depthwise conv2d '{layer.name}' has {layer.out} outputs on {written} channels: FINN's "
            "depthwise unit has one output per channel", layer.span_of("out"),
            hint=f"write conv2d {layer.name} ({written}, ..., groups={written}); widen with a 1x1 conv2d after it")
    if layer.weights == 1:
        return Diagnostic(
            "Q037", f"depthwise conv2d '{layer.name}' has bipolar (1-bit) weights: FINN's depthwise unit needs "
            "weights with a zero (2 bits or more)", layer.span_of("weights"), hint="give it 'weights 2 bit' or more")
    if layer.sparsity:
        return Diagnostic(
            "Q037", f"depthwise conv2d '{layer.name}' is pruned: its channels are those of its input",
            layer.span_of("sparsity"), hint="prune the layer before it; its channels are pruned here too")
    return None


def infer_shapes(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    shape = spec.network.input.shape
    written = shape[0] if shape else 0  # channels as the spec writes them, before pruning
    out: list[LayerShape] = []
    starts: dict[str, tuple[int, ...]] = {}  # residual block -> the shape it starts with
    for layer in spec.network.layers:
        if isinstance(layer, m.Residual):
            starts[layer.name] = shape
        if isinstance(layer, m.Add) and shape != starts[layer.block]:
            return facts, [Diagnostic(
                "Q038", f"residual block '{layer.block}' turns {_fmt(starts[layer.block])} into {_fmt(shape)}: the "
                "skip connection adds its input to its output, so they must have one shape", layer.span,
                hint=f"keep {starts[layer.block][0]} channels and the feature map's size inside the block (stride 1, "
                     "'same' padding, no pooling)")]
        if isinstance(layer, m.Conv2d) and len(shape) == 3 and (diag := check_groups(layer, written)):
            return facts, [diag]
        if isinstance(layer, m.WeightLayer):
            written = layer.out
        new, diag = output_shape(layer, shape)
        if diag is not None:
            return facts, [diag]
        out.append(LayerShape(layer.name, layer.kind, shape, new))
        shape = new
    return facts.with_(shapes=tuple(out)), []
