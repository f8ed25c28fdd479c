"""FINN's cost model of the units that feed a convolution or a pool, in plain Python, for
``qnnc lint``: the padding unit (FMPadding), the sliding-window generator (the RTL
ConvolutionInputGenerator FINN specializes to) and a max pool's Pool unit.

They hold no weights, so they cost little, but they bound throughput: a padded 3x3 conv on an
8x8 map streams its 10x10 padded input, 102 cycles a frame even at full parallelism, where its
matrix unit alone could do 64. The formulas are finn-plus's own (``get_exp_cycles``,
``get_buffer_depth``, ``lut_estimation`` of ``ConvolutionInputGenerator_rtl``, ``FMPadding``
and ``Pool``), with the window generator's default buffer in LUT-RAM; the choices are the
build's (``qnnc.backends.finn_units``): a generator's SIMD divides its channels, with the
parallel window only at full SIMD; a pool's generator streams as many channels as its Pool's
PE. ``tests/test_hw_windows.py`` checks them against finn-plus, generator by generator.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

from qnnc.hw.analytic import divisors, thinned
from qnnc.hw.solver import OWN, RESOURCES, Choice, Unit

BASE_LUT = 300  # ConvolutionInputGenerator_rtl.lut_estimation's fixed part
LUTRAM_DEPTH = 38  # ... and its LUT-RAM, one LUT per bit of width per 38 words


@dataclass(frozen=True)
class Window:
    """A sliding window as FINN's 4-D hardware layout has it (a 1-D one is [L, 1])."""

    channels: int
    in_dims: tuple[int, int]  # the generator's input: padded, when the layer pads
    out_dims: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    bits: int  # the input's bits
    depthwise: bool = False  # a pool's (or depthwise conv's) generator: channels stream PE at a time

    @property
    def one_d(self) -> bool:
        return 1 in self.in_dims

    def normalized(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
        """FINN's get_1d_conv_attrs_normalized: a 1-D window's dims as [1, D]."""
        if self.in_dims[1] == 1:
            return self.in_dims[::-1], self.out_dims[::-1], self.kernel[::-1], self.stride[::-1]
        return self.in_dims, self.out_dims, self.kernel, self.stride


def impl_style(w: Window, parallel: bool) -> str:
    return "parallel" if parallel or w.kernel == (1, 1) else "default"


def buffer_depth(w: Window, simd: int, parallel: bool = False) -> int:
    (k_h, k_w), (_, width), (s_h, s_w) = w.kernel, w.in_dims, w.stride
    fold = w.channels // simd
    if impl_style(w, parallel) == "parallel":
        return ((k_h - 1) * width + (k_w - 1)) * fold + 2
    return ((k_h - 1) * width + k_w) * fold + max(0, (s_w - 1 - k_h * k_w) * fold) \
        + max(0, ((s_h - 1) * width - k_h * k_w) * fold)


def generator_cycles(w: Window, simd: int, parallel: bool = False) -> int:
    fold = w.channels // simd
    if impl_style(w, parallel) == "parallel":
        return math.prod(w.in_dims) * fold + 2
    (_, in_w), (out_h, out_w), (k_h, k_w), (s_h, s_w) = w.normalized()
    if w.one_d:
        if w.depthwise:
            out = out_w * k_w * fold + (fold - 1) * k_w
            return max(out, in_w * fold + fold * (k_w - 1) * (s_w - 1)) + 2
        return out_w * k_w * fold + 2
    longest = max(out_w * k_w * k_h * fold, s_w * in_w * fold)
    if w.depthwise:
        longest += out_w * (s_w - 1) * (fold - 1)
    cycles = ((k_h - 1) * in_w + k_w) * fold + out_h * longest
    return cycles + ((s_h - 1) * in_w * fold if w.depthwise else 0)


def generator_luts(w: Window, simd: int, parallel: bool = False) -> int:
    return BASE_LUT + simd * w.bits * math.ceil(buffer_depth(w, simd, parallel) / LUTRAM_DEPTH)


def padding_cycles(channels: int, padded: tuple[int, int], simd: int) -> int:
    return channels // simd * math.prod(padded)


def pool_cycles(w: Window, pe: int) -> int:
    return w.channels * math.prod(w.kernel) // pe * math.prod(w.out_dims)


def _cost(luts: int) -> dict[str, float]:
    return {**dict.fromkeys(RESOURCES, 0), "LUT": luts}


def generator_unit(name: str, w: Window, simd: int | None = None) -> Unit:
    """A conv's window generator: SIMD divides the channels, the parallel window at full SIMD
    (a fold line's SIMD, where it divides the channels, is kept)."""
    simds = [simd] if simd else thinned(divisors(w.channels))
    choices = [Choice({OWN: {"SIMD": s}}, generator_cycles(w, s), _cost(generator_luts(w, s))) for s in simds]
    if w.kernel != (1, 1) and w.channels in simds:
        choices.append(Choice({OWN: {"SIMD": w.channels, "parallel_window": 1}},
                              generator_cycles(w, w.channels, True), _cost(generator_luts(w, w.channels, True))))
    return Unit(name=name, layer=name, choices=tuple(choices))


def padding_unit(name: str, channels: int, padded: tuple[int, int]) -> Unit:
    return Unit(name=name, layer=name, choices=tuple(
        Choice({OWN: {"SIMD": s}}, padding_cycles(channels, padded, s), _cost(0))
        for s in thinned(divisors(channels))))


def pool_unit(name: str, w: Window, pe: int | None = None) -> Unit:
    """A max pool: its Pool unit and its depthwise window generator, one PE for both."""
    return Unit(name=name, layer=name, choices=tuple(
        Choice({OWN: {"PE": p}}, max(pool_cycles(w, p), generator_cycles(w, p)), _cost(generator_luts(w, p)))
        for p in ([pe] if pe else thinned(divisors(w.channels)))))


def with_generator(unit: Unit, w: Window) -> Unit:
    """A depthwise unit (VVAU) with the window generator that feeds it PE channels at a time."""
    return dataclasses.replace(unit, choices=_with_generator(unit.choices, w))


@functools.lru_cache(maxsize=1024)
def _with_generator(choices: tuple[Choice, ...], w: Window) -> tuple[Choice, ...]:
    def with_window(c: Choice) -> Choice:
        pe = c.attrs[OWN]["PE"]
        return Choice(c.attrs, max(c.cycles, generator_cycles(w, pe)),
                      {**c.cost, "LUT": c.cost["LUT"] + generator_luts(w, pe)}, c.alternative)
    return tuple(with_window(c) for c in choices)
