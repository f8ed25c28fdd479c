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


def finn_vvau(u: analytic.MatrixUnit, s: analytic.Setting, kernel: int):
    """A one-node FINN depthwise unit (VVAU_hls), with its activation's thresholds absorbed when
    ``u.out_bits``, as FINN's conversion leaves a depthwise conv followed by a relu."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()
    rng = np.random.default_rng(0)
    top = 2 ** (u.wbits - 1) - 1
    weights = rng.integers(-top, top + 1, (u.mh, 1, kernel, kernel))
    weights.flat[:2] = [-top, top]
    idt = f"{'INT' if u.signed_input else 'UINT'}{u.abits}"
    inputs = ["x", "w"] + (["t"] if u.out_bits else [])
    node = helper.make_node(
        "VVAU_hls", inputs, ["y"], domain="finn.custom_op.fpgadataflow.hls", name="VVAU_hls_0",
        PE=s.pe, SIMD=s.simd, Dim=[u.pixels, 1], Channels=u.mh, Kernel=[kernel, kernel], inputDataType=idt,
        weightDataType=f"INT{u.wbits}", outputDataType=f"UINT{u.out_bits}" if u.out_bits else "INT32",
        accDataType="INT32", ActVal=0, noActivation=int(not u.out_bits), mem_mode=s.mem_mode,
        ram_style=s.ram_style, resType=s.res_type, backend="fpgadataflow")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, u.pixels, 1, u.mh * kernel ** 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, u.pixels, 1, u.mh])])
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("w", weights.astype(np.float32))
    model.set_tensor_datatype("w", DataType[f"INT{u.wbits}"])
    if u.out_bits:
        model.set_initializer("t", np.sort(rng.integers(-20, 20, (u.mh, 2 ** u.out_bits - 1)), axis=1)
                              .astype(np.float32))
    return getCustomOp(model.graph.node[0])


@settings(max_examples=120, deadline=None)
@given(st.sampled_from([2, 8, 16, 32, 96, 256, 1024]), st.sampled_from([1, 3, 5]), st.sampled_from([1, 16, 49]),
       st.integers(2, 8), st.integers(1, 8), st.booleans(), st.sampled_from([0, 1, 2, 4]), st.data(),
       st.sampled_from(analytic.RAM_STYLES), st.sampled_from(analytic.MEM_MODES), st.sampled_from(analytic.RES_TYPES),
       st.sampled_from(PARTS))
def test_lints_depthwise_cost_model_equals_finns(channels, kernel, pixels, wbits, abits, signed, out_bits, data,
                                                 ram_style, mem_mode, res_type, part):
    signed = signed and abits > 1
    u = analytic.MatrixUnit("dw", kernel * kernel, channels, pixels, wbits, abits, signed, depthwise=True,
                            out_bits=out_bits)
    pe = data.draw(st.sampled_from(analytic.divisors(channels)))
    simd = data.draw(st.sampled_from(analytic.divisors(kernel * kernel) if pe == channels else [1]))
    assert analytic.legal(u, pe, simd)
    s = analytic.Setting(pe, simd, ram_style, mem_mode, res_type)
    inst = finn_vvau(u, s, kernel)
    assert analytic.cycles(u, pe, simd) == inst.get_exp_cycles()
    assert analytic.costs(u, s) == {"LUT": inst.lut_estimation(part), "BRAM_18K": inst.bram_estimation(part),
                                    "URAM": inst.uram_estimation(part), "DSP": inst.dsp_estimation(part)}


def test_a_depthwise_unit_widens_its_window_only_at_full_pe():
    u = analytic.MatrixUnit("dw", 9, 32, 16, 4, 4, False, depthwise=True, out_bits=4)
    picks = {(c.attrs[analytic.OWN]["PE"], c.attrs[analytic.OWN]["SIMD"]) for c in analytic.unit(u).choices}
    assert (32, 9) in picks and (16, 1) in picks
    assert all(simd == 1 or pe == 32 for pe, simd in picks)
