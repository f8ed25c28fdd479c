"""Does the design fit the board? The weight layers are costed with FINN's matrix-unit model
(``qnnc.hw.analytic``), the padding, window generators and max pools that feed convolutions
and pools with FINN's models of those (``qnnc.hw.windows``), and folded by the same solver the
build uses: the spec's fold lines are kept, the other layers get the folding the build would
choose. A design whose layers exceed the board's caps, or cannot reach the spec's fps, is an
error naming the layer that costs most (or is slowest) and the best throughput that would fit.
Not costed: standalone thresholds (tens of LUTs), label select, average pools and a residual
block's DuplicateStreams and ElementwiseAdd (no LUTs in FINN's model), which at full
parallelism take a frame's pixels, no more than the layers around them."""

from __future__ import annotations

import math

from qnnc.errors import Diagnostic
from qnnc.hw import analytic, solver
from qnnc.hw import windows as windows_model
from qnnc.hw.boards import BOARDS
from qnnc.passes.facts import Facts
from qnnc.passes.quant import summed_bits
from qnnc.spec import model as m
from qnnc.spec import target as hw_target

PARTS = {"window": " (its sliding-window generator)", "padding": " (its padding unit)"}
SHORT = {"LUT": "LUT", "BRAM_18K": "BRAM18", "URAM": "URAM", "DSP": "DSP"}


def value_type(inp: m.InputSpec) -> tuple[int, str]:
    """Bits and kind ('bipolar', 'signed', 'unsigned') of the network's input after its quantizer."""
    t = inp.value_type
    return t.bits, "bipolar" if t.kind == "bipolar" else "signed" if t.signed else "unsigned"


def _walk(spec: m.Spec, facts: Facts):
    """Each layer of the network with its index, shapes and the value type entering it (bits,
    kind), which a residual block's add resets to the block input's (passes.residual)."""
    bits, kind = value_type(spec.network.input)
    entering: dict[str, tuple[int, str]] = {}  # residual block -> the value type at its start
    for i, layer in enumerate(spec.network.layers):
        if isinstance(layer, m.Residual):
            entering[layer.name] = bits, kind
        elif isinstance(layer, m.Add):
            bits, kind = entering[layer.block]
            continue
        shape = facts.shape_of(layer.name)
        yield i, layer, shape, bits, kind
        if isinstance(layer, m.AvgPool):
            bits = summed_bits(layer, shape.inp, bits)
        elif isinstance(layer, m.Act):
            bits, kind = (1, "bipolar") if layer.func == "bipolar" else \
                (layer.bits, "unsigned" if layer.func == "relu" else "signed")


def matrix_units(spec: m.Spec, facts: Facts) -> list[analytic.MatrixUnit]:
    found = []
    layers = spec.network.layers
    for i, layer, shape, bits, kind in _walk(spec, facts):
        if isinstance(layer, m.WeightLayer):
            window = math.prod(layer.window) if isinstance(layer, m.Conv) else 1
            pixels = math.prod(shape.out[1:]) if isinstance(layer, m.Conv) else 1
            xnor = layer.weights == 1 and kind == "bipolar"  # FINN's XNOR mode: inputs as 0/1
            depthwise = isinstance(layer, m.Conv) and layer.depthwise
            found.append(analytic.MatrixUnit(
                name=layer.name, mw=window if depthwise else shape.inp[0] * window, mh=shape.out[0], pixels=pixels,
                wbits=layer.weights, abits=bits, signed_input=kind != "unsigned" and not xnor,
                depthwise=depthwise, out_bits=_activation_bits(layers[i + 1:]) if depthwise else 0))
    return found


def _hw_dims(dims, pad: int = 0) -> tuple[int, int]:
    """A map's [H, W] (or a 1-D one's [L, 1]) as FINN's hardware layout has it, padded."""
    return (dims[0] + 2 * pad, dims[1] + 2 * pad) if len(dims) == 2 else (dims[0] + 2 * pad, 1)


