"""Power and energy per inference: an estimate from resources and clock, or Vivado's
``report_power`` where a build has one.

The estimate is the accelerator's share of the chip (the programmable logic, PL):

    P = P_static(part) + f_clk * (n_LUT * c_LUT + n_BRAM18 * c_BRAM18 + n_DSP * c_DSP)

c_LUT carries everything in the PL that is neither block RAM nor DSP (logic, registers, carry
chains, routing signals, the clock tree) per LUT, since FINN's estimates count LUTs but not
registers or nets. The coefficients are not guessed: for the Zynq-7000 they are the means, over
the published Vivado ``report_power`` files in ``CALIBRATION`` (routed xc7z020 designs at
100 MHz, three of them FINN accelerators on the PYNQ-Z2), of each resource's power row divided
by its count and the clock. Those reports use Vivado's vectorless activity at 25 C ambient, so
this estimate stands in for a ``report_power`` run, not for a measurement on a board.

The processing system (the Zynq's ARM cores and DDR interface, 1.256 W in every one of those
reports) runs whatever the accelerator does, so it is reported beside the accelerator's power
(``ps_w``, ``system_w``) but left out of the energy per inference that designs are compared on.
Energy per inference is P / FPS: the accelerator runs flat out, one frame after another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from statistics import mean


@dataclass(frozen=True)
class Report:
    """The numbers qnnc reads from one published ``report_power`` (section 1.1, On-Chip
    Components): each row's power in W and its Used count; block RAM counted in 36 Kb tiles."""

    source: str
    clock_mhz: float
    static_w: float
    ps_w: float
    pl_dynamic_w: float  # Dynamic (W) less the PS7 row
    luts: int
    bram36: float
    bram_w: float
    dsps: int = 0
    dsp_w: float = 0.0

    @property
    def bram18(self) -> float:
        return 2 * self.bram36


CALIBRATION: tuple[Report, ...] = (
    # FINN dataflow accelerator (ResNet, CIFAR-10) on the PYNQ-Z2, Vivado 2022.1:
    # Total 1.863, Dynamic 1.714, Device Static 0.149; LUT as Logic 32923; Block RAM 0.037 W, 29
    Report("github.com/bol-edu/2022-fall-ntu Final/High_Accuracy_Image_Classifier_Inference_on_PYNQ-Z2/"
           "impl_result/resnet10_84.51%_vivado_zynq_proj/finn_zynq_link.runs/impl_1/top_wrapper_power_routed.rpt",
           100, static_w=0.149, ps_w=1.256, pl_dynamic_w=1.714 - 1.256, luts=32923, bram36=29, bram_w=0.037),
    # FINN dataflow accelerator (MARS backbone, throughput build) on the PYNQ-Z2:
    # Total 2.119, Dynamic 1.954, Device Static 0.165; LUT as Logic 23269; Block RAM 0.219 W, 99.5
    Report("github.com/WHITE-ICE-BOX/MARS-Reconfigurable-Multi-Task-Capable-Accelerator-for-Ultra-Low-Bit-"
           "Streaming-Inference 05_*/FPGA/results/backbone_throughput/top_wrapper_power_routed.rpt",
           100, static_w=0.165, ps_w=1.256, pl_dynamic_w=1.954 - 1.256, luts=23269, bram36=99.5, bram_w=0.219),
    # FINN dataflow accelerator (MARS compact) on the PYNQ-Z2:
    # Total 1.802, Dynamic 1.649, Device Static 0.153; LUT as Logic 30696; Block RAM 0.131 W, 84
    Report("github.com/WHITE-ICE-BOX/MARS-Reconfigurable-Multi-Task-Capable-Accelerator-for-Ultra-Low-Bit-"
           "Streaming-Inference 05_*/FPGA/results/MARS_compact_5ds_pe1/top_wrapper_power_routed.rpt",
           100, static_w=0.153, ps_w=1.256, pl_dynamic_w=1.649 - 1.256, luts=30696, bram36=84, bram_w=0.131),
    # an HLS binary CNN with DSPs, xc7z020clg400-1, Vivado 2025.2:
    # Total 1.598, Dynamic 1.456, Device Static 0.142; LUT as Logic 9955; Block RAM 0.005 W, 27; DSPs 0.040 W, 75
    Report("github.com/a3d2ddk/Binary-CNN-Accelerator "
           "vivado_project/vivado_project.runs/impl_1/design_1_wrapper_power_routed.rpt",
           100, static_w=0.142, ps_w=1.256, pl_dynamic_w=1.456 - 1.256, luts=9955, bram36=27, bram_w=0.005,
           dsps=75, dsp_w=0.040),
)


@dataclass(frozen=True)
class Coefficients:
    static_w: float  # device static power (Vivado's 'Device Static' at 25 C ambient)
    lut_uw_per_mhz: float  # one LUT with its share of registers, routing and clock tree
    bram18_uw_per_mhz: float
    dsp_uw_per_mhz: float
    ps_w: float  # the processing system's dynamic power, beside the accelerator
    source: str
    calibrated: bool = True  # fitted to published reports of this family, not scaled from another


