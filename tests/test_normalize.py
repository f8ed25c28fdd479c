"""Input normalisation: `input ... normalize(mean=M, std=S) -> quant Q`, per channel after the
scale, as torchvision and Brevitas' CIFAR recipes normalize. FINN absorbs it into the input
quantizer's thresholds: nothing is left outside the accelerator, and the chain is bit-exact."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import bit_exact_untrained, diagnostics
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.passes.quant import half_way_inputs


def conv_text(norm: str, quant: str = "int8") -> str:
    return f"""
network n {{
  input uint8[3, 8, 8] scale 1/255 {norm} -> quant {quant}
  defaults {{ weights: 2 bit, acts: 2 bit }}
  conv2d c0 (8, kernel=3, padding=1) + batchnorm + act relu
  maxpool (2)
  flatten
  linear out (10) -> label
}}
train {{ dataset: npz(file="d.npz", classes=10), epochs: 1, seed: 3 }}
target pynq-z2 {{ clock: 100 MHz }}
"""


MLP = """
network m {
  input uint8[12] scale 1/255 normalize(mean=0.44, std=0.3) -> quant uint4
  defaults { weights: 2 bit, acts: 2 bit }
  linear fc0 (16) + batchnorm + act relu
  linear out (5) -> label
}
train { dataset: npz(file="d.npz", classes=5), epochs: 1, seed: 2 }
target pynq-z2 { clock: 100 MHz }
"""
PER_CHANNEL = "normalize(mean=[0.49, 0.47, 0.45], std=[0.25, 0.24, 0.26])"


def test_the_normalisation_is_per_channel_and_generated_after_the_scale():
    comp = Compilation(Source(conv_text(PER_CHANNEL), "t.qnn"))
    assert comp.diagnostics() == []
    assert comp.spec.network.input.normalization() == ((0.49, 0.47, 0.45), (0.25, 0.24, 0.26))
    model = comp.plan.files["model.py"]
    assert "INPUT_MEAN = torch.tensor([0.49, 0.47, 0.45]).reshape(1, -1, 1, 1)" in model
    assert "x = x * INPUT_SCALE\n    return (x - INPUT_MEAN) / INPUT_STD" in model  # prepare()
    assert "x = prepare(x)\n        x = self.input_quant(x)" in model
    one = Compilation(Source(conv_text("normalize(mean=0.5, std=0.25)"), "t.qnn")).spec.network.input
    assert one.normalization() == ((0.5,) * 3, (0.25,) * 3)


def test_a_raw_value_normalized_half_way_between_levels_is_warned_about():
    # channel 1: (153/255 - 0.48) / 0.24 * 7 = 3.5 levels, computed in float32 on one side and
    # thresholds on the other; no other raw value of any channel lands half-way
    text = conv_text("normalize(mean=[0.49, 0.48, 0.45], std=[0.25, 0.24, 0.26])", "int4")
    found = [d for d in diagnostics(text) if d.code == "Q047"]
    assert len(found) == 1 and "raw input value 153 falls" in found[0].message
    assert found[0].hint == "move the mean or std a little"
    assert half_way_inputs(Compilation(Source(conv_text(PER_CHANNEL, "int4"), "t.qnn")).spec.network.input) == []


def write_data(folder, shape, classes):
    rng = np.random.default_rng(0)
    np.savez(folder / "d.npz", x_train=rng.integers(0, 256, (64, *shape)).astype(np.uint8),
             y_train=rng.integers(0, classes, 64), x_test=rng.integers(0, 256, (48, *shape)).astype(np.uint8),
             y_test=rng.integers(0, classes, 48))


@pytest.mark.slow
@pytest.mark.parametrize("text,shape,classes", [(conv_text(PER_CHANNEL), (3, 8, 8), 10), (MLP, (12,), 5)],
                         ids=["conv-per-channel-int8", "mlp-uint4"])
def test_a_normalized_input_is_absorbed_by_finn_and_bit_exact_for_any_weights(text, shape, classes, tmp_path):
    """Initial weights: PyTorch, QONNX, FINN's streamlined and hardware-layer models agree on
    held-out samples whose raw values cover 0..255; the estimate leaves nothing outside the
    accelerator (it refuses with Q042 otherwise), and the first unit thresholds the raw input."""
    write_data(tmp_path, shape, classes)
    (tmp_path / "n.qnn").write_text(text)
    comp = Compilation.from_path(tmp_path / "n.qnn")
    assert comp.diagnostics() == []
    model, owners = bit_exact_untrained(comp, tmp_path / "b", samples=48)
    assert model.graph.node[0].op_type.startswith("Thresholding") and owners[model.graph.node[0].name] == "input"


@pytest.mark.parametrize("norm,message", [
    ("normalize(mean=true, std=0.25)", "normalize's mean is a number or a list of numbers, one per channel"),
    ("normalize(mean=0.5, std=1e-320)", "normalize's values would overflow float32 (PyTorch trains in it): the "
                                        "mean is too large or the std too small"),
    ("normalize(mean=1e35, std=1)", "normalize's values would overflow float32 (PyTorch trains in it): the "
                                    "mean is too large or the std too small"),
])
def test_a_normalisation_that_cannot_train_is_refused_with_its_position(norm, message):
    found = diagnostics(conv_text(norm))
    assert [(d.code, d.message) for d in found] == [("Q015", message)]
    assert found[0].span.line == 3 and found[0].span.col >= 36
