"""Power and energy per inference: the estimate is calibrated on published Vivado reports and
predicts each of them within a stated tolerance, grows with resources and clock, energy is
power over throughput, and a Vivado power report replaces the estimate when a build has one."""

from __future__ import annotations

import pytest

from qnnc.hw import power
from qnnc.hw.boards import BOARDS

PART = BOARDS["pynq-z2"].part
REPORT = """\
1. Summary
----------

+--------------------------+--------------+
| Total On-Chip Power (W)  | 1.612        |
| Design Power Budget (W)  | Unspecified* |
| Dynamic (W)              | 1.466        |
| Device Static (W)        | 0.146        |
| Effective TJA (C/W)      | 11.5         |
+--------------------------+--------------+
"""


def test_the_estimate_grows_with_resources_and_clock():
    small = power.estimate({"LUT": 5000, "BRAM_18K": 10, "DSP": 0}, 100, PART)
    big = power.estimate({"LUT": 40000, "BRAM_18K": 100, "DSP": 20}, 100, PART)
    fast = power.estimate({"LUT": 5000, "BRAM_18K": 10, "DSP": 0}, 200, PART)
    assert small["static_w"] == big["static_w"] > 0
    assert 0 < small["dynamic_w"] < big["dynamic_w"]
    assert fast["dynamic_w"] == pytest.approx(2 * small["dynamic_w"], rel=1e-3)
    assert small["source"] == "estimate" and small["basis"]


def test_the_zynq7_coefficients_are_the_calibration_reports_means():
    c = power.coefficients(PART)
    assert c is power.ZYNQ7 and "4 published Vivado report_power files" in c.source
    assert (c.static_w, c.lut_uw_per_mhz, c.bram18_uw_per_mhz, c.dsp_uw_per_mhz, c.ps_w) == (
        0.1522, 0.1437, 6.527, 5.333, 1.256)


@pytest.mark.parametrize("report", power.CALIBRATION, ids=lambda r: r.source.split("/")[-1])
def test_the_estimate_predicts_each_published_report_within_a_factor_of_1_6(report):
    resources = {"LUT": report.luts, "BRAM_18K": report.bram18, "DSP": report.dsps}
    predicted = power.dynamic_w(resources, report.clock_mhz, power.ZYNQ7)
    assert 1 / 1.6 < predicted / report.pl_dynamic_w < 1.6  # measured spread: 0.665 ... 1.40
    assert abs(power.ZYNQ7.static_w - report.static_w) < 0.015


def test_ultrascale_boards_say_they_are_uncalibrated():
    for board in BOARDS.values():
        if board.part.startswith("xczu"):
            assert power.coefficients(board.part).source.startswith("Zynq UltraScale+: UNCALIBRATED")


def test_every_board_has_coefficients():
    for board in BOARDS.values():
        assert power.coefficients(board.part).static_w > 0


def test_energy_is_power_over_throughput(tmp_path):
    result = power.for_build(tmp_path, {"LUT": 8000, "BRAM_18K": 20, "DSP": 0}, 100, PART, fps=1e6)
    assert result["energy_per_inference_uj"] == pytest.approx(result["total_w"] / 1e6 * 1e6, rel=1e-3)
    assert result["system_w"] == pytest.approx(result["total_w"] + 1.256)  # the PS is beside, not in, the energy


def test_vivados_report_power_is_used_when_the_build_has_one(tmp_path):
    report = tmp_path / "finn" / "vivado_zynq_proj" / "top_wrapper_power_routed.rpt"
    report.parent.mkdir(parents=True)
    report.write_text(REPORT)
    result = power.for_build(tmp_path, {"LUT": 8000, "BRAM_18K": 20, "DSP": 0}, 100, PART, fps=2e6)
    assert result["source"] == "vivado report_power"
    assert (result["total_w"], result["dynamic_w"], result["static_w"]) == (1.612, 1.466, 0.146)
    assert result["energy_per_inference_uj"] == pytest.approx(1.612 / 2e6 * 1e6)
    assert result["basis"] == "finn/vivado_zynq_proj/top_wrapper_power_routed.rpt"


def test_the_processing_systems_row_is_taken_out_of_vivados_totals(tmp_path):
    report = tmp_path / "finn" / "top_wrapper_power_routed.rpt"
    report.parent.mkdir(parents=True)
    report.write_text(REPORT.replace("1.612", "2.868").replace("1.466", "2.722") + """
| Block RAM                |     0.037 |       29 |       140 |           20.71 |
| PS7                      |     1.256 |        1 |       --- |             --- |
""")
    result = power.for_build(tmp_path, {}, 100, PART, fps=1e6)
    assert (result["total_w"], result["dynamic_w"], result["ps_w"], result["system_w"]) == (1.612, 1.466, 1.256, 2.868)
    assert result["energy_per_inference_uj"] == pytest.approx(1.612)
