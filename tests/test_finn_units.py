"""Matching FINN's hardware units to spec layers, on the unit graph FINN 1.6.1 builds for the
digits conv net (maxpool becomes a sliding-window generator feeding a Pool unit)."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import ROOT
from qnnc.backends.finn_units import match_units
from qnnc.backends.folding import pinned
from qnnc.compiler import Compilation

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
