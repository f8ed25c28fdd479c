"""Will the network map completely onto FINN's hardware layers?

FINN turns a quantized network into a chain of integer units: every matrix unit (MVAU)
needs a quantized input, batchnorm and scaling are absorbed into the thresholds of the
next quantized activation, and a class-label output becomes LabelSelect. This pass walks
the layers tracking what kind of value flows between them and names the construct that
would be left behind on the CPU.
"""

from __future__ import annotations

import math
from fractions import Fraction

from qnnc.errors import Diagnostic
from qnnc.passes.facts import Facts
from qnnc.passes.shapes import pool_window
from qnnc.spec import model as m

QUANT, ACC, FLOAT = "quantized", "integer accumulator", "float"


def input_state(inp: m.InputSpec) -> str:
    return FLOAT if inp.dtype == "float32" and inp.quant is None else QUANT


def check_finn_mapping(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    net = spec.network
    found: list[Diagnostic] = []
    state = input_state(net.input)
    if state == FLOAT:
        found.append(Diagnostic(
            "Q040", "the float32 input is not quantized; FINN needs an integer input", net.input.span,
            hint="add an input quantizer, e.g. '-> quant int8', or read the data as uint8",
        ))
        state = QUANT  # reported once here, not again at the first layer
    found.extend(_check_input_rounding(net.input))
    found.extend(_check_bipolar_input(net))
    source = "the input"
    previous = None
    for layer in net.layers:
        state, diag = _step(layer, state, source)
        if diag:
            found.append(diag)
        if isinstance(layer, m.AvgPool) and not diag:
            found.extend(_check_avgpool(layer, previous, facts.shape_of(layer.name).inp))
        previous = layer
        if not isinstance(layer, (m.Flatten, m.Dropout, m.Residual)):
            source = f"'{layer.name}'"
    found.extend(_check_output(net, state, facts))
    return facts, found


def _step(layer, state: str, source: str) -> tuple[str, Diagnostic | None]:
    if isinstance(layer, m.WeightLayer):
        if state != QUANT:
            return ACC, Diagnostic(
                "Q041", f"'{layer.name}' gets the {state} output of {source}; FINN's matrix units "
                "need a quantized input", layer.span,
                hint=f"put a quantized activation ('act ...') between {source} and '{layer.name}'",
            )
        return ACC, None
    if isinstance(layer, m.BatchNorm):
        return FLOAT, None
    if isinstance(layer, m.Act):
        if layer.func == "relu" and layer.bits == 1:
            return QUANT, Diagnostic(
                "Q048", f"a 1-bit relu ('{layer.name}') does not map onto FINN: its thresholds need an output "
                "scale of 1 or a bipolar output", layer.span,
                hint="use 'act bipolar' for 1 bit, or give the relu 2 bits or more")
        return QUANT, None
    if isinstance(layer, m.Add):  # re-quantized with the block input's quantizer (passes.residual)
        return QUANT, None
    if isinstance(layer, m.MaxPool | m.AvgPool) and state == FLOAT:
        return FLOAT, Diagnostic(
            "Q043", f"{layer.kind} '{layer.name}' works on the float output of {source}", layer.span,
            hint="pool after the quantized activation, as FINN's CNV does",
        )
    return state, None


def _check_avgpool(layer: m.AvgPool, previous, shape: tuple[int, ...]) -> list[Diagnostic]:
    """FINN's Pool unit sums each window of an unsigned integer stream (Brevitas' TruncAvgPool2d
    becomes FINN's QuantAvgPool2d); qnnc keeps the whole sum, which is bit-exact when the window's
    area is a power of two (the average's scale is then a shift)."""
    if not (isinstance(previous, m.Act) and previous.func == "relu"):
        after = "the input" if previous is None else f"the {previous.func} activation '{previous.name}'" \
            if isinstance(previous, m.Act) else f"{previous.kind} '{previous.name}'"
        return [Diagnostic(
            "Q043", f"avgpool '{layer.name}' comes after {after}; FINN's average pool sums the unsigned integers "
            "of a quantized relu", layer.span, hint=f"put 'act relu N bit' right before '{layer.name}'")]
    kernel, stride = pool_window(layer, shape)
    if kernel & (kernel - 1):
        near = sorted({1 << (kernel.bit_length() - 1), 1 << kernel.bit_length()} - {1})
        return [Diagnostic(
            "Q043", f"avgpool '{layer.name}' has a {kernel}x{kernel} window; qnnc maps average pooling onto FINN "
            "bit-exactly only for windows whose side is a power of two", layer.span,
            hint=f"use a kernel of {' or '.join(map(str, near))}, or 'maxpool ({kernel})'")]
    if stride > kernel:
        return [Diagnostic(
            "Q043", f"avgpool '{layer.name}' strides {stride} over a {kernel}x{kernel} window; FINN's Pool unit "
            "needs a stride of at most the kernel", layer.span, hint=f"use a stride of {kernel} or less")]
    return []


def summed_bits(layer: m.AvgPool, shape: tuple[int, ...], bits: int) -> int:
    """The bits of an average pool's output: the whole sum of ``bits``-bit values over a window
    whose area is a power of two."""
    kernel, _ = pool_window(layer, shape)
    return bits + 2 * (kernel.bit_length() - 1)


def _check_output(net: m.NetworkSpec, state: str, facts: Facts) -> list[Diagnostic]:
    out = net.output
    last = net.layers[-1]
    width = facts.shapes[-1].out
    if out.kind == "logits":
        if state != QUANT:
            return [Diagnostic(
                "Q042", f"the {state} output of '{last.name}' would be left outside FINN's dataflow "
                "partition", last.span,
                hint="end with '-> label' (FINN's LabelSelect) or a quantized activation",
            )]
        return []
    found = []
    if isinstance(last, m.BatchNorm):
        found.append(Diagnostic(
            "Q042", f"batchnorm '{last.name}' before the label output does not map onto FINN's LabelSelect",
            last.span, hint="remove it; a per-channel scale changes which label wins",
        ))
    weight = next((layer for layer in reversed(net.layers) if isinstance(layer, m.WeightLayer)), None)
    if isinstance(last, m.WeightLayer) and weight is not None and weight.bias:
        found.append(Diagnostic(
            "Q042", f"the bias of '{weight.name}' before the label output would stay outside FINN's "
            "dataflow partition: FINN's LabelSelect compares integers and cannot add a bias per class",
            weight.span_of("bias"), hint="write bias=false; or keep it and end with an activation, whose thresholds "
            "absorb it: '+ act hardtanh 8 bit -> logits'",
        ))
    classes = width[0] if len(width) == 1 else 0
    if len(width) != 1:
        found.append(Diagnostic("Q030", "a label output needs a flat last layer", out.span,
                                hint="add 'flatten' and a linear layer"))
    elif classes < 2:
        found.append(Diagnostic(
            "Q045", f"a label output needs at least 2 classes, but '{last.name}' has {classes} output",
            out.span, hint="for a two-class problem with one output, end with 'act bipolar' instead",
        ))
    elif out.k > classes:
        found.append(Diagnostic("Q046", f"top {out.k} of only {classes} classes", out.span,
                                hint=f"use at most top {classes}"))
    return found


def half_way_inputs(inp: m.InputSpec, most: int = 5) -> list[int]:
    """Raw input values that the input quantizer sees exactly half-way between two levels (the
    first ``most`` of them). Brevitas rounds those half to even, FINN's thresholds half up: the
    hardware would differ.

    With the scale a/b, the quantizer's level is (c*v + d) / b for a raw value v (unsigned:
    c = a*L, d = 0; signed: c = 2*a*L, d = -b*L, L the steps per unit). It is half-way when
    2(c*v + d)/b is an odd integer: a linear congruence in v, solved here rather than by trying
    every raw value (a 32-bit input has four billion)."""
    raw, quant = inp.raw_type.values, inp.quant_type
    scale = Fraction(inp.scale).limit_denominator(1 << 20)
    if raw is None or quant is None or quant.kind != "int" or scale == 0:
        return []
    if inp.normalization() is not None:
        return _half_way_normalized(inp, raw, quant.levels, quant.signed, most)
    signed, levels = quant.signed, quant.levels
    a, b = scale.numerator, scale.denominator
    c, d = (2 * a * levels, -b * levels) if signed else (a * levels, 0)
    # 2c*v = b - 2d (mod 2b); solvable only if gcd(2c, 2b) divides b - 2d
    g = math.gcd(2 * c, 2 * b)
    if (b - 2 * d) % g:
        return []
    step = 2 * b // g
    first = (b - 2 * d) // g * pow(2 * c // g, -1, step) % step if step > 1 else 0
    # |c*v + d| <= levels*b bounds v to an interval (c > 0)
    lo = max(raw.start, -((levels * b + d) // c))
    hi = min(raw.stop - 1, (levels * b - d) // c)
    start = lo + (first - lo) % step
    return list(range(start, hi + 1, step)[:most])
MOST_RAW_VALUES = 1 << 16  # a normalized input's raw values are tried one by one up to this many


def _half_way_normalized(inp: m.InputSpec, raw: range, levels: int, signed: bool, most: int) -> list[int]:
    """With a normalisation (float mean and std per channel) the quantizer sees (v*scale - mean)
    / std: the raw values (of a type with few enough) whose level lands half-way, to within
    float32's precision (PyTorch computes it in float32, FINN's thresholds otherwise)."""
    if len(raw) > MOST_RAW_VALUES:
        return []
    means, stds = inp.normalization()
    found = set()
    for mean, std in set(zip(means, stds, strict=True)):
        for x in raw:
            level = (x * inp.scale - mean) / std * levels
            inside = (-levels if signed else 0) - 0.5 <= level <= levels + 0.5  # outside, it saturates
            if inside and abs(level - math.floor(level) - 0.5) <= 1e-6 * max(1.0, abs(level)):
                found.add(x)
    return sorted(found)[:most]


def _check_bipolar_input(net: m.NetworkSpec) -> list[Diagnostic]:
    """A bipolar input quantizer is absorbed only by a 1-bit (XNOR) first layer; before wider
    weights it stays a threshold unit with output scale 2, which FINN cannot convert."""
    first = next((layer for layer in net.layers if isinstance(layer, m.WeightLayer)), None)
    if net.input.quant != "bipolar" or first is None or first.weights == 1:
        return []
    return [Diagnostic(
        "Q049", f"a bipolar input quantizer before '{first.name}' with {first.weights}-bit weights does not map "
        "onto FINN: its thresholds keep an output scale of 2", net.input.span,
        hint=f"quantize the input as 'quant int{first.weights}' (as FINN's TFC-w2a2 does), or give "
             f"'{first.name}' 1-bit weights")]


def _check_input_rounding(inp: m.InputSpec) -> list[Diagnostic]:
    values = half_way_inputs(inp)
    if not values:
        return []
    shown = ", ".join(map(str, values[:4])) + (", ..." if len(values) > 4 else "")
    what = f"raw input values {shown} fall" if len(values) > 1 else f"raw input value {shown} falls"
    return [Diagnostic(
        "Q047", f"{what} exactly half-way between two levels of the {inp.quant} input quantizer; Brevitas "
        "rounds half to even, FINN's thresholds round half up", inp.span,
        hint="move the mean or std a little" if inp.normalization() is not None else
        "feed the raw integers without '-> quant', or pick a scale on the quantizer's grid",
        severity="warning",
    )]
