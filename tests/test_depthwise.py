"""Depthwise convolution: `conv2d NAME (C, kernel=K, groups=C)`, through Brevitas' grouped
QuantConv2d and qonnx's lowering to FINN's vector-vector unit (VVAU) with a depthwise window
generator. Lint's shapes and costs are FINN's, the folding follows FINN's rules, and the chain
is bit-exact for any weights."""

from __future__ import annotations

import pytest

from conftest import ROOT, bit_exact_untrained, diagnostics
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.passes.fit import matrix_units

MOBILENET = ROOT / "specs" / "digits_mobilenet_w4a4.qnn"


def spec_text(bits: int, dw: str, fold: str = "", sparsity: str = "") -> str:
    return f"""
network n {{
  input uint8[1, 8, 8] scale 1/16
  defaults {{ weights: {bits} bit, acts: {bits} bit }}
  conv2d c0 (8, kernel=3, padding=1) + batchnorm + act relu{sparsity}
  conv2d dw ({dw}) + batchnorm + act relu
  conv2d pw (16, kernel=1) + batchnorm + act relu
  maxpool (2)
  flatten
  linear out (10) -> label
}}
train {{ dataset: digits, epochs: 1, seed: {bits} }}
target pynq-z2 {{ clock: 100 MHz{fold} }}
"""


def test_a_depthwise_conv_keeps_its_channels_and_costs_as_a_vector_unit():
    comp = Compilation.from_path(MOBILENET)
    shapes = {s.name: (s.inp, s.out) for s in comp.facts.shapes}
    assert shapes["dw1"] == ((16, 8, 8), (16, 8, 8))
    assert shapes["dw2"] == ((32, 8, 8), (32, 4, 4))  # stride 2
    units = {u.name: u for u in matrix_units(comp.spec, comp.facts)}
    assert (units["dw2"].mw, units["dw2"].mh, units["dw2"].pixels) == (9, 32, 16)
    assert units["dw2"].depthwise and units["dw2"].out_bits == 4 and not units["pw2"].depthwise
    assert (units["pw2"].mw, units["pw2"].mh) == (32, 64)
    model = comp.plan.files["model.py"]
    assert "in_channels=w['pw1'],\n            out_channels=w['pw1'],\n            groups=w['pw1']," in model


@pytest.mark.parametrize("dw", ["8, kernel=3, padding=1, groups=8", "8, kernel=5, stride=2, padding=2, groups=8"])
def test_depthwise_variants_lint_clean(dw):
    assert diagnostics(spec_text(4, dw)) == []


def test_a_depthwise_conv_after_a_pruned_layer_takes_its_kept_channels():
    comp = Compilation(Source(spec_text(4, "8, kernel=3, padding=1, groups=8", sparsity=" sparsity 25%"), "t.qnn"))
    assert comp.diagnostics() == []
    assert {s.name: s.out for s in comp.facts.shapes}["dw"] == (6, 8, 8)


@pytest.mark.slow
@pytest.mark.parametrize("bits,dw,fold,sparsity", [
    (4, "8, kernel=3, stride=2, padding=1, groups=8", ", fold dw { pe: 3 }", " sparsity 25%"),
    (2, "8, kernel=5, padding=2, groups=8", ", fold dw { pe: 8, simd: 5 }", ""),
], ids=["stride2-pruned-w4a4", "k5-folded-w2a2"])
def test_a_depthwise_conv_is_bit_exact_through_finn_for_any_weights(bits, dw, fold, sparsity, tmp_path,
                                                                   simulation_sources):
    """Initial weights (seeded by the bits): PyTorch, QONNX, FINN's streamlined model and its
    hardware layers agree on held-out digits; the spec's depthwise conv is one VVAU with its
    thresholds absorbed, folded as the fold line says, costing the cycles lint predicts; with
    FIFOs between the units (as in the generated design) the simulation's Python reference
    computes the same, and the VVAU's C++ (FINN's HLS code, compiled here) with it."""
    import numpy as np
    from finn.transformation.fpgadataflow.insert_dwc import InsertDWC
    from finn.transformation.fpgadataflow.insert_fifo import InsertFIFO
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.cppsim import generic_twin, simulate
    from qnnc.hw import analytic

    text = spec_text(bits, dw, fold.replace(", fold", "\n  fold"), sparsity)
    comp = Compilation(Source(text, "t.qnn"))
    assert comp.diagnostics() == []
    model, owners = bit_exact_untrained(comp, tmp_path / "b")
    vvaus = [n for n in model.graph.node if n.op_type.startswith("VVAU")]
    assert [owners[n.name] for n in vvaus] == ["dw"]
    inst = getCustomOp(vvaus[0])
    lint = {u.name: u for u in matrix_units(comp.spec, comp.facts)}["dw"]
    assert inst.get_nodeattr("noActivation") == 0 and inst.get_output_datatype().bitwidth() == lint.out_bits
    assert inst.get_nodeattr("Channels") == lint.mh and inst.get_input_datatype().bitwidth() == lint.abits
    pe, simd = inst.get_nodeattr("PE"), inst.get_nodeattr("SIMD")
    assert (pe, simd) == ((3, 1) if bits == 4 else (8, 5))
    assert analytic.legal(lint, pe, simd) and inst.get_exp_cycles() == analytic.cycles(lint, pe, simd)
    with_fifos = model.transform(InsertDWC()).transform(InsertFIFO(create_shallow_fifos=True))
    assert any(n.op_type.startswith("StreamingFIFO") for n in with_fifos.graph.node)
    x = np.random.default_rng(bits).integers(0, 17, model.get_tensor_shape(model.graph.input[0].name))
    outputs = [execute_onnx(generic_twin(m), {m.graph.input[0].name: x.astype(np.float32)})[m.graph.output[0].name]
               for m in (model, with_fifos)]
    assert np.array_equal(*outputs)
    if bits == 4:  # PE 3 of 6 channels: the C++ VVAU reads the windows in stream order
        sim, diverged = simulate(with_fifos, tmp_path / "sim", [x.astype(np.float32)])
        assert sim.modes[vvaus[0].name] == "cppsim" and diverged == [], (sim.reasons, diverged)
