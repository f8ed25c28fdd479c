"""What a spec's target block asks of the hardware: the board's capacity, the resources the
utilization caps allow, and the cycles per frame an fps target leaves (as FINN computes it)."""

from __future__ import annotations

import math

from qnnc.hw.boards import BOARDS
from qnnc.hw.solver import budget_of
from qnnc.spec import model as m

MOST_CYCLES = 1 << 62  # more cycles per frame than any design has


def capacity(spec: m.Spec) -> dict[str, float]:
    board = BOARDS[spec.target.board]
    return {"LUT": board.lut, "BRAM_18K": board.bram18, "URAM": board.uram, "DSP": board.dsp}


def budget(spec: m.Spec) -> dict[str, float]:
    """The board's capacity times the spec's caps (URAM shares the BRAM cap)."""
    t = spec.target
    return budget_of(capacity(spec), {"LUT": t.max_lut, "BRAM_18K": t.max_bram, "URAM": t.max_bram,
                                      "DSP": t.max_dsp})


def target_cycles(spec: m.Spec) -> int | None:
    """Cycles per frame the spec's fps leaves (None for 'fps: max'): clock / fps, rounded down
    (a hair of tolerance so that an fps computed from a cycle count gives that count back)."""
    if math.isinf(spec.target.fps):
        return None
    cycles = spec.target.clock_mhz * 1e6 / spec.target.fps + 1e-6
    return max(1, int(min(cycles, MOST_CYCLES)))  # a vanishing fps (1e-310) allows any design


def transfer_cycles(elements: int, bits: int, port_bits: int) -> int:
    """Cycles FINN's IODMA takes to move one frame: AXI streams pad each element to whole bytes
    (at a PE of 1, the most padding), and the DMA moves one port width per cycle."""
    return max(1, math.ceil(elements * 8 * math.ceil(bits / 8) / port_bits))
