"""A spec that lints clean must build: lint's fit verdict (fits / does not fit / out of reach)
equals the estimate's, on FINN itself, for the example specs and for generated variants of them
(fps targets, utilization caps, published foldings with every ram_style); and every unit FINN
adds is folded legally (the Reshape of an 8x8 input once got PE 16)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from conftest import ROOT, SPECS
from qnnc.compiler import Compilation
from qnnc.errors import Source, SpecError
from qnnc.passes import PASSES, analyze, fit

pytestmark = pytest.mark.slow
FIT_CODES = {"Q070", "Q071"}


class WithoutLintFit(Compilation):
    """The build's view of a spec with lint's fit pass left out, so FINN judges the fit itself."""

    @property
    def _analysis(self):
        return analyze(self.spec, tuple(p for p in PASSES if p.name != "fit"))


def lint_verdict(text: str) -> tuple[str, float | None]:
    comp = Compilation(Source(text, "t.qnn"))
    codes = {d.code for d in comp.diagnostics() if d.is_error}
    assert codes <= FIT_CODES, codes  # the cases are legal but for their fit
    if codes:
        return sorted(codes)[0], None
    found = fit.solve(comp.spec, comp.facts)
    return "fits", found.fps(comp.spec.target.clock_mhz)


def estimate_verdict(text: str, out: Path) -> tuple[str, dict | None]:
    from qnnc.pipeline.runner import estimate_untrained

    try:
        summary = estimate_untrained(WithoutLintFit(Source(text, "t.qnn")), out, log=lambda _line: None)
    except SpecError as exc:
        codes = {d.code for d in exc.diagnostics}
        assert codes <= FIT_CODES, exc
        return sorted(codes)[0], None
    return "fits", summary


def variant(path: Path, target: str, extra: str = "") -> str:
    text = path.read_text()
    text = re.sub(r"(?m)^(\s*)fps:.*$", rf"\1{target}{extra}", text)
    return text


MNIST = ROOT / "specs" / "tfc_w2a2.qnn"
CASES = [
    *[(p.stem, p.read_text()) for p in SPECS
      if p.stem in ("tfc_w1a1", "tfc_w2a2", "tfc_w1a2", "cnv_w2a2", "digits_mlp_w2a2", "sfc_w1a1")],
    ("tfc_w2a2 on zcu104, fc0 in URAM",
     variant(MNIST, "fps: max", "\n  fold fc0 { pe: 16, simd: 16, ram_style: ultra }")
     .replace("target pynq-z2", "target zcu104")),
    ("tfc_w2a2 on kv260, fc0 in URAM",
     variant(MNIST, "fps: max", "\n  fold fc0 { pe: 16, simd: 16, ram_style: ultra }")
     .replace("target pynq-z2", "target kv260")),
    ("tfc_w2a2 on zcu102 (no URAM)", variant(MNIST, "fps: 5e5").replace("target pynq-z2", "target zcu102")),
    ("tfc_w2a2 fps 5e5", variant(MNIST, "fps: 5e5")),
    ("digits_gap_w2a2 (average pools) fps 5e5", variant(ROOT / "specs" / "digits_gap_w2a2.qnn", "fps: 5e5")),
    ("digits_mobilenet_w4a4 (depthwise) fps 1e5", variant(ROOT / "specs" / "digits_mobilenet_w4a4.qnn", "fps: 1e5")),
    ("digits_mobilenet_w4a4, dw2 at max_lut 20%", variant(ROOT / "specs" / "digits_mobilenet_w4a4.qnn", "fps: max",
                                                           "\n  max_lut: 20%\n  fold dw2 { pe: 32, simd: 9 }")),
    # padded convs bounded by their window generators, residual blocks, a max pool's window
    ("digits_resnet_w2a2 (residual blocks) fps max", (ROOT / "specs" / "digits_resnet_w2a2.qnn").read_text()),
    ("tfc_w2a2 fps 2e6 (above the I/O ceiling)", variant(MNIST, "fps: 2e6")),
    ("tfc_w2a2 max_lut 5%", variant(MNIST, "fps: max", "\n  max_lut: 5%")),
    ("sfc_w1a2 fps 8.5e5", variant(ROOT / "specs" / "sfc_w1a1.qnn", "fps: 8.5e5").replace(
        "acts: 1 bit", "acts: 2 bit").replace("act bipolar", "act hardtanh").replace("quant bipolar", "quant int2")),
]


@pytest.mark.parametrize("name,text", CASES, ids=[c[0] for c in CASES])
def test_lint_and_the_estimate_agree_on_fit(name, text, tmp_path):
    lint, lint_fps = lint_verdict(text)
    finn, summary = estimate_verdict(text, tmp_path / "e")
    assert lint == finn, f"{name}: lint says {lint}, FINN's estimate {finn}"
    if summary is not None and "fps: max" in text and "fold " not in text:
        # the fastest design lint predicts is the one FINN's estimate gives (within 1 %: lint's
        # accumulator is the data-type bound, FINN narrows it to the weights)
        assert math.isclose(summary["fps"], lint_fps, rel_tol=0.01), (summary["fps"], lint_fps)


def test_units_finn_adds_are_folded_legally(tmp_path):
    spec = ROOT / "specs" / "digits_mlp_w2a2.qnn"
    finn, summary = estimate_verdict(spec.read_text(), tmp_path / "e")
    assert finn == "fits"
    folding = json.loads((tmp_path / "e" / "finn" / "report" / "qnnc_folding.json").read_text())
    reshape = next(a for row in folding["units"] for n, a in row["attrs"].items() if n.startswith("Reshape"))
    assert 8 % reshape["PE"] == 0  # the 8x8 input's last axis
    assert folding["dma_cycles"]  # FINN's pre-synthesis transformations (IODMA included) ran on the folding
