"""The training levers a spec sets (label smoothing, learning-rate warm-up, weight decay that
spares the clipped low-bit weights, shifted or elastically bent training samples, batch-norm
momentum), as the generated train.py applies them."""

from __future__ import annotations

import importlib
import itertools
import math
import sys

import pytest

from conftest import SPECS
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
  batchnorm_momentum: 5%
  optimizer: adam(lr=0.01, weight_decay=0.001)
  schedule: cosine(warmup=2)
  augment: shift(pixels=2)
}
target pynq-z2 { }
"""


@pytest.fixture
def importer(tmp_path, monkeypatch):
    """Imports a spec's generated train.py (and the model.py it imports) as a user's script would."""
    def load(text: str):
        _, plan = plan_for(text)
        write_plan(plan, tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        for name in ("train", "model"):
            sys.modules.pop(name, None)
        return importlib.import_module("train")

    yield load
    for name in ("train", "model"):
        sys.modules.pop(name, None)


@pytest.fixture
def generated(importer):
    return importer(SPEC)


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


def test_each_batch_moves_the_running_statistics_by_the_batchnorm_momentum(generated):
    import torch

    model = importlib.import_module("model").Net().train()
    seen = []
    model.fc0_bn.register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    with torch.no_grad():
        model(torch.randint(0, 16, (64, 1, 8, 8)).float())
    # the running mean starts at 0: after one batch it is the momentum times that batch's mean
    assert model.fc0_bn.running_mean.tolist() == pytest.approx((0.05 * seen[0].mean(dim=0)).tolist(), abs=1e-6)
    assert model.fc1_bn.momentum == 0.05


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


def ramps(n: int, size: int):
    """n copies of two images of one channel each: the column index plus 1 and the row index plus 1,
    so that bilinear sampling at a moved point gives back the point's coordinate (plus 1)."""
    import torch

    grid = torch.arange(size, dtype=torch.float32) + 1
    return grid.view(1, 1, 1, -1).expand(n, 1, size, size).contiguous(), \
        grid.view(1, 1, -1, 1).expand(n, 1, size, size).contiguous()


def test_an_elastic_field_moves_each_image_its_own_smooth_way(importer):
    import torch

    elastic = importer(SPEC.replace("shift(pixels=2)", "elastic(alpha=2, sigma=2)"))
    columns, rows = ramps(8, 28)
    torch.manual_seed(0)
    dx = elastic.augment(columns) - columns
    torch.manual_seed(0)
    dy = elastic.augment(rows) - rows  # the same field, drawn again
    inner = (slice(None), 0, slice(4, 24), slice(4, 24))  # never moved out of the image (|field| <= alpha)
    field = torch.stack([dx[inner], dy[inner]])
    assert field.abs().max() <= 2 and field.abs().mean() > 0.05  # moved, by at most alpha
    steps = (field[..., 1:] - field[..., :-1]).abs().mean() / field.abs().mean()
    assert steps < 0.5  # smooth: neighbours move alike (white noise: about 1.1)
    assert not torch.allclose(field[:, 0], field[:, 1], atol=0.01)  # each image its own field
    assert not torch.allclose(field[0], field[1], atol=0.01)  # rows and columns move apart
    torch.manual_seed(0)  # Simard's field: the same noise convolved with a Gaussian cut at 2 sigma, zero-padded
    noise = torch.rand(8 * 2, 1, 28, 28) * 2 - 1
    kernel = torch.exp(-torch.arange(-4.0, 5.0) ** 2 / 8)
    kernel = kernel / kernel.sum()
    smooth = torch.nn.functional.conv2d(noise, kernel.view(1, 1, 1, -1), padding=(0, 4))
    smooth = torch.nn.functional.conv2d(smooth, kernel.view(1, 1, -1, 1), padding=(4, 0)).view(8, 2, 28, 28) * 2
    assert torch.allclose(field, smooth[:, :, 4:24, 4:24].movedim(1, 0), atol=1e-4)
    still = importer(SPEC.replace("shift(pixels=2)", "elastic(alpha=0.000001)"))
    assert torch.allclose(still.augment(columns), columns, atol=1e-4)


@pytest.mark.parametrize("augment", ["shift(pixels=2)", "elastic"])
def test_the_generated_steps_train_on_augmented_samples(importer, monkeypatch, augment):
    import torch

    generated = importer(with_teacher(SPEC.replace("shift(pixels=2)", augment)))
    seen = []
    monkeypatch.setattr(generated, "augment", lambda x: seen.append(x) or torch.zeros_like(x))
    model, teacher = generated.Net(), generated.Teacher()
    x, y = torch.rand(4, 1, 8, 8) * 15, torch.tensor([0, 1, 2, 3])
    generated.train_step(model, generated.make_optimizer(model), x, y, teacher)
    generated.teacher_step(teacher, generated.make_teacher_optimizer(teacher), x, y)
    assert [s.shape for s in seen] == [(4, 1, 8, 8)] * 2