def windows(spec: m.Spec, facts: Facts) -> dict[str, windows_model.Window]:
    """Spec layer -> the sliding window FINN builds for it: every conv but a pointwise one
    (1x1, stride 1, no padding), and every max pool."""
    found = {}
    for _, layer, shape, bits, _kind in _walk(spec, facts):
        one_d = len(shape.inp) == 2
        if isinstance(layer, m.Conv):
            if layer.window == (1, 1) and layer.stride == 1 and layer.padding == 0:
                continue
            stride = (layer.stride, 1) if one_d else (layer.stride, layer.stride)
            found[layer.name] = windows_model.Window(
                shape.inp[0], _hw_dims(shape.inp[1:], layer.padding), _hw_dims(shape.out[1:]), layer.window, stride,
                bits, depthwise=layer.depthwise)
        elif isinstance(layer, m.MaxPool):
            kernel = (layer.kernel, 1) if one_d else (layer.kernel, layer.kernel)
            step = layer.stride or layer.kernel
            found[layer.name] = windows_model.Window(
                shape.inp[0], _hw_dims(shape.inp[1:]), _hw_dims(shape.out[1:]), kernel,
                (step, 1) if one_d else (step, step), bits, depthwise=True)
    return found


def _activation_bits(after) -> int:
    """The bits of the activation FINN absorbs into a unit as thresholds: the first quantized
    activation after it, past batchnorm and dropout (0: none)."""
    for layer in after:
        if isinstance(layer, m.Act):
            return layer.bits
        if not isinstance(layer, (m.BatchNorm, m.Dropout)):
            return 0
    return 0


IO_UNIT = "input DMA"


def io_unit(spec: m.Spec) -> solver.Unit:
    """FINN's input DMA: one frame of raw input (before the input quantizer) through the board's
    memory port."""
    inp = spec.network.input
    board = BOARDS[spec.target.board]
    return solver.io_unit(IO_UNIT, hw_target.transfer_cycles(math.prod(inp.shape), inp.raw_type.bits,
                                                             board.port_bits))


def _units(spec: m.Spec, facts: Facts, pinned: bool = True) -> list[solver.Unit]:
    pins = (facts.folding or {}) if pinned else {}
    has_uram = hw_target.capacity(spec)["URAM"] > 0
    found = windows(spec, facts)
    units = []
    for u in matrix_units(spec, facts):
        unit = analytic.unit(u, pins.get(u.name), has_uram)
        window = found.pop(u.name, None)
        if window is not None and window.in_dims != _hw_dims(facts.shape_of(u.name).inp[1:]):
            units.append(windows_model.padding_unit(f"{u.name} padding", window.channels, window.in_dims))
        if window is not None and u.depthwise:  # its generator streams the VVAU's PE channels at a time
            unit = windows_model.with_generator(unit, window)
        elif window is not None:
            simd = pins.get(u.name, {}).get("SIMD")
            units.append(windows_model.generator_unit(
                f"{u.name} window", window, simd if simd and window.channels % simd == 0 else None))
        units.append(unit)
    # the windows left are the max pools'
    units += [windows_model.pool_unit(name, window, pins.get(name, {}).get("PE")) for name, window in found.items()]
    return [*units, io_unit(spec)]


def solve(spec: m.Spec, facts: Facts) -> solver.Solution:
    """The design the build's solver would choose for the weight layers and the board's input,
    the spec's fold lines kept."""
    capacity, allowed, target = hw_target.capacity(spec), hw_target.budget(spec), hw_target.target_cycles(spec)
    units = _units(spec, facts)
    return solver.fastest(units, allowed, capacity) if target is None else \
        solver.cheapest(units, allowed, capacity, target)


def fastest_free(spec: m.Spec, facts: Facts) -> solver.Solution:
    """The fastest design that fits with no fold line."""
    return solver.fastest(_units(spec, facts, pinned=False), hw_target.budget(spec), hw_target.capacity(spec))


