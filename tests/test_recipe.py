"""The training levers a spec sets (label smoothing, learning-rate warm-up, weight decay that
spares the clipped low-bit weights, shifted training samples), as the generated train.py
applies them."""

from __future__ import annotations

import importlib
import itertools
import math
import sys

import pytest

from generated import plan_for, write_plan

SPEC = """
network levers {
  input uint8[1, 8, 8] scale 1/16
  defaults { weights: 2 bit, acts: 2 bit }
  flatten
  linear fc0 (32) + batchnorm + act relu
  linear fc1 (16) weights 8 bit + batchnorm + act relu
  linear out (10) -> label
}
train {
  dataset: digits
  epochs: 6
  label_smoothing: 10%
  optimizer: adam(lr=0.01, weight_decay=0.001)
  schedule: cosine(warmup=2)
  augment: shift(pixels=2)
}
target pynq-z2 { }
"""


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """The generated train.py and model.py, imported as a user's script would."""
    _, plan = plan_for(SPEC)
    write_plan(plan, tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("train", "model"):
        sys.modules.pop(name, None)
    yield importlib.import_module("train")
    for name in ("train", "model"):
        sys.modules.pop(name, None)


def test_the_learning_rate_warms_up_linearly_then_follows_the_schedule(generated):
    import torch

    model = generated.Net()
    optimizer = generated.make_optimizer(model)
    steps = 10
    schedule = generated.make_schedule(optimizer, 6, steps)
    rates = []
    for _ in range(6 * steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    warm = rates[: 2 * steps]
    assert warm[0] == pytest.approx(0.01 * 0.01) and all(b > a for a, b in itertools.pairwise(warm))
    after = rates[2 * steps:]
    assert after[0] == pytest.approx(0.01)  # the full rate once warm
    cosine = [0.01 * (1 + math.cos(math.pi * i / (4 * steps))) / 2 for i in range(4 * steps)]
    assert after == pytest.approx(cosine, rel=1e-6, abs=1e-9)
    one = generated.make_schedule(torch.optim.SGD(model.parameters(), lr=0.01), 1, steps)  # a 1-epoch fine-tuning
    assert not isinstance(one, torch.optim.lr_scheduler.SequentialLR)


def test_weight_decay_spares_the_clipped_weights_only(generated):
    model = generated.Net()
    optimizer = generated.make_optimizer(model)
    clipped = {id(getattr(model, name).weight) for name in importlib.import_module("model").CLIPPED}
    decay = {id(p): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    assert sorted(decay) == sorted(id(p) for p in model.parameters())  # every parameter, once
    assert clipped and all(decay[i] == 0.0 for i in clipped)
    assert all(decay[id(p)] == 0.001 for p in model.parameters() if id(p) not in clipped)
    assert id(model.fc1.weight) not in clipped  # 8-bit weights are scaled, not clipped: they decay


def test_label_smoothing_reaches_the_loss(generated):
    assert generated.LOSS.label_smoothing == pytest.approx(0.1)


def test_a_two_class_target_is_smoothed_towards_one_half():
    import torch

    from qnnc.codegen.train import binary_target

    labels = {"y": torch.tensor([0, 1])}
    assert eval(binary_target(0.2), labels).flatten().tolist() == pytest.approx([0.1, 0.9])  # noqa: S307 - our own text
    assert binary_target(0.0) == "y.float().unsqueeze(1)"


def shifted(x, dy: int, dx: int):
    """x moved by dy rows and dx columns, zero-filled (the brute-force reference)."""
    import torch

    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(0, dy): h + min(0, dy), max(0, dx): w + min(0, dx)] = \
        x[..., max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
    return out


def test_each_training_sample_is_shifted_by_at_most_two_pixels_its_own_way(generated):
    import torch

    torch.manual_seed(0)
    x = torch.rand(200, 1, 8, 8) + 0.5  # no zeros of its own: the shift is recognisable
    moved = generated.augment(x)
    assert moved.shape == x.shape
    found = []
    for a, b in zip(x, moved, strict=True):
        shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(shifted(a, dy, dx), b)]
        assert len(shifts) == 1, shifts
        found.append(shifts[0])
    assert set(found) == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}  # every shift, both ways


def test_a_sequence_is_shifted_along_its_length(generated):
    import torch

    x = torch.arange(1, 2 * 2 * 16 + 1, dtype=torch.float32).view(2, 2, 16)
    moved = generated.augment(x, most=3)
    for a, b in zip(x, moved, strict=True):
        kept = b[b != 0]
        assert 13 <= len(kept) // 2 <= 16 and torch.equal(b[0][b[0] != 0] + 16, b[1][b[1] != 0])
        assert any(torch.equal(shifted(a.unsqueeze(1), 0, d).squeeze(1), b) for d in range(-3, 4))


def test_the_generated_step_trains_on_shifted_samples(generated, monkeypatch):
    import torch

    seen = []
    monkeypatch.setattr(generated, "augment", lambda x: seen.append(x) or torch.zeros_like(x))
    model = generated.Net()
    x, y = torch.rand(4, 1, 8, 8) * 15, torch.tensor([0, 1, 2, 3])
    generated.train_step(model, generated.make_optimizer(model), x, y)
    assert len(seen) == 1 and seen[0].shape == (4, 1, 8, 8)


@pytest.mark.parametrize("change,where", [
    ("input uint8[1, 8, 8] scale 1/16", "input uint8[1, 8, 8] scale 1/16"),  # no change: clean
    ("augment: shift(pixels=2)", "augment: shift(pixels=8)"),  # as wide as the input
])
def test_a_shift_the_input_cannot_take_is_refused(change, where):
    from conftest import diagnostics

    codes = [d.code for d in diagnostics(SPEC.replace(change, where))]
    assert codes == ([] if change == where else ["Q053"])


def test_a_shift_of_features_is_refused():
    from conftest import diagnostics

    text = SPEC.replace("input uint8[1, 8, 8] scale 1/16", "input uint8[64] scale 1/16").replace("  flatten\n", "") \
        .replace("dataset: digits", 'dataset: npz(file="features.npz", classes=10)')  # the user's own features
    found = diagnostics(text)
    assert [d.code for d in found] == ["Q053"] and "features" in found[0].message
