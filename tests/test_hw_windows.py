"""Lint's model of the units that feed convolutions and pools (qnnc.hw.windows) must equal
finn-plus's: cycles and LUTs of the RTL sliding-window generator (2-D and 1-D, plain and
depthwise, default and parallel window), cycles of the padding unit and of a max pool's Pool,
for generated shapes and foldings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnnc.hw import analytic, windows

pytest.importorskip("finn")


def finn_node(op: str, domain: str, **attrs):
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()
    node = helper.make_node(op, ["x"], ["y"], domain=f"finn.custom_op.fpgadataflow.{domain}", name=f"{op}_0",
                            backend="fpgadataflow", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    return getCustomOp(ModelWrapper(helper.make_model(graph)).graph.node[0])


def finn_generator(w: windows.Window, simd: int, parallel: bool):
    dt = f"UINT{w.bits}"
    return finn_node("ConvolutionInputGenerator_rtl", "rtl", ConvKernelDim=list(w.kernel), IFMChannels=w.channels,
                     IFMDim=list(w.in_dims), OFMDim=list(w.out_dims), SIMD=simd, Stride=list(w.stride),
                     Dilation=[1, 1], inputDataType=dt, outputDataType=dt, depthwise=int(w.depthwise),
                     parallel_window=int(parallel))


@st.composite
def window_shapes(draw):
    one_d = draw(st.booleans())
    k = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    size = draw(st.integers(max(k, s), 34))
    out = (size - k) // s + 1
    channels = draw(st.sampled_from([1, 2, 3, 16, 24, 64]))
    if one_d:
        dims, kernel, stride = ((size, 1), (out, 1)), (k, 1), (s, 1)
    else:
        dims, kernel, stride = ((size, size), (out, out)), (k, k), (s, s)
    return windows.Window(channels, *dims, kernel, stride, draw(st.integers(1, 8)), depthwise=draw(st.booleans()))


@settings(max_examples=200, deadline=None)
@given(window_shapes(), st.data())
def test_the_window_generator_model_equals_finns(w, data):
    parallel = not w.depthwise and w.kernel != (1, 1) and data.draw(st.booleans())
    simd = w.channels if parallel else data.draw(st.sampled_from(analytic.divisors(w.channels)))
    if w.kernel == (1, 1) and not w.depthwise:
        simd = w.channels  # FINN's parallel style, which a pointwise window always takes, streams all channels
    inst = finn_generator(w, simd, parallel)
    assert windows.generator_cycles(w, simd, parallel) == inst.get_exp_cycles()
    assert windows.buffer_depth(w, simd, parallel) == inst.get_buffer_depth()
    assert windows.generator_luts(w, simd, parallel) == inst.lut_estimation("xc7z020clg400-1")
    assert inst.bram_estimation("xc7z020clg400-1") == 0  # the buffer is LUT-RAM by default


@settings(max_examples=50, deadline=None)
@given(window_shapes(), st.data())
def test_the_padding_and_pool_models_equal_finns(w, data):
    pe = data.draw(st.sampled_from(analytic.divisors(w.channels)))
    pad = finn_node("FMPadding_rtl", "rtl", ImgDim=[d - 2 for d in w.in_dims] if min(w.in_dims) > 2 else
                    list(w.in_dims), Padding=[1, 1, 1, 1] if min(w.in_dims) > 2 else [0, 0, 0, 0],
                    NumChannels=w.channels, SIMD=pe, inputDataType="UINT2", numInputVectors=1)
    assert windows.padding_cycles(w.channels, w.in_dims, pe) == pad.get_exp_cycles()
    pool = finn_node("Pool_hls", "hls", Channels=w.channels, PE=pe, KernelSize=list(w.kernel), Function="MaxPool",
                     OutImgDims=list(w.out_dims), BatchSize=1, InputDataType="UINT2", OutputDataType="UINT2")
    assert windows.pool_cycles(w, pe) == pool.get_exp_cycles()
