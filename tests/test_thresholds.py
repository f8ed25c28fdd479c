"""Thresholds clipped into a unit's reachable range keep its function, for any weights and
thresholds training can produce; a trained network with a threshold FINN would assert on builds
and verifies bit-exactly."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import ROOT

FINN_DOMAIN = "finn.custom_op.fpgadataflow"


def mvau_model(weights: np.ndarray, thresholds: np.ndarray, idt: str, xnor: bool):
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    mw, mh = weights.shape
    steps = thresholds.shape[1]
    node = helper.make_node(
        "MVAU", ["x", "w", "t"], ["y"], domain=FINN_DOMAIN, backend="fpgadataflow", name="MVAU_0",
        MW=mw, MH=mh, SIMD=1, PE=1, inputDataType=idt, weightDataType="BINARY" if xnor else "INT4",
        outputDataType=f"UINT{max(1, int(np.ceil(np.log2(steps + 1))))}", ActVal=0, binaryXnorMode=int(xnor),
        noActivation=0)
    graph = helper.make_graph([node], "mvau", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, mw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, mh])])
    model = ModelWrapper(helper.make_model(graph))
    model.set_tensor_datatype("x", DataType[idt])
    model.set_tensor_datatype("w", DataType["BINARY" if xnor else "INT4"])
    model.set_initializer("w", weights.astype(np.float32))
    model.set_initializer("t", thresholds.astype(np.float32))
    return model


def outputs(model, xs: np.ndarray) -> np.ndarray:
    from qonnx.core.onnx_exec import execute_onnx

    return np.stack([execute_onnx(model, {"x": x[None]})["y"][0] for x in xs])


def corner_inputs(weights: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Per output column, the inputs that reach its smallest and largest sum."""
    return np.concatenate([np.where(weights.T > 0, hi, lo), np.where(weights.T > 0, lo, hi)])


@pytest.mark.parametrize("seed", range(12))
def test_clipping_keeps_every_units_function(seed):
    from qnnc.backends.finn_compat import prepare_finn
    from qnnc.backends.thresholds import clip_thresholds

    prepare_finn()
    rng = np.random.default_rng(seed)
    xnor = seed % 2 == 0
    mw, mh, steps = int(rng.integers(2, 12)), int(rng.integers(1, 6)), 1 if xnor else int(rng.integers(1, 4))
    if xnor:
        idt, lo, hi = "BINARY", 0, 1
        weights = rng.integers(0, 2, (mw, mh))
        reach = mw
    else:
        idt, lo, hi = "INT3", -4, 3
        weights = rng.integers(-8, 8, (mw, mh))
        reach = 4 * 8 * mw
    # thresholds far outside what the unit can reach, at its edges, and inside
    thresholds = np.sort(rng.integers(-3 * reach, 3 * reach, (mh, steps)), axis=1).astype(float)
    thresholds[0, 0] = -2 * reach - 7
    thresholds[-1, -1] = 2 * reach + 7
    model = mvau_model(weights, thresholds, idt, xnor)
    xs = np.concatenate([rng.integers(lo, hi + 1, (40, mw)), corner_inputs(weights, lo, hi)]).astype(np.float32)
    before = outputs(model, xs)
    clipped, changed = clip_thresholds(model)
    after = clipped.get_initializer("t")
    assert changed == ["MVAU_0"]
    assert after.min() >= (0 if xnor else -reach) and after.max() <= (mw + 1 if xnor else reach + 1)
    np.testing.assert_array_equal(outputs(clipped, xs), before)


def finn_minimization(model):
    """FINN's bit-width minimization with its threshold clipping, as step_minimize_bit_width runs it."""
    from finn.transformation.fpgadataflow.minimize_accumulator_width import MinimizeAccumulatorWidth
    from finn.transformation.fpgadataflow.minimize_weight_bit_width import MinimizeWeightBitWidth
    from finn.transformation.streamline.round_thresholds import RoundAndClipThresholds
    from qonnx.transformation.infer_datatypes import InferDataTypes

    for t in (MinimizeWeightBitWidth(), MinimizeAccumulatorWidth(), InferDataTypes(), RoundAndClipThresholds(),
              InferDataTypes(), MinimizeWeightBitWidth()):
        model = model.transform(t)
    return model


