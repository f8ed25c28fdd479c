"""Average pooling: `avgpool (k)` and the global `avgpool`, through Brevitas' TruncAvgPool2d and
FINN's QuantAvgPool2d to FINN's Pool unit, keeping the whole sum of each window. What lint
predicts (shapes, the bits the next layer gets) is what FINN builds, and the chain is
bit-exact for any weights."""

from __future__ import annotations

import pytest

from conftest import ROOT, bit_exact_untrained, diagnostics
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.passes.fit import matrix_units
from qnnc.passes.shapes import output_shape
from qnnc.spec import model as m

GAP = ROOT / "specs" / "digits_gap_w2a2.qnn"


def spec_text(acts: int, pool: str) -> str:
    return f"""
network n {{
  input uint8[1, 8, 8] scale 1/16
  defaults {{ weights: 2 bit, acts: {acts} bit }}
  conv2d c0 (8, kernel=3, padding=1) + batchnorm + act relu
  {pool}
  flatten
  linear out (10) -> label
}}
train {{ dataset: digits, epochs: 1, seed: {acts} }}
target pynq-z2 {{ clock: 100 MHz }}
"""


def test_a_pool_keeps_the_whole_sum_and_the_next_layer_gets_its_bits():
    comp = Compilation.from_path(GAP)
    shapes = {s.name: (s.inp, s.out) for s in comp.facts.shapes}
    assert shapes["pool0"] == ((16, 8, 8), (16, 4, 4))
    assert shapes["pool1"] == ((32, 4, 4), (32, 1, 1))  # no kernel: the whole map
    units = {u.name: u for u in matrix_units(comp.spec, comp.facts)}
    assert units["conv1"].abits == 2 + 2  # four 2-bit values summed
    assert units["out"].abits == 2 + 4  # sixteen
    model = comp.plan.files["model.py"]
    assert "QuantReLU(bit_width=2, return_quant_tensor=True)" in model  # the pool needs its scale
    assert "trunc_quant=TruncTo8bit.let(bit_width=4)" in model and "trunc_quant=TruncTo8bit.let(bit_width=6)" in model


def test_a_global_average_pool_needs_a_square_map():
    layer = m.AvgPool(name="gap", kind="avgpool")
    shape, diag = output_shape(layer, (8, 4, 2))
    assert shape is None and diag.code == "Q033" and "4x2" in diag.message
    assert output_shape(layer, (8, 4, 4)) == ((8, 1, 1), None)


@pytest.mark.parametrize("acts,pool", [(2, "avgpool (2)"), (3, "avgpool (4, stride=2)"), (4, "avgpool (2, stride=1)")])
def test_pooling_variants_lint_clean(acts, pool):
    assert diagnostics(spec_text(acts, pool)) == []


@pytest.mark.slow
@pytest.mark.parametrize("acts,pool", [(3, "avgpool (4, stride=2)"), (4, "avgpool (2, stride=1)")])
def test_the_pool_is_bit_exact_through_finn_for_any_weights(acts, pool, tmp_path):
    """Initial weights (seeded by the bits): PyTorch, QONNX, FINN's streamlined model and its
    hardware layers agree on held-out digits; FINN's Pool unit is the spec's avgpool, and the
    matrix unit after it reads the bits lint said."""
    from qonnx.custom_op.registry import getCustomOp

    comp = Compilation(Source(spec_text(acts, pool), "t.qnn"))
    model, owners = bit_exact_untrained(comp, tmp_path / "b")
    pools = [n for n in model.graph.node if n.op_type.startswith("Pool")]
    assert [owners[n.name] for n in pools] == ["pool0"]
    assert getCustomOp(pools[0]).get_nodeattr("Function") == "QuantAvgPool"
    out = next(n for n in model.graph.node if owners.get(n.name) == "out" and n.op_type.startswith("MVAU"))
    lint = {u.name: u for u in matrix_units(comp.spec, comp.facts)}["out"]
    assert getCustomOp(out).get_input_datatype().bitwidth() == lint.abits