def calibrate(reports: tuple[Report, ...], basis: str) -> Coefficients:
    """Each coefficient is the mean over the reports that use that resource."""
    per = lambda watts, count, r: watts / count / r.clock_mhz * 1e6  # noqa: E731 - uW per MHz per unit
    with_dsp = [r for r in reports if r.dsps]
    return Coefficients(
        static_w=round(mean(r.static_w for r in reports), 4),
        lut_uw_per_mhz=round(mean(per(r.pl_dynamic_w - r.bram_w - r.dsp_w, r.luts, r) for r in reports), 4),
        bram18_uw_per_mhz=round(mean(per(r.bram_w, r.bram18, r) for r in reports), 3),
        dsp_uw_per_mhz=round(mean(per(r.dsp_w, r.dsps, r) for r in with_dsp), 3),
        ps_w=round(mean(r.ps_w for r in reports), 4),
        source=basis,
    )


ZYNQ7 = calibrate(CALIBRATION, "Zynq-7000: means over 4 published Vivado report_power files of routed xc7z020 "
                               "designs at 100 MHz, vectorless activity, 25 C ambient (qnnc/hw/power.py, CALIBRATION)")
# Zynq UltraScale+ (16 nm, VCCINT 0.85 V): no published report_power was found to calibrate on.
# Dynamic power scales with VCCINT^2 from the 7-series values, (0.85 / 1.0)^2 = 0.72; the static
# and PS figures are placeholders. Uncalibrated: compare designs on these boards with each other only.
_US_BASIS = ("Zynq UltraScale+: UNCALIBRATED (no published report_power found): 7-series dynamic "
             "coefficients scaled by VCCINT^2 (0.72), placeholder static power")


def _ultrascale(static_w: float, scale: float = 0.85 ** 2) -> Coefficients:
    return Coefficients(static_w=static_w, lut_uw_per_mhz=round(ZYNQ7.lut_uw_per_mhz * scale, 4),
                        bram18_uw_per_mhz=round(ZYNQ7.bram18_uw_per_mhz * scale, 3),
                        dsp_uw_per_mhz=round(ZYNQ7.dsp_uw_per_mhz * scale, 3), ps_w=2.2, source=_US_BASIS,
                        calibrated=False)


# placeholder static power grows with the die: ZU3EG 70k LUT, K26 117k, ZU7EV 230k, ZU9EG 274k
COEFFICIENTS: dict[str, Coefficients] = {"xc7z": ZYNQ7, "xczu3": _ultrascale(0.30), "xck26": _ultrascale(0.40),
                                         "xczu7": _ultrascale(0.60), "xczu9": _ultrascale(0.70)}


def coefficients(part: str) -> Coefficients:
    for prefix, coeff in COEFFICIENTS.items():
        if part.startswith(prefix):
            return coeff
    raise KeyError(f"no power coefficients for part {part}")


def dynamic_w(resources: dict, clock_mhz: float, c: Coefficients) -> float:
    return clock_mhz * (resources.get("LUT", 0) * c.lut_uw_per_mhz
                        + resources.get("BRAM_18K", 0) * c.bram18_uw_per_mhz
                        + resources.get("DSP", 0) * c.dsp_uw_per_mhz) / 1e6


def estimate(resources: dict, clock_mhz: float, part: str) -> dict:
    c = coefficients(part)
    dynamic = dynamic_w(resources, clock_mhz, c)
    return {"static_w": c.static_w, "dynamic_w": round(dynamic, 4), "total_w": round(c.static_w + dynamic, 4),
            "ps_w": c.ps_w, "source": "estimate", "basis": c.source,
            "calibrated": c.calibrated}


REPORT_ROWS = {"total_w": r"Total On-Chip Power \(W\)", "dynamic_w": r"Dynamic \(W\)",
               "static_w": r"Device Static \(W\)", "ps_w": r"PS7|PS8|PSS"}


def parse_report_power(text: str) -> dict | None:
    """The summary table of Vivado's ``report_power`` (rows like ``| Dynamic (W) | 0.123 |``),
    with the accelerator's share: the processing system's row taken out."""
    found = {}
    for key, label in REPORT_ROWS.items():
        match = re.search(r"\|\s*(?:" + label + r")\s*\|\s*([0-9.]+)", text)
        if match:
            found[key] = float(match.group(1))
    if "total_w" not in found:
        return None
    found.setdefault("ps_w", 0.0)
    found["total_w"] = round(found["total_w"] - found["ps_w"], 4)
    if "dynamic_w" in found:
        found["dynamic_w"] = round(found["dynamic_w"] - found["ps_w"], 4)
    return found


def vivado_report(root: Path) -> tuple[Path, dict] | None:
    """A ``report_power`` output anywhere in the build directory (FINN's Vivado projects)."""
    for path in sorted(Path(root).rglob("*power*.rpt")):
        parsed = parse_report_power(path.read_text(errors="replace"))
        if parsed:
            return path, parsed
    return None


def for_build(root: Path, resources: dict, clock_mhz: float, part: str, fps: float) -> dict:
    """Vivado's power report where the build has one, qnnc's estimate otherwise; with energy."""
    found = vivado_report(root)
    if found:
        path, result = found
        result = {**result, "source": "vivado report_power", "basis": str(path.relative_to(root))}
    else:
        result = estimate(resources, clock_mhz, part)
    result["system_w"] = round(result["total_w"] + result["ps_w"], 4)
    result["energy_per_inference_uj"] = round(result["total_w"] / fps * 1e6, 6) if fps else None
    return result
