"""FINN's cost model of its matrix unit (MVAU) and of its depthwise vector unit (VVAU), in
plain Python, for ``qnnc lint``.

Lint must answer in well under a second and FINN takes seconds to import, so lint costs the
spec's weight layers with the formulas of FINN's HLS matrix unit (``MVAU_hls``, the one FINN
picks for thresholded layers), the FINN-R model of Blott et al. (2018): cycles
``MH/PE * MW/SIMD * pixels``; LUTs ``300 + 1.1 * PE * (multipliers + adder tree +
accumulator)`` plus LUT-RAM for distributed weights; BRAM18 by the weight memory's depth and
width in simple-dual-port RAMB18 shapes (UG573); URAM for ``ram_style: ultra``; DSPs for
``resType: dsp``; every ``ram_style`` and ``mem_mode`` by FINN's own rules, and weights at the
width FINN's hardware stores them (bipolar weights are INT2 outside XNOR mode). The accumulator
width is the data-type bound (FINN later narrows it to the trained weights), so lint's numbers
are an upper bound for these units. A depthwise convolution's VVAU is the same model on its
K*K window and channels, with FINN's VVAU differences: the thresholds it absorbs counted in
LUTs, one DSP product per PE, its own RAMB18 steps. The other units (window generators,
thresholds, label select) are not costed here. ``tests/test_hw_analytic.py`` checks these
formulas against finn-plus's own, unit by unit; the build always uses FINN's model itself
(``qnnc.backends.finn_units``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

from qnnc.hw.solver import OWN, Choice, Unit

MAX_AP_INT_BITS = 8191  # finn.util.basic.MAX_ALLOWED_AP_INT_W
MOST_OPTIONS = 48  # divisors tried per folding factor at lint time
MAX_WIDTH = 1 << 20  # wider than any FPGA matrix unit: fit is refused without enumerating
RAM_STYLES = ("auto", "block", "distributed", "ultra")  # FINN's ram_style values
MEM_MODES = ("internal_decoupled", "internal_embedded", "external")
RES_TYPES = ("auto", "lut", "dsp")


@dataclass(frozen=True)
class MatrixUnit:
    name: str  # the spec layer
    mw: int  # input width (a conv's K*K*C_in)
    mh: int  # output width
    pixels: int  # output pixels per frame (1 for a linear layer)
    wbits: int  # the spec's weight bits (1: bipolar)
    abits: int  # input bits (1: bipolar)
    signed_input: bool
    depthwise: bool = False  # FINN's vector-vector unit (VVAU): mw is the window K*K, mh the channels
    out_bits: int = 0  # a depthwise unit's thresholded output bits (0: no activation absorbed)

    @property
    def xnor(self) -> bool:
        """Bipolar weights on bipolar inputs: FINN's XNOR-popcount mode, both stored as 0/1."""
        return self.wbits == 1 and self.abits == 1


@dataclass(frozen=True)
class Setting:
    """One folding of a matrix unit, in FINN's attribute names' meaning."""

    pe: int
    simd: int
    ram_style: str = "auto"
    mem_mode: str = "internal_decoupled"
    res_type: str = "auto"

    def attrs(self) -> dict:
        return {"PE": self.pe, "SIMD": self.simd, "ram_style": self.ram_style, "mem_mode": self.mem_mode,
                "resType": self.res_type}


def weight_bits(u: MatrixUnit, s: Setting) -> int:
    """The weight width FINN's hardware uses: outside XNOR mode FINN's bit-width minimization
    stores bipolar +-1 weights as INT2 (external weights are not minimized)."""
    return 2 if u.wbits == 1 and not u.xnor and s.mem_mode != "external" else u.wbits


