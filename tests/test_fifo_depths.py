"""FIFO depths in fold lines (`in_fifo`, `out_fifo`: FINN's inFIFODepths and outFIFODepths,
its manual-FIFO mode): lint checks them, the folding config carries them, and FINN's InsertFIFO
builds the design's FIFOs that deep."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, diagnostics
from qnnc.compiler import Compilation
from qnnc.errors import Source

MLP = ROOT / "specs" / "digits_mlp_w2a2.qnn"


def with_folds(folds: str) -> str:
    return MLP.read_text().replace("  fps: max\n", f"  fps: max\n{folds}")


def test_fifo_depths_lint_clean_and_leave_the_solver_free():
    comp = Compilation(Source(with_folds("  fold fc1 { in_fifo: 64, out_fifo: 32 }\n"), "t.qnn"))
    assert comp.diagnostics() == []
    assert comp.spec.target.folds["fc1"].unit_settings() == {}  # no PE or SIMD fixed


@pytest.mark.parametrize("fold,code", [
    ("fold fc1 { in_fifo: 1 }", "Q015"),
    ("fold fc1 { out_fifo: 4.5 }", "Q015"),
    ("fold fc1 { out_fifo: 99999999 }", "Q015"),
    ("fold fc0_bn { in_fifo: 16 }", "Q034"),
    ("fold fc1 { in_fifos: 16 }", "Q014"),
])
def test_a_wrong_fifo_depth_is_named_at_its_setting(fold, code):
    found = diagnostics(with_folds(f"  {fold}\n"))
    assert [d.code for d in found] == [code]


@pytest.mark.slow
def test_the_design_has_the_fifos_the_fold_lines_ask_for(tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends import zynq_prep
    from qnnc.backends.folding import FOLDING_JSON
    from qnnc.backends.hwgen import FOLDED
    from qnnc.pipeline.runner import estimate_untrained

    comp = Compilation(Source(with_folds("  fold fc1 { pe: 4, in_fifo: 64, out_fifo: 40 }\n"
                                         "  fold out { in_fifo: 16 }\n"), str(tmp_path / "t.qnn")))
    assert comp.diagnostics() == []
    root = tmp_path / "b"
    estimate_untrained(comp, root, log=lambda _line: None)
    config = json.loads((root / FOLDING_JSON).read_text())
    fc1 = next(a for a in config.values() if a.get("inFIFODepths") == [64])
    assert fc1["PE"] == 4 and fc1["outFIFODepths"] == [40]
    parent = zynq_prep.prepare_design(ModelWrapper(str(root / FOLDED)), "xc7z020clg400-1", 64, tmp_path / "parts")
    (child,) = [m for m in zynq_prep.partitions(parent) if any(n.op_type.startswith("MVAU") for n in m.graph.node)]
    mvaus = [n for n in child.graph.node if n.op_type.startswith("MVAU")]

    def fifos_before(node):
        """The depths of the FIFOs between the node and the matrix unit before it (or the input)."""
        depths, producer = [], child.find_producer(node.input[0])
        while producer is not None and not producer.op_type.startswith("MVAU"):
            if producer.op_type.startswith("StreamingFIFO"):
                depths.append(getCustomOp(producer).get_nodeattr("depth"))
            producer = child.find_producer(producer.input[0])
        return depths

    # fc1's input FIFO 64; after fc1 its 40 (a width converter may sit between), before out 16
    assert max(fifos_before(mvaus[1])) == 64
    assert 40 in fifos_before(mvaus[2]) and fifos_before(mvaus[2])[0] == 16
    assert set(fifos_before(mvaus[0])) == {2}  # FINN's default where no fold line asks