def test_elastic_on_what_is_not_an_image_is_refused():
    from conftest import diagnostics

    text = SPEC.replace("input uint8[1, 8, 8] scale 1/16", "input uint8[1, 64] scale 1/16") \
        .replace("shift(pixels=2)", "elastic(sigma=3)") \
        .replace("dataset: digits", 'dataset: npz(file="s.npz", classes=10)')  # the user's own sequences
    found = diagnostics(text)
    assert [d.code for d in found] == ["Q054"] and "[1, 64]" in found[0].message
    column = text.replace("input uint8[1, 64]", "input uint8[1, 64, 1]")  # an image 1 pixel wide
    assert [d.code for d in diagnostics(column)] == ["Q054"]
    assert diagnostics(SPEC.replace("shift(pixels=2)", "elastic(sigma=3)")) == []


# ---- the float teacher (knowledge distillation) ------------------------------------------
def with_teacher(text: str, setting: str = "teacher: float(epochs=3)") -> str:
    """The spec with a float teacher (the one it has, if it has one)."""
    return text if "\n  teacher:" in text else text.replace("train {", "train {\n  " + setting, 1)


@pytest.fixture
def taught(importer):
    """The generated train.py of SPEC with a float teacher."""
    return importer(with_teacher(SPEC, "teacher: float(epochs=3, weight=0.7, temperature=3)"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_example_has_a_float_twin_for_a_teacher(path, tmp_path):
    """The teacher has every layer with weights of the network, of the same shape, no quantizer,
    a ReLU for every activation, and gives one logit per output of the network's loss."""
    import torch

    from generated import import_model

    comp, plan = plan_for(with_teacher(path.read_text()), path.name)
    module = import_model(write_plan(plan, tmp_path))
    net, teacher = module.Net(), module.Teacher()
    weights = {name: p.shape for name, p in net.named_parameters() if name.endswith(".weight")}
    ours = {name: p.shape for name, p in teacher.named_parameters() if name.endswith(".weight")}
    assert ours == weights
    kinds = {type(mod).__module__.split(".")[0] for mod in teacher.modules()}
    assert kinds == {"torch", module.__name__}  # nothing of Brevitas
    acts = [layer for layer in comp.spec.network.layers if layer.kind == "act"]
    assert sum(isinstance(mod, torch.nn.ReLU) for mod in teacher.modules()) == len(acts)
    net.eval(), teacher.eval()
    x = torch.rand(2, *comp.spec.network.input.shape) * 255
    assert teacher(x).shape == net.logits(x).shape


def test_distillation_pulls_the_logits_towards_the_teachers_and_only_those(taught):
    import torch

    torch.manual_seed(0)
    teacher_logits = torch.randn(8, 10) * 5
    student = (torch.randn(8, 10) * 5).requires_grad_()
    taught.distill(student, teacher_logits).backward()
    assert student.grad.abs().sum() > 0
    same = teacher_logits.clone().requires_grad_()
    loss = taught.distill(same, teacher_logits)
    loss.backward()
    assert float(loss) == pytest.approx(0.0, abs=1e-5) and same.grad.abs().max() < 1e-6
    assert taught.TEACHER_WEIGHT == pytest.approx(0.7) and taught.TEMPERATURE == pytest.approx(3.0)


def test_a_two_class_network_is_distilled_through_its_one_output(importer):
    import torch

    generated = importer(with_teacher(SPEC).replace("linear out (10) -> label", "linear out (1) + act bipolar")
                         .replace("dataset: digits", 'dataset: npz(file="two.npz", classes=2)'))
    taught_logits = torch.tensor([[-3.0], [0.5], [4.0]])
    moved = torch.tensor([[1.0], [-2.0], [0.0]], requires_grad=True)
    generated.distill(moved, taught_logits).backward()
    assert (torch.sign(moved.grad) == -torch.sign(taught_logits - moved.detach())).all()  # downhill is towards
    same = taught_logits.clone().requires_grad_()
    generated.distill(same, taught_logits).backward()
    assert same.grad.abs().max() < 1e-6


def test_the_network_learns_from_a_teacher_that_does_not_learn_with_it(taught):
    import torch

    model_module = importlib.import_module("model")
    model, teacher = model_module.Net(), model_module.Teacher().eval()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    x, y = torch.rand(16, 1, 8, 8) * 15, torch.arange(16) % 10
    optimizer = taught.make_optimizer(model)
    first = [p.clone() for p in model.parameters()]
    taught.train_step(model, optimizer, x, y, teacher)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert all(p.grad is None for p in teacher.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(first, model.parameters(), strict=True))


@pytest.mark.parametrize("name", ["tfc_w1a1", "tfc_w1a2", "tfc_w2a2"])
def test_a_short_train_block_gets_the_tfc_recipe_that_reaches_brevitas(name):
    """The defaults are the TFC examples' recipe (epochs, batch, optimizer, schedule), measured at
    or above Brevitas' accuracy for every TFC bit width over 3 seeds: a spec that names only its
    data and seed generates the very files the example does."""
    import re

    example = next(path for path in SPECS if path.stem == name).read_text()
    short = re.sub(r"^train \{.*?^\}", "train {\n  dataset: mnist\n  seed: 1\n}", example, flags=re.S | re.M)
    assert short != example
    assert plan_for(short, f"{name}.qnn")[1].files == plan_for(example, f"{name}.qnn")[1].files