def check_fit(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    mus = matrix_units(spec, facts)
    if not mus:
        return facts, []
    huge = next((u for u in mus if max(u.mw, u.mh) > analytic.MAX_WIDTH), None)
    if huge is not None:
        layer = next(layer for layer in spec.network.layers if layer.name == huge.name)
        return facts, [Diagnostic(
            "Q070", f"the design does not fit {spec.target.board}: layer '{huge.name}' is {huge.mw:,} wide in and "
            f"{huge.mh:,} out, more than any FPGA matrix unit", layer.span, hint="narrow the layer")]
    found = solve(spec, facts)
    target = hw_target.target_cycles(spec)
    if found.fits and (target is None or found.cycles <= target):
        return facts, []
    free = fastest_free(spec, facts) if facts.folding or target is not None else found  # else the same design
    return facts, [_diagnostic(spec, found, free, hw_target.budget(spec), hw_target.capacity(spec), target)]


def _diagnostic(spec, found, free, allowed, capacity, target) -> Diagnostic:
    clock = spec.target.clock_mhz
    best = (f"the fastest folding that fits gives {free.fps(clock):,.0f} FPS at {clock:g} MHz"
            if free.fits else "even folded fully (PE = SIMD = 1) the weight layers do not fit: narrow the "
            "layers, lower their bit-widths, prune, or pick a larger board")
    if not found.fits:
        over = [r for r in allowed if found.totals[r] > allowed[r]]
        settings = found.attrs()
        weights = [n for n, a in settings.items() if {"PE", "SIMD"} <= set(a)]  # the weight layers
        name = max(weights, key=lambda n: sum(found.picks[n].cost[r] / max(allowed[r], 1) for r in over))
        pick = found.picks[name]
        need = ", ".join(f"{found.totals[r]:,.0f} {SHORT[r]} ({found.totals[r] / capacity[r] * 100:.0f} % of the "
                         f"board, cap {allowed[r] / capacity[r] * 100:.0f} %)" for r in over)
        fold = spec.target.folds.get(name)
        span = fold.span if fold is not None else spec.target.span_of("fps")
        attrs = settings[name]
        at = "" if target is None else f" at fps {spec.target.fps:,.0f}"
        return Diagnostic(
            "Q070", f"the design does not fit {spec.target.board}{at}: its layers need {need}", span,
            hint=f"the costliest layer is '{name}' (pe {attrs['PE']}, simd {attrs['SIMD']}: "
                 f"{pick.cost['LUT']:,.0f} LUT, {pick.cost['BRAM_18K']:,.0f} BRAM18); {best}")
    if found.picks[IO_UNIT].cycles > target:  # the board's I/O alone misses it, whatever the layers do
        board = BOARDS[spec.target.board]
        return Diagnostic(
            "Q071", f"fps {spec.target.fps:,.0f} is out of reach on {spec.target.board}: one input frame takes "
            f"{found.cycles:,} cycles through the board's {board.port_bits}-bit memory port at {clock:g} MHz, "
            f"and {target:,} are allowed", spec.target.span_of("fps"),
            hint=f"at most {free.fps(clock):,.0f} FPS whatever the folding; a faster clock or a smaller input "
                 "moves the ceiling; write 'fps: max' for the fastest design that fits")
    layer, _, part = found.bottleneck.partition(" ")  # a conv's window generator or padding: "conv0 window"
    fold = spec.target.folds.get(layer)
    how = "as its fold line sets it" if fold is not None else "even at its fastest folding"
    return Diagnostic(
        "Q071", f"fps {spec.target.fps:,.0f} is out of reach on {spec.target.board}: layer "
        f"'{layer}'{PARTS.get(part, '')} needs {found.cycles:,} cycles per frame {how}, and {target:,} are allowed at "
        f"{clock:g} MHz", fold.span if fold is not None else spec.target.span_of("fps"),
        hint=f"{best}; write 'fps: max' for the fastest design that fits")
