"""FINN's cost model of its matrix unit (MVAU), in plain Python, for ``qnnc lint``.

Lint must answer in well under a second and FINN takes seconds to import, so lint costs the
spec's weight layers with the formulas of FINN's HLS matrix unit (``MVAU_hls``, the one FINN
picks for thresholded layers), the FINN-R model of Blott et al. (2018): cycles
``MH/PE * MW/SIMD * pixels``; LUTs ``300 + 1.1 * PE * (multipliers + adder tree +
accumulator)`` plus LUT-RAM for distributed weights; BRAM18 by the weight memory's depth and
width in simple-dual-port RAMB18 shapes (UG573). The accumulator width is the data-type bound
(FINN later narrows it to the trained weights), so lint's numbers are an upper bound for these
units; the other units (window generators, thresholds, label select) are not costed here.
``tests/test_hw_analytic.py`` checks these formulas against finn-plus's own, unit by unit; the
build always uses FINN's model itself (``qnnc.hw.finn_units``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qnnc.hw.solver import Choice, Unit

MAX_AP_INT_BITS = 8191  # finn.util.basic.MAX_ALLOWED_AP_INT_W
MOST_OPTIONS = 48  # divisors tried per folding factor at lint time
MAX_WIDTH = 1 << 20  # wider than any FPGA matrix unit: fit is refused without enumerating
RAM_STYLES = ("auto", "distributed")


@dataclass(frozen=True)
class MatrixUnit:
    name: str  # the spec layer
    mw: int  # input width (a conv's K*K*C_in)
    mh: int  # output width
    pixels: int  # output pixels per frame (1 for a linear layer)
    wbits: int
    abits: int
    signed_input: bool


def cycles(u: MatrixUnit, pe: int, simd: int) -> int:
    return (u.mh // pe) * (u.mw // simd) * u.pixels


def accumulator_bits(u: MatrixUnit) -> int:
    alpha = math.log2(u.mw) + u.wbits + u.abits - 1 - int(u.signed_input)
    return math.ceil(alpha + math.log2(1 + 2 ** -alpha) + 1)


def lut(u: MatrixUnit, pe: int, simd: int, ram_style: str = "auto") -> int:
    w, a = u.wbits, u.abits
    memory = pe * simd * w * math.ceil(u.mw * u.mh // (pe * simd) / 64) if ram_style == "distributed" else 0
    multipliers = simd * (2 * math.ceil((w + a) / 6) - 1) * (w + a)
    adder_tree = (w + a) * (2 * simd - 1)
    return int(300 + 1.1 * pe * (multipliers + adder_tree + accumulator_bits(u)) + memory)


def bram18(u: MatrixUnit, pe: int, simd: int, ram_style: str = "auto") -> int:
    if ram_style in ("distributed", "ultra"):
        return 0
    depth = u.mw * u.mh / (pe * simd)
    width = pe * simd * u.wbits
    if width <= 2:  # RAMB18 as 16K x 1 or 8K x 2
        return math.ceil(depth / (16384 // width))
    if width <= 4:
        return math.ceil(depth / 4096)
    if width <= 9:
        return math.ceil(depth / 2048)
    if width <= 18 or depth > 512:
        return math.ceil(depth / 1024) * math.ceil(width / 18)
    return math.ceil(depth / 512) * math.ceil(width / 36)


def divisors(n: int) -> list[int]:
    """The divisors of n, ascending (trial division up to the square root)."""
    n = int(n)
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


def thinned(values: list[int], most: int = MOST_OPTIONS) -> list[int]:
    """At most ``most`` of a sorted list, spread evenly in log scale, first and last kept: a
    layer with thousands of divisor pairs is folded from a representative subset at lint time."""
    if len(values) <= most:
        return values
    picks = {round(i * (len(values) - 1) / (most - 1)) for i in range(most)}
    return [values[i] for i in sorted(picks)]


def unit(u: MatrixUnit, pinned: dict | None = None) -> Unit:
    """The unit with every legal folding (or only those agreeing with the spec's fold line)."""
    pinned = pinned or {}
    choices = []
    for pe in thinned(divisors(u.mh)):
        for simd in thinned(divisors(u.mw)):
            if pe * simd * u.wbits > MAX_AP_INT_BITS and not pinned:
                continue  # FINN's widest ap_int (a fold line is taken as written)
            for style in RAM_STYLES:
                attrs = {"PE": pe, "SIMD": simd, "ram_style": style}
                if any(attrs.get(k, v) != v for k, v in pinned.items()):
                    continue
                cost = {"LUT": lut(u, pe, simd, style), "BRAM_18K": bram18(u, pe, simd, style), "URAM": 0, "DSP": 0}
                choices.append(Choice(attrs={u.name: attrs}, cycles=cycles(u, pe, simd), cost=cost,
                                      alternative=style != "auto"))
    return Unit(name=u.name, layer=u.name, choices=tuple(choices))
