"""Lint's matrix-unit cost model must equal finn-plus's own (MVAU_hls) cost model: the same
cycles, BRAM18 and LUTs for every folding of generated layer shapes and data types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnnc.hw import analytic

pytest.importorskip("finn")

WIDTHS = st.sampled_from([2, 8, 10, 27, 64, 72, 100, 576, 784, 1024])


def finn_mvau(u: analytic.MatrixUnit, pe: int, simd: int, ram_style: str):
    from onnx import helper
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()
    xnor = u.wbits == 1 and u.abits == 1
    idt = "BINARY" if xnor else ("BIPOLAR" if u.abits == 1 else f"{'INT' if u.signed_input else 'UINT'}{u.abits}")
    node = helper.make_node(
        "MVAU_hls", ["x", "w"], ["y"], domain="finn.custom_op.fpgadataflow.hls",
        MW=u.mw, MH=u.mh, PE=pe, SIMD=simd, numInputVectors=[1, u.pixels], inputDataType=idt,
        weightDataType="BINARY" if xnor else ("BIPOLAR" if u.wbits == 1 else f"INT{u.wbits}"),
        outputDataType="UINT2", noActivation=1, binaryXnorMode=int(xnor), accDataType="INT32",
        mem_mode="internal_decoupled", ram_style=ram_style, backend="fpgadataflow",
    )
    return getCustomOp(node)


@settings(max_examples=80, deadline=None)
@given(WIDTHS, WIDTHS, st.sampled_from([1, 4, 49]), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.data(), st.sampled_from(analytic.RAM_STYLES))
def test_lints_cost_model_equals_finns(mw, mh, pixels, wbits, abits, signed, data, ram_style):
    if abits == 1:  # 1-bit activations are bipolar (signed), or binary in FINN's XNOR mode
        signed = wbits > 1
    u = analytic.MatrixUnit("fc", mw, mh, pixels, wbits, abits, signed)
    pe = data.draw(st.sampled_from(analytic.divisors(mh)))
    simd = data.draw(st.sampled_from(analytic.divisors(mw)))
    inst = finn_mvau(u, pe, simd, ram_style)
    assert analytic.cycles(u, pe, simd) == inst.get_exp_cycles()
    assert analytic.bram18(u, pe, simd, ram_style) == inst.bram_estimation("xc7z020clg400-1")
    assert analytic.lut(u, pe, simd, ram_style) == inst.lut_estimation("xc7z020clg400-1")
