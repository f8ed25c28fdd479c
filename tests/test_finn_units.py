"""Matching FINN's hardware units to spec layers, on the unit graph FINN 1.6.1 builds for the
digits conv net (maxpool becomes a sliding-window generator feeding a Pool unit)."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import ROOT
from qnnc.backends.finn_units import match_units
from qnnc.backends.folding import pinned
from qnnc.compiler import Compilation
from qnnc.errors import Source

SPEC = Compilation.from_path(ROOT / "specs" / "digits_cnv_w2a2.qnn").spec
CHAIN = [  # (op_type, name) in stream order, as in finn/intermediate_models/step_generate_estimate_reports.onnx
    ("FMPadding_rtl", "FMPadding_rtl_0"), ("ConvolutionInputGenerator_rtl", "ConvolutionInputGenerator_rtl_0"),
    ("MVAU_hls", "MVAU_hls_0"), ("ConvolutionInputGenerator_rtl", "ConvolutionInputGenerator_rtl_1"),
    ("Pool_hls", "Pool_hls_0"), ("FMPadding_rtl", "FMPadding_rtl_1"),
    ("ConvolutionInputGenerator_rtl", "ConvolutionInputGenerator_rtl_2"), ("MVAU_hls", "MVAU_hls_1"),
    ("ConvolutionInputGenerator_rtl", "ConvolutionInputGenerator_rtl_3"), ("Pool_hls", "Pool_hls_1"),
    ("MVAU_hls", "MVAU_hls_2"), ("MVAU_hls", "MVAU_hls_3"), ("LabelSelect_hls", "LabelSelect_hls_0"),
]
NODES = [SimpleNamespace(op_type=op, name=name, input=[f"t{i}"], output=[f"t{i + 1}"])
         for i, (op, name) in enumerate(CHAIN)]


def test_units_are_matched_to_the_layers_they_implement():
    assert match_units(NODES, SPEC) == {
        "FMPadding_rtl_0": "conv0", "ConvolutionInputGenerator_rtl_0": "conv0", "MVAU_hls_0": "conv0",
        "ConvolutionInputGenerator_rtl_1": "pool0", "Pool_hls_0": "pool0",
        "FMPadding_rtl_1": "conv1", "ConvolutionInputGenerator_rtl_2": "conv1", "MVAU_hls_1": "conv1",
        "ConvolutionInputGenerator_rtl_3": "pool1", "Pool_hls_1": "pool1",
        "MVAU_hls_2": "fc0", "MVAU_hls_3": "out", "LabelSelect_hls_0": "output",
    }


def test_a_convs_simd_goes_to_its_own_window_generator_not_the_pools():
    assert pinned(NODES, SPEC, match_units(NODES, SPEC)) == {
        "MVAU_hls_0": {"PE": 4, "SIMD": 1}, "ConvolutionInputGenerator_rtl_0": {"SIMD": 1},
        "MVAU_hls_1": {"PE": 8, "SIMD": 16}, "ConvolutionInputGenerator_rtl_2": {"SIMD": 16},
    }


def test_max_and_average_pools_are_told_apart_by_what_the_unit_computes():
    """A StreamingMaxPool, a Pool computing MaxPool and a Pool computing FINN's QuantAvgPool,
    in one chain: each goes to its own layer, whatever order FINN's conversions leave them in."""
    spec = Compilation(Source(SPEC_TEXT, "t.qnn")).spec  # validated: the order of its layers is all that counts

    def pool(name, function):
        return SimpleNamespace(op_type="Pool_hls", name=name, attribute=[SimpleNamespace(name="Function", s=function)])
    chain = [SimpleNamespace(op_type="MVAU_hls", name="MVAU_hls_0", attribute=[]),
             SimpleNamespace(op_type="StreamingMaxPool_hls", name="StreamingMaxPool_hls_0", attribute=[]),
             pool("Pool_hls_0", b"QuantAvgPool"),
             SimpleNamespace(op_type="MVAU_hls", name="MVAU_hls_1", attribute=[]),
             pool("Pool_hls_1", b"MaxPool"), pool("Pool_hls_2", b"QuantAvgPool"),
             SimpleNamespace(op_type="MVAU_hls", name="MVAU_hls_2", attribute=[])]
    for i, node in enumerate(chain):
        node.input, node.output = [f"t{i}"], [f"t{i + 1}"]
    assert match_units(chain, spec) == {
        "MVAU_hls_0": "c0", "StreamingMaxPool_hls_0": "max0", "Pool_hls_0": "avg0", "MVAU_hls_1": "c1",
        "Pool_hls_1": "max1", "Pool_hls_2": "avg1", "MVAU_hls_2": "out"}


SPEC_TEXT = """
network n {
  input uint8[1, 16, 16] scale 1/15 -> quant uint4
  conv2d c0 (8, kernel=3, padding=1) + batchnorm + act relu 2 bit
  maxpool max0 (2)
  avgpool avg0 (2)
  conv2d c1 (8, kernel=3, padding=1) + batchnorm + act relu 2 bit
  maxpool max1 (2, stride=1)
  avgpool avg1
  flatten
  linear out (10) -> label
}
train { dataset: npz(file="d.npz", classes=10) }
target pynq-z2 { }
"""