@pytest.mark.parametrize("seed", range(8))
def test_an_xnor_units_never_firing_neuron_stays_silent_through_finns_minimization(seed):
    """FINN clips an XNOR unit's thresholds to an accumulator type derived as if its inputs were
    bipolar, which can turn 'never fires' (MW + 1) into a reachable popcount; qnnc puts the
    thresholds back. Checked on the input that agrees with every weight (popcount MW)."""
    from qnnc.backends.finn_compat import prepare_finn
    from qnnc.backends.thresholds import clip_thresholds, restore_xnor_thresholds, xnor_thresholds

    prepare_finn()
    rng = np.random.default_rng(100 + seed)
    mw, mh = int(rng.choice([16, 32, 64])), int(rng.integers(2, 6))  # a power of two: FINN's type ends at MW - 1
    weights = rng.integers(0, 2, (mw, mh))
    weights[0] = 0  # no all-agreeing column in the bipolar view: FINN's range stays below MW
    thresholds = rng.integers(0, mw + 1, (mh, 1)).astype(float)
    thresholds[1, 0] = mw + 50  # never fires
    model = mvau_model(weights, thresholds, "BINARY", True)
    xs = np.concatenate([rng.integers(0, 2, (40, mw)), weights.T]).astype(np.float32)  # weights.T: all agree
    before = outputs(model, xs)
    model, _ = clip_thresholds(model)
    kept = xnor_thresholds(model)
    model = restore_xnor_thresholds(finn_minimization(model), kept)[0]
    np.testing.assert_array_equal(outputs(model, xs), before)


W1A1 = """\
network digits_w1a1 {
  input uint8[1, 8, 8] scale 1/16 -> quant bipolar
  defaults { weights: 1 bit, acts: 1 bit }
  flatten
  linear fc0 (32) + batchnorm + act bipolar
  linear fc1 (32) + batchnorm + act bipolar
  linear out (10) -> label
}

train {
  dataset: digits
  epochs: 1
  batch: 64
  optimizer: adam(lr=0.01)
  seed: 1
}

target pynq-z2 {
  clock: 100 MHz
  fps: max
}
"""


def qnnc(*args):
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("PYTEST_CURRENT_TEST", "XILINX_VIVADO")}
    return subprocess.run([sys.executable, "-m", "qnnc", *args], cwd=ROOT, capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_a_neuron_that_always_fires_builds_and_verifies_bit_exactly(tmp_path):
    import torch
    from qonnx.core.modelwrapper import ModelWrapper

    spec, out = tmp_path / "w1a1.qnn", tmp_path / "b"
    spec.write_text(W1A1)
    trained = qnnc("build", str(spec), "--out", str(out), "--until", "train")
    assert trained.returncode == 0, trained.stderr
    state = torch.load(out / "model.pt", weights_only=False)
    state["model"]["fc1_bn.bias"][0] = 100.0  # always fires: a threshold far below the popcount's 0
    state["model"]["fc1_bn.bias"][1] = -100.0  # never fires
    torch.save(state, out / "model.pt")
    built = qnnc("build", str(spec), "--out", str(out), "--until", "estimate")  # FINN's hardware flow
    assert built.returncode == 0, built.stdout + built.stderr
    stages = json.loads((out / "build.json").read_text())["stages"]
    assert stages["verify"]["outputs"]["bit_exact"] is True
    assert stages["estimate"]["status"] == "done"
    hw = ModelWrapper(str(out / "finn" / "intermediate_models" / "step_convert_to_hw.onnx"))
    xnor = [n for n in hw.graph.node if n.op_type == "MVAU" and len(n.input) > 2]
    assert min(hw.get_initializer(n.input[2]).min() for n in xnor) < 0  # what FINN asserts on
    final = ModelWrapper(str(out / "finn" / "intermediate_models" / "step_qnnc_restore_xnor_thresholds.onnx"))
    fc1 = next(n for n in final.graph.node if n.op_type.startswith("MVAU") and n.name.endswith("_1"))
    assert final.get_initializer(fc1.input[2]).max() == 32 + 1  # the silenced neuron: above fc1's popcount
