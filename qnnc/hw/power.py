"""Power and energy per inference: an estimate from resources, clock and activity, or Vivado's
``report_power`` where a build has one.

The estimate is  P = P_static(part) + f_clk * (n_LUT * c_LUT + n_BRAM18 * c_BRAM + n_DSP * c_DSP),
with the dynamic coefficients in microwatts per MHz at the default switching activity that
Xilinx's power tools assume (12.5 % toggle rate, 50 % BRAM enable). Energy per inference is
P / FPS: the accelerator runs flat out, one frame after another. Every number is labelled an
estimate; the coefficients and where they come from are in ``COEFFICIENTS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Coefficients:
    static_w: float  # device static power at 25 °C ambient, typical process
    lut_uw_per_mhz: float  # one LUT of logic with its share of routing and flip-flops
    bram18_uw_per_mhz: float
    dsp_uw_per_mhz: float
    source: str


ACTIVITY = ("switching activity: Xilinx's power-tool defaults, 12.5 % toggle rate and average fanout 3 "
            "(UG440, Xilinx Power Estimator User Guide, 'Using the Logic Sheet')")
PROVISIONAL = ("per-resource coefficients are qnnc's provisional working values, not yet taken from XPE's "
               "tables: treat the result as an order of magnitude, for comparing designs on one board, "
               "until calibrated against Vivado report_power")
COEFFICIENTS: dict[str, Coefficients] = {
    # Zynq-7000, 28 nm HPL, VCCINT 1.0 V: PL static ~0.1 W at 25 °C
    "xc7z": Coefficients(static_w=0.10, lut_uw_per_mhz=0.020, bram18_uw_per_mhz=2.0, dsp_uw_per_mhz=1.0,
                         source=f"{ACTIVITY}; {PROVISIONAL}"),
    # Zynq UltraScale+, 16 nm FinFET, VCCINT 0.85 V: lower dynamic, higher static for the larger PL
    "xczu3": Coefficients(static_w=0.30, lut_uw_per_mhz=0.012, bram18_uw_per_mhz=1.2, dsp_uw_per_mhz=0.6,
                          source=f"{ACTIVITY}; {PROVISIONAL}"),
    "xczu7": Coefficients(static_w=0.60, lut_uw_per_mhz=0.012, bram18_uw_per_mhz=1.2, dsp_uw_per_mhz=0.6,
                          source=f"{ACTIVITY}; {PROVISIONAL}"),
}


def coefficients(part: str) -> Coefficients:
    for prefix, coeff in COEFFICIENTS.items():
        if part.startswith(prefix):
            return coeff
    raise KeyError(f"no power coefficients for part {part}")


def estimate(resources: dict, clock_mhz: float, part: str) -> dict:
    c = coefficients(part)
    dynamic_uw = clock_mhz * (resources.get("LUT", 0) * c.lut_uw_per_mhz
                              + resources.get("BRAM_18K", 0) * c.bram18_uw_per_mhz
                              + resources.get("DSP", 0) * c.dsp_uw_per_mhz)
    dynamic_w = dynamic_uw / 1e6
    return {"static_w": c.static_w, "dynamic_w": round(dynamic_w, 4), "total_w": round(c.static_w + dynamic_w, 4),
            "source": "estimate", "basis": c.source}


REPORT_ROWS = {"total_w": "Total On-Chip Power (W)", "dynamic_w": "Dynamic (W)", "static_w": "Device Static (W)"}


def parse_report_power(text: str) -> dict | None:
    """The summary table of Vivado's ``report_power`` (rows like ``| Dynamic (W) | 0.123 |``)."""
    found = {}
    for key, label in REPORT_ROWS.items():
        match = re.search(r"\|\s*" + re.escape(label) + r"\s*\|\s*([0-9.]+)", text)
        if match:
            found[key] = float(match.group(1))
    return found if "total_w" in found else None


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
    result["energy_per_inference_uj"] = round(result["total_w"] / fps * 1e6, 6) if fps else None
    return result
