"""Lint's matrix-unit cost model must equal finn-plus's own (MVAU_hls) cost model: the same
cycles, LUT, BRAM18, URAM and DSP for every folding of generated layer shapes, for every data
type combination (1-bit weights with multi-bit activations included), every ram_style, mem_mode
and resType, with the weights at the width FINN's own bit-width minimization leaves them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnnc.hw import analytic

pytest.importorskip("finn")

WIDTHS = st.sampled_from([2, 8, 10, 27, 64, 72, 100, 576, 784, 1024])
PARTS = ("xc7z020clg400-1", "xczu7ev-ffvc1156-2-e")


def finn_mvau(u: analytic.MatrixUnit, s: analytic.Setting, seed: int = 0):
    """A one-node FINN model with weights of the spec's type, minimized as FINN's build does."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()
    rng = np.random.default_rng(seed)
    if u.xnor:
        idt, wdt, weights = "BINARY", "BINARY", rng.integers(0, 2, (u.mw, u.mh))
    else:
        idt = "BIPOLAR" if u.abits == 1 else f"{'INT' if u.signed_input else 'UINT'}{u.abits}"
        if u.wbits == 1:
            wdt, weights = "BIPOLAR", rng.choice([-1, 1], (u.mw, u.mh))
        else:  # Brevitas' narrow range, both ends used
            top = 2 ** (u.wbits - 1) - 1
            wdt, weights = f"INT{u.wbits}", rng.integers(-top, top + 1, (u.mw, u.mh))
            weights.flat[:2] = [-top, top]
    node = helper.make_node(
        "MVAU_hls", ["x", "w"], ["y"], domain="finn.custom_op.fpgadataflow.hls", name="MVAU_hls_0",
        MW=u.mw, MH=u.mh, PE=s.pe, SIMD=s.simd, numInputVectors=[1, u.pixels], inputDataType=idt,
        weightDataType=wdt, outputDataType="INT32", noActivation=1, binaryXnorMode=int(u.xnor),
        accDataType="INT32", mem_mode=s.mem_mode, ram_style=s.ram_style, resType=s.res_type,
        backend="fpgadataflow")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, u.mw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, u.mh])])
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("w", weights.astype(np.float32))
    model.set_tensor_datatype("w", DataType[wdt])
    inst = getCustomOp(model.graph.node[0])
    inst.minimize_weight_bit_width(model)
    return inst


@settings(max_examples=150, deadline=None)
@given(WIDTHS, WIDTHS, st.sampled_from([1, 4, 49]), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.data(), st.sampled_from(analytic.RAM_STYLES), st.sampled_from(analytic.MEM_MODES),
       st.sampled_from(analytic.RES_TYPES), st.sampled_from(PARTS))
def test_lints_cost_model_equals_finns(mw, mh, pixels, wbits, abits, signed, data, ram_style, mem_mode, res_type,
                                       part):
    if abits == 1:  # 1-bit activations are bipolar (signed), or binary in FINN's XNOR mode
        signed = wbits > 1
    u = analytic.MatrixUnit("fc", mw, mh, pixels, wbits, abits, signed)
    pe = data.draw(st.sampled_from(analytic.divisors(mh)))
    simd = data.draw(st.sampled_from(analytic.divisors(mw)))
    s = analytic.Setting(pe, simd, ram_style, mem_mode, res_type)
    inst = finn_mvau(u, s)
    assert inst.get_input_datatype(1).bitwidth() == analytic.weight_bits(u, s)
    assert analytic.cycles(u, pe, simd) == inst.get_exp_cycles()
    assert analytic.costs(u, s) == {"LUT": inst.lut_estimation(part), "BRAM_18K": inst.bram_estimation(part),
                                    "URAM": inst.uram_estimation(part), "DSP": inst.dsp_estimation(part)}


def test_bipolar_weights_on_multibit_inputs_cost_as_finns_int2():
    u = analytic.MatrixUnit("fc", 784, 64, 1, 1, 2, True)
    s = analytic.Setting(16, 49)
    assert analytic.weight_bits(u, s) == 2 and finn_mvau(u, s).get_input_datatype(1).name == "INT2"
    assert analytic.bram18(u, s) == finn_mvau(u, s).bram_estimation(PARTS[0])
