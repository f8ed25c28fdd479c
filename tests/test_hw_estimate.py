"""`qnnc estimate` end to end on a real FINN flow: the folding qnnc chooses is costed by FINN's
own model, so FINN's reports must show exactly what the solver predicted; the design fits the
caps; an fps target gets a cheaper design than 'fps: max'; lint's bound holds."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, bit_exact_untrained
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.hw import analytic
from qnnc.passes.fit import matrix_units
from qnnc.pipeline.runner import estimate_untrained

MLP = ROOT / "specs" / "digits_mlp_w2a2.qnn"
pytestmark = pytest.mark.slow


def run(text: str, root):
    comp = Compilation(Source(text, str(MLP)))
    return comp, estimate_untrained(comp, root, log=lambda line: None), root


@pytest.fixture(scope="module")
def fastest(tmp_path_factory):
    return run(MLP.read_text(), tmp_path_factory.mktemp("max"))


def test_finns_reports_show_what_the_solver_predicted(fastest):
    _, summary, _ = fastest
    folding = summary["folding"]
    assert folding["mode"] == "fastest that fits" and folding["fits"]
    for key in ("LUT", "BRAM_18K", "DSP"):
        assert summary["resources"][key] == pytest.approx(folding["totals"][key])
        assert summary["resources"][key] <= folding["budget"][key]
    assert summary["fps"] == pytest.approx(folding["fps"])
    assert summary["bottleneck"] == folding["bottleneck"]


def test_the_folding_json_is_what_finn_applied(fastest):
    comp, summary, root = fastest
    config = json.loads((root / "finn" / "folding_config.json").read_text())
    applied = json.loads((root / "finn" / "report" / "applied_folding_config.json").read_text())
    for node, attrs in config.items():
        if node != "Defaults":
            assert {k: applied[node][k] for k in attrs} == attrs
    widths = {u.name: (u.mw, u.mh) for u in matrix_units(comp.spec, comp.facts)}
    for row in summary["per_layer"]:
        if row["node"].startswith("MVAU"):
            mw, mh = widths[row["layer"]]
            assert mw % row["folding"]["SIMD"] == 0 and mh % row["folding"]["PE"] == 0
    assert (root / "estimate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["power"]["energy_per_inference_uj"] == pytest.approx(
        summary["power"]["total_w"] / summary["fps"] * 1e6, rel=1e-3)


def test_lints_matrix_unit_costs_bound_finns_from_above(fastest):
    comp, summary, _ = fastest
    units = {u.name: u for u in matrix_units(comp.spec, comp.facts)}
    for row in summary["per_layer"]:
        if row["node"].startswith("MVAU"):
            u, f = units[row["layer"]], row["folding"]
            assert analytic.cycles(u, f["PE"], f["SIMD"]) == row["cycles"]
            setting = analytic.Setting(f["PE"], f["SIMD"], f["ram_style"])
            assert analytic.bram18(u, setting) == row["BRAM_18K"]
            lut = analytic.lut(u, setting)
            assert row["LUT"] <= lut <= row["LUT"] * 1.1  # FINN narrows the accumulator to the weights


def test_an_fps_target_gets_the_cheapest_design_that_meets_it(fastest, tmp_path):
    _, best, _ = fastest
    wanted = best["fps"] / 8
    _, summary, _ = run(MLP.read_text().replace("fps: max", f"fps: {wanted:.0f}"), tmp_path)
    assert summary["folding"]["mode"] == "cheapest that meets the target"
    assert summary["fps"] >= wanted
    assert summary["resources"]["LUT"] < best["resources"]["LUT"]


@pytest.mark.slow
def test_a_bias_on_every_layer_even_the_last_maps_where_an_activation_follows(tmp_path):
    """Biases on a conv, a linear layer and the last layer, each followed by an activation
    whose thresholds absorb it: bit-exact through FINN with initial weights, every layer in
    hardware (the label output's case, a bias LabelSelect cannot add, is Q042)."""
    text = """
network n {
  input uint8[1, 8, 8] scale 1/15 -> quant uint4
  defaults { weights: 2 bit, acts: 2 bit }
  conv2d c0 (8, kernel=3, bias=true) + batchnorm + act relu
  flatten
  linear fc0 (16, bias=true) + act relu
  linear out (10, bias=true) + act hardtanh 8 bit -> logits
}
train { dataset: digits, epochs: 1 }
target pynq-z2 { }
"""
    comp = Compilation(Source(text, "t.qnn"))
    assert comp.diagnostics() == []
    model, owners = bit_exact_untrained(comp, tmp_path / "b")
    assert {"c0", "fc0", "out"} <= set(owners.values())  # and nothing left outside (the estimate's Q042)
    assert [n.op_type for n in model.graph.node].count("MVAU_hls") == 3
