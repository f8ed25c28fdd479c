"""Residual blocks: `residual NAME { layers }`, a skip connection around the layers, computed as
q(q(layers(x)) + x) with q the quantizer of the activation before the block. Parsed and
formatted losslessly, checked by lint (shapes, the shared quantizer, pruning at its edges),
generated as a Brevitas forward pass with the skip, and through FINN (its streamlining past the
fork and the join) a DuplicateStreams and an ElementwiseAdd of integers, bit-exact for any
weights."""

from __future__ import annotations

import pytest

from conftest import ROOT, bit_exact_untrained, diagnostics
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.syntax.format import format_module
from qnnc.syntax.parser import parse

RESNET = ROOT / "specs" / "digits_resnet_w2a2.qnn"


def spec_text(before: str = "+ batchnorm + act relu", body: str = "", act: str = "relu", bits: int = 2) -> str:
    body = body or """    conv2d c1 (8, kernel=3, padding=1) + batchnorm + act relu
    conv2d c2 (8, kernel=3, padding=1) + batchnorm"""
    return f"""
network n {{
  input uint8[1, 8, 8] scale 1/15 -> quant uint4
  defaults {{ weights: {bits} bit, acts: {bits} bit }}
  conv2d c0 (8, kernel=3, padding=1) {before.replace("relu", act)}
  residual r1 {{
{body}
  }}
  maxpool (2)
  residual r2 {{
    conv2d c3 (8, kernel=3, padding=1) + batchnorm
  }}
  maxpool (2)
  flatten
  linear out (10) -> label
}}
train {{ dataset: digits, epochs: 1, seed: {bits} }}
target pynq-z2 {{ clock: 100 MHz }}
"""


def test_a_block_formats_losslessly_with_its_comments():
    text = RESNET.read_text().replace("  residual res1 {\n", "  residual res1 {  # the first block\n    # two convs\n")
    text = text.replace("conv2d conv2 (16, kernel=3, padding=1) + batchnorm\n",
                        "conv2d conv2 (16, kernel=3, padding=1) + batchnorm  # no act\n")
    formatted = format_module(parse(text), Source(text))
    assert formatted == text
    assert parse(formatted) == parse(text)


def test_a_block_is_its_layers_between_where_it_starts_and_where_it_adds():
    comp = Compilation.from_path(RESNET)
    kinds = [(layer.kind, layer.name) for layer in comp.spec.network.layers]
    start, end = kinds.index(("residual", "res1")), kinds.index(("add", "res1_add"))
    assert [name for _, name in kinds[start + 1: end]] == ["conv1", "conv1_bn", "conv1_act", "conv2", "conv2_bn"]
    shapes = {s.name: (s.inp, s.out) for s in comp.facts.shapes}
    assert shapes["res1_add"] == ((16, 8, 8), (16, 8, 8)) and shapes["res2_add"] == ((16, 4, 4), (16, 4, 4))
    forward = comp.plan.files["model.py"]
    # both blocks share the quantizer of conv0's relu: res2's input is res1's sum, past a max pool
    assert "skip_res1 = x\n" in forward and "skip_res2 = x\n" in forward
    assert "x = self.conv0_act(self.conv0_act(x) + skip_res1)" in forward
    assert "x = self.conv0_act(self.conv0_act(x) + skip_res2)" in forward
    assert "self.res1 =" not in forward  # no module of its own


@pytest.mark.parametrize("change,code", [
    (("+ batchnorm + act relu", "+ batchnorm + act bipolar"), "Q038"),  # a sum of signs ties at zero
    (("conv2d c3 (8, kernel=3, padding=1)", "conv2d c3 (8, kernel=3)"), "Q038"),  # 8x8 -> 6x6
    (("conv2d c3 (8, kernel=3, padding=1)", "conv2d c3 (8, kernel=3, padding=1) sparsity 50%"), "Q038"),
    (("    conv2d c3 (8, kernel=3, padding=1) + batchnorm\n", ""), "Q022"),  # an empty block
    (("residual r2", "residual c0"), "Q025"),  # a block's name is a layer's name
])
def test_a_block_faults_are_named(change, code):
    found = diagnostics(spec_text().replace(*change))
    assert code in [d.code for d in found], found


def test_a_sweep_of_a_network_with_blocks_is_refused_for_now():
    text = spec_text() + "sweep { weights: [2, 3], min_accuracy: 50%, validation: 10% }\n"
    assert "Q038" in [d.code for d in diagnostics(text)]


@pytest.mark.slow
@pytest.mark.parametrize("act,bits", [("relu", 2)], ids=["relu-w2a2"])  # ("hardtanh", 3) passed too (by hand)
def test_blocks_are_bit_exact_through_finn_for_any_weights(act, bits, tmp_path):
    """Initial weights: PyTorch, QONNX, FINN's streamlined model and its hardware layers agree;
    each block is a DuplicateStreams feeding its layers and an ElementwiseAdd of integers, with
    the thresholds of the shared quantizer after it, all inside the dataflow partition, and
    the second block (after a max pool) as NHWC as the first."""
    comp = Compilation(Source(spec_text(act=act, bits=bits), "t.qnn"))
    assert comp.diagnostics() == []
    model, owners = bit_exact_untrained(comp, tmp_path / "b")
    ops = [n.op_type for n in model.graph.node]
    assert sum(op.startswith("DuplicateStreams") for op in ops) == 2
    adds = [n for n in model.graph.node if n.op_type.startswith("ElementwiseAdd")]
    assert len(adds) == 2
    assert all(model.get_tensor_datatype(i).is_integer() for n in adds for i in n.input)
    assert {"c0", "c1", "c2", "c3", "out"} <= set(owners.values())
    # the block after the max pool keeps no layout transpose (a Shuffle, as slow as a frame)
    assert not [op for op in ops if op.startswith(("Shuffle", "Transpose"))], ops
