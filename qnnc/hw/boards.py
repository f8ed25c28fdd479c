"""The board database: FPGA part, resources, default clock and FINN's name for each board.

Sources for the resource counts:
- Zynq-7000 (Z-7020): Xilinx DS190 "Zynq-7000 SoC Data Sheet: Overview", table 1/3
  (53,200 LUT, 106,400 FF, 140 BRAM36 = 280 BRAM18, 220 DSP48E1).
- Zynq UltraScale+ (ZU3EG, ZU7EV, ZU9EG): Xilinx DS891 "Zynq UltraScale+ MPSoC Data Sheet:
  Overview", table 2 (ZU3EG: 70,560 LUT, 141,120 FF, 216 BRAM36, 360 DSP; ZU7EV: 230,400 LUT,
  460,800 FF, 312 BRAM36, 96 URAM, 1,728 DSP; ZU9EG, on the ZCU102: 274,080 LUT, 548,160 FF,
  912 BRAM36, 2,520 DSP).
- Kria K26 SOM (XCK26, on the KV260): Xilinx DS987 "Kria K26 SOM Data Sheet", table 1
  (117,120 LUT, 234,240 FF, 144 BRAM36, 64 URAM, 1,248 DSP).
- Board -> part and FINN board names: FINN's ``finn.util.basic.pynq_part_map`` and
  ``alveo/zynq`` board lists (finn-plus 1.6.1).
- The width of the memory port FINN's Zynq build feeds the accelerator through (its IODMA):
  ``finn.util.basic.pynq_native_port_width`` (64 bits on the Zynq-7000 boards, 128 on
  UltraScale+).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Board:
    name: str
    finn_name: str
    part: str
    lut: int
    ff: int
    bram36: int
    dsp: int
    uram: int = 0
    default_clock_mhz: float = 100.0
    port_bits: int = 64  # FINN's IODMA interface width on this board

    @property
    def bram18(self) -> int:
        return 2 * self.bram36


BOARDS: dict[str, Board] = {
    b.name: b
    for b in (
        Board("pynq-z2", "Pynq-Z2", "xc7z020clg400-1", lut=53200, ff=106400, bram36=140, dsp=220),
        Board("pynq-z1", "Pynq-Z1", "xc7z020clg400-1", lut=53200, ff=106400, bram36=140, dsp=220),
        Board("ultra96-v2", "Ultra96-V2", "xczu3eg-sbva484-1-i", lut=70560, ff=141120, bram36=216, dsp=360,
              port_bits=128),
        Board(
            "zcu104", "ZCU104", "xczu7ev-ffvc1156-2-e", lut=230400, ff=460800, bram36=312, dsp=1728, uram=96,
            port_bits=128,
        ),
        Board("zcu102", "ZCU102", "xczu9eg-ffvb1156-2-e", lut=274080, ff=548160, bram36=912, dsp=2520,
              port_bits=128),
        Board("kv260", "KV260_SOM", "xck26-sfvc784-2LV-c", lut=117120, ff=234240, bram36=144, dsp=1248, uram=64,
              port_bits=128),
    )
}
