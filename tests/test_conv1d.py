"""1-D convolution and pooling (`conv1d`, `maxpool1d` on [channels, length] inputs, as
Brevitas' QuantConv1d and PyTorch's MaxPool1d) and non-square conv2d kernels (`kernel=[h, w]`):
shapes, lint's costs, the generated model, and through qonnx's Change3DTo4DTensors and FINN's
sliding-window generator in its 1-D mode, bit-exact for any weights."""

from __future__ import annotations

import pytest

from conftest import ROOT, bit_exact_untrained, diagnostics, write_iq_npz
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.passes.fit import matrix_units

VGG10 = ROOT / "specs" / "radioml_vgg10_w4a4.qnn"


def one_d(conv: str = "8, kernel=3, padding=1", pool: str = "2", quant: str = "", fold: str = "",
          second: bool = True) -> str:
    c1 = "\n  conv1d c1 (8, kernel=3) + batchnorm + act relu" if second else ""
    return f"""
network n {{
  input int8[2, 32] scale 1/127{quant}
  defaults {{ weights: 3 bit, acts: 3 bit }}
  conv1d c0 ({conv}) + batchnorm + act relu
  maxpool1d ({pool}){c1}
  flatten
  linear out (24) -> label
}}
train {{ dataset: npz(file="iq.npz", classes=24), epochs: 1 }}
target pynq-z2 {{ clock: 100 MHz{fold} }}
"""


def test_a_1d_network_has_lengths_for_shapes_and_costs_as_2d_on_a_k_by_1_window():
    comp = Compilation.from_path(VGG10)
    shapes = {s.name: (s.inp, s.out) for s in comp.facts.shapes}
    assert shapes["conv0"] == ((2, 128), (32, 128))
    assert shapes["pool0"] == ((32, 128), (32, 64))
    assert shapes["pool4"] == ((32, 8), (32, 4))
    assert shapes["flatten0"] == ((32, 4), (128,))
    units = {u.name: u for u in matrix_units(comp.spec, comp.facts)}
    assert (units["conv0"].mw, units["conv0"].mh, units["conv0"].pixels) == (2 * 3, 32, 128)
    assert (units["conv4"].mw, units["conv4"].pixels) == (32 * 3, 8)
    assert (units["fc0"].mw, units["fc0"].pixels) == (128, 1)
    model = comp.plan.files["model.py"]
    assert "QuantConv1d(" in model and "nn.MaxPool1d(kernel_size=2, stride=2)" in model
    assert "nn.BatchNorm1d(w['conv0'])" in model and "QuantConv2d" not in model


def test_a_non_square_kernel_slides_each_way_by_its_own_size():
    text = """
network n {
  input uint8[3, 8, 12] scale 1/255 -> quant int8
  defaults { weights: 2 bit, acts: 2 bit }
  conv2d c0 (8, kernel=[1, 5], padding=0) + batchnorm + act relu
  conv2d c1 (8, kernel=[3, 2], stride=2) + batchnorm + act relu
  flatten
  linear out (10) -> label
}
train { dataset: npz(file="x.npz", classes=10) }
target pynq-z2 { }
"""
    comp = Compilation(Source(text, "t.qnn"))
    assert comp.diagnostics() == []
    shapes = {s.name: s.out for s in comp.facts.shapes}
    assert shapes["c0"] == (8, 8, 8) and shapes["c1"] == (8, 3, 4)
    units = {u.name: u for u in matrix_units(comp.spec, comp.facts)}
    assert (units["c0"].mw, units["c0"].pixels) == (3 * 5, 64)
    assert (units["c1"].mw, units["c1"].pixels) == (8 * 6, 12)
    assert "kernel_size=(3, 2)" in comp.plan.files["model.py"]