def cycles(u: MatrixUnit, pe: int, simd: int) -> int:
    return (u.mh // pe) * (u.mw // simd) * u.pixels


def accumulator_bits(u: MatrixUnit, s: Setting) -> int:
    alpha = math.log2(u.mw) + weight_bits(u, s) + u.abits - 1 - int(u.signed_input)
    return math.ceil(alpha + math.log2(1 + 2 ** -alpha) + 1)


def _depth(u: MatrixUnit, s: Setting) -> int:
    return u.mw * u.mh // (s.pe * s.simd)  # FINN's calc_wmem


def _in_luts(u: MatrixUnit, s: Setting) -> bool:
    """Weights in LUT-RAM: FINN's rule (a small embedded memory goes to LUTs as well)."""
    return (s.mem_mode == "internal_decoupled" and s.ram_style == "distributed") or \
        (s.mem_mode == "internal_embedded" and _depth(u, s) <= 128)


def lut(u: MatrixUnit, s: Setting) -> int:
    w, a, q = weight_bits(u, s), u.abits, s.simd
    memory = s.pe * q * w * math.ceil(_depth(u, s) / 64) if _in_luts(u, s) else 0
    multipliers = 0 if s.res_type == "dsp" else q * (2 * math.ceil((w + a) / 6) - 1) * (w + a)
    adder_tree = (w + a) * (2 * q - 1)
    acc = accumulator_bits(u, s)
    thresholds = 0.0
    if u.depthwise and u.out_bits:  # the VVAU counts the thresholds it absorbed, and their comparators
        levels = 2 ** u.out_bits - 1
        thresholds = levels * acc * (u.mh // s.pe) / 64 + levels * acc
    return int(300 + 1.1 * s.pe * (multipliers + adder_tree + acc + thresholds) + memory)


def dsp(u: MatrixUnit, s: Setting) -> int:
    if s.res_type != "dsp":
        return 0
    per_pe = 1 if u.depthwise else s.simd  # FINN's VVAU model counts one product per PE
    return s.pe * per_pe * math.ceil((weight_bits(u, s) + u.abits) / 48)


def bram18(u: MatrixUnit, s: Setting) -> int:
    if u.depthwise:
        return _vvau_bram18(u, s)
    if s.mem_mode == "external" or _in_luts(u, s) or (s.mem_mode == "internal_decoupled" and s.ram_style == "ultra"):
        return 0
    depth = _depth(u, s)
    width = s.pe * s.simd * weight_bits(u, s)
    if width <= 2:  # RAMB18 as 16K x 1 or 8K x 2
        return math.ceil(depth / (16384 // width))
    if width <= 4:
        return math.ceil(depth / 4096)
    if width <= 9:
        return math.ceil(depth / 2048)
    if width <= 18 or depth > 512:
        return math.ceil(depth / 1024) * math.ceil(width / 18)
    return math.ceil(depth / 512) * math.ceil(width / 36)


def _vvau_bram18(u: MatrixUnit, s: Setting) -> int:
    """FINN's VVAU rule: memories of at most 128 words go to LUTs under 'auto' too, and the
    RAMB18 shapes are counted in 4-, 8-, 16- and 32-bit steps."""
    depth, width = _depth(u, s), s.pe * s.simd * weight_bits(u, s)
    if (s.mem_mode == "internal_decoupled" and s.ram_style in ("distributed", "ultra")) or s.mem_mode == "external" \
            or (depth <= 128 and (s.ram_style == "auto" or s.mem_mode == "internal_embedded")):
        return 0
    if width <= 2:
        return math.ceil(depth / (16384 // width))
    if width <= 4:
        return math.ceil(depth / 4096)
    if width <= 9:
        return math.ceil(depth / 2048) * math.ceil(width / 8)
    if width <= 18 or depth > 512:
        return math.ceil(depth / 1024) * math.ceil(width / 16)
    return math.ceil(depth / 512) * math.ceil(width / 32)


def uram(u: MatrixUnit, s: Setting) -> int:
    """FINN's URAM rule, as FINN has it (an embedded memory deeper than 128 counts URAM too,
    except in the VVAU's model)."""
    if u.depthwise and s.mem_mode == "internal_embedded":
        return 0
    if s.mem_mode == "external" or (s.mem_mode == "internal_decoupled" and s.ram_style != "ultra") or \
            (s.mem_mode == "internal_embedded" and _depth(u, s) <= 128):
        return 0
    return math.ceil(s.pe * s.simd * weight_bits(u, s) / 72) * math.ceil(_depth(u, s) / 4096)


def costs(u: MatrixUnit, s: Setting) -> dict[str, float]:
    return {"LUT": lut(u, s), "BRAM_18K": bram18(u, s), "URAM": uram(u, s), "DSP": dsp(u, s)}


def divisors(n: int) -> list[int]:
    """The divisors of n, ascending (trial division up to the square root)."""
    n = int(n)
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


def thinned(values: list[int], most: int = MOST_OPTIONS) -> list[int]:
    """At most ``most`` of a sorted list, evenly spaced by position, first and last kept: a
    layer with thousands of divisor pairs is folded from a representative subset at lint time."""
    if len(values) <= most:
        return values
    picks = {round(i * (len(values) - 1) / (most - 1)) for i in range(most)}
    return [values[i] for i in sorted(picks)]


def storage_options(has_uram: bool) -> tuple[str, ...]:
    """The weight memories the solver chooses among ('block' costs what 'auto' does in FINN's
    model, so it is taken only when a fold line asks for it)."""
    return ("auto", "distributed", "ultra") if has_uram else ("auto", "distributed")


def depthwise_legal(channels: int, pe: int, simd: int) -> bool:
    """FINN's folding rule for a depthwise unit beyond divisibility: its window generator streams
    PE channels at a time, so SIMD (the window's parallelism) grows only once PE takes all
    channels."""
    return simd == 1 or pe == channels


def legal(u: MatrixUnit, pe: int, simd: int) -> bool:
    """Whether FINN's folding rules beyond divisibility allow this PE and SIMD on the unit."""
    return not u.depthwise or depthwise_legal(u.mh, pe, simd)


def unit(u: MatrixUnit, pinned: dict | None = None, has_uram: bool = False) -> Unit:
    """The unit with every legal folding (or only those agreeing with the spec's fold line,
    whose settings are in FINN's attribute names). Layers of one shape and types share one tuple
    of choices (their attributes under ``OWN``), so the solver treats them as a group."""
    shape = dataclasses.replace(u, name="")
    return Unit(name=u.name, layer=u.name, choices=_choices(shape, tuple(sorted((pinned or {}).items())), has_uram))


@functools.lru_cache(maxsize=4096)
def _choices(u: MatrixUnit, pinned_items: tuple, has_uram: bool) -> tuple[Choice, ...]:
    pinned = dict(pinned_items)
    styles = (pinned["ram_style"],) if "ram_style" in pinned else storage_options(has_uram)
    choices = []
    for pe in thinned(divisors(u.mh)):
        for simd in thinned(divisors(u.mw)):
            if pe * simd * weight_bits(u, Setting(pe, simd)) > MAX_AP_INT_BITS and not pinned:
                continue  # FINN's widest ap_int (a fold line is taken as written)
            if not legal(u, pe, simd) and not pinned:
                continue
            for style in styles:
                s = Setting(pe, simd, style, pinned.get("mem_mode", "internal_decoupled"),
                            pinned.get("resType", "auto"))
                attrs = s.attrs()
                if any(attrs[k] != v for k, v in pinned.items()):
                    continue
                choices.append(Choice(attrs={OWN: attrs}, cycles=cycles(u, pe, simd), cost=costs(u, s),
                                      alternative=style != "auto"))
    return tuple(choices)