@pytest.mark.parametrize("change,code,hint", [
    (("int8[2, 32]", "int8[2, 4, 8]"), "Q030", "on a [channels, height, width] input use 'conv2d'"),
    (("maxpool1d (2)", "maxpool (2)"), "Q030", "on a [channels, length] input use 'maxpool1d'"),
    (("kernel=3, padding=1", "kernel=33"), "Q033", "use a smaller kernel"),
    (("int8[2, 32]", "int8[2, 32, 4, 4]"), "Q021", None),
    (("kernel=3, padding=1", "kernel=3, groups=8"), "Q014", None),
], ids=["conv1d-on-image", "maxpool-on-sequence", "kernel-too-long", "four-dims", "conv1d-groups"])
def test_1d_mistakes_are_named_with_the_form_that_fits(change, code, hint):
    found = diagnostics(one_d().replace(*change))
    assert [d.code for d in found] == [code]
    assert hint is None or found[0].hint.startswith(hint)


@pytest.mark.slow
@pytest.mark.parametrize("conv,quant,fold", [
    ("8, kernel=3, padding=1", "", ""),
    ("8, kernel=5, stride=2, padding=2", " normalize(mean=[0.1, -0.2], std=[0.53, 0.41]) -> quant int8",
     "\n  fold c0 { pe: 2, simd: 2 }"),
], ids=["int8-raw-padded", "normalized-stride2-folded"])
def test_a_1d_network_is_bit_exact_through_finn_for_any_weights(conv, quant, fold, tmp_path):
    """Initial weights: PyTorch (Conv1d on [N, C, L]), QONNX, FINN's streamlined model and its
    hardware layers (on [N, C, L, 1]) agree on held-out frames; each conv is one matrix unit fed
    by a 1-D sliding-window generator, at the cycles lint predicts."""
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.hw import analytic

    write_iq_npz(tmp_path / "iq.npz", train=64, test=32, length=32)
    comp = Compilation(Source(one_d(conv, quant=quant, fold=fold), str(tmp_path / "t.qnn")))
    assert comp.diagnostics() == []
    model, owners = bit_exact_untrained(comp, tmp_path / "b")
    windows = [getCustomOp(n) for n in model.graph.node if n.op_type.startswith("ConvolutionInputGenerator")]
    assert windows and all(w.get_nodeattr("is1D") for w in windows)
    lint = {u.name: u for u in matrix_units(comp.spec, comp.facts)}
    mvaus = [n for n in model.graph.node if n.op_type.startswith("MVAU")]
    assert [owners[n.name] for n in mvaus] == ["c0", "c1", "out"]
    for node in mvaus:
        inst, unit = getCustomOp(node), lint[owners[node.name]]
        assert (inst.get_nodeattr("MW"), inst.get_nodeattr("MH")) == (unit.mw, unit.mh)
        pe, simd = inst.get_nodeattr("PE"), inst.get_nodeattr("SIMD")
        assert inst.get_exp_cycles() == analytic.cycles(unit, pe, simd)
    if fold:
        c0 = getCustomOp(next(n for n in mvaus if owners[n.name] == "c0"))
        assert (c0.get_nodeattr("PE"), c0.get_nodeattr("SIMD")) == (2, 2)


@pytest.mark.slow
def test_a_non_square_kernel_on_three_channels_is_bit_exact_through_finn(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (96, 3, 6, 10)).astype(np.uint8)
    y = rng.integers(0, 10, 96)
    np.savez(tmp_path / "x.npz", x_train=x[:64], y_train=y[:64], x_test=x[64:], y_test=y[64:])
    text = """
network n {
  input uint8[3, 6, 10] scale 1/255 -> quant int8
  defaults { weights: 4 bit, acts: 4 bit }
  conv2d c0 (8, kernel=[1, 3], padding=1) + batchnorm + act relu
  conv2d c1 (8, kernel=[3, 2]) + batchnorm + act relu
  flatten
  linear out (10) -> label
}
train { dataset: npz(file="x.npz", classes=10), epochs: 1 }
target pynq-z2 { }
"""
    comp = Compilation(Source(text, str(tmp_path / "t.qnn")))
    assert comp.diagnostics() == []
    model, owners = bit_exact_untrained(comp, tmp_path / "b")
    assert sorted(set(owners.values()) - {"input", "output"}) == ["c0", "c1", "out"]
