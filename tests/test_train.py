"""Training as a user runs it: the generated train.py on a small slice of real data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import ROOT, SPECS
from generated import plan_for, write_plan
from qnnc.runtime.data import DatasetMissingError, load
from qnnc.runtime.user_data import UserDataError

MLP = (ROOT / "specs" / "digits_mlp_w2a2.qnn").read_text()


def run_train(folder, *args, timeout=300):
    return subprocess.run([sys.executable, "train.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=timeout)


def test_short_training_lowers_the_loss_and_writes_metrics(tmp_path):
    _, plan = plan_for(MLP)
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "4")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    losses = [row["loss"] for row in metrics["curve"]]
    assert len(losses) == 4 and losses[-1] < losses[0] * 0.8
    assert metrics["test_accuracy"] > 0.3  # ten classes: chance is 0.1
    assert metrics["seed"] == 1 and metrics["versions"]["torch"].startswith("2.13.0")
    assert (tmp_path / "model.pt").exists() and (tmp_path / "checkpoints" / "last.pt").exists()


def test_pruned_network_is_physically_smaller(tmp_path):
    text = MLP.replace("linear fc1 (32) + batchnorm + act relu", "linear fc1 (32) + batchnorm + act relu sparsity 50%")
    _, plan = plan_for(text)
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "2")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["widths"]["fc1"] == 16 and metrics["widths"]["fc0"] == 32
    assert [row["phase"] for row in metrics["curve"]] == ["train", "train", "finetune"]


def test_a_held_out_validation_share_is_scored_every_epoch(tmp_path):
    _, plan = plan_for(MLP)
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "2", "--validation", "0.2")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["train_samples"], metrics["validation_samples"]) == (1198, 299)  # 1,497 digits: 20 % held out
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert curve == metrics["curve"] and all(0.1 < row["val_accuracy"] <= 1 for row in curve)
    assert "val acc" in result.stdout


def test_the_model_kept_is_the_best_epoch_by_validation_and_the_test_set_is_scored_once(tmp_path):
    """Whatever the weights, model.pt is the epoch with the best validation accuracy (the
    earliest of equals), scoring it again on the held-out samples gives that accuracy, and no
    epoch looked at the test set."""
    _, plan = plan_for(MLP)
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "5", "--validation", "0.2")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    scores = [row["val_accuracy"] for row in metrics["curve"]]
    assert metrics["validation_accuracy"] == max(scores)
    assert metrics["kept_epoch"] == scores.index(max(scores)) + 1
    assert not any("test_accuracy" in row for row in metrics["curve"]) and result.stdout.count("test acc") == 1
    assert f"kept epoch {metrics['kept_epoch']}" in result.stdout
    rescored = subprocess.run([sys.executable, "-c", RESCORE], cwd=tmp_path, capture_output=True, text=True)
    assert rescored.returncode == 0, rescored.stderr
    assert float(rescored.stdout) == pytest.approx(metrics["validation_accuracy"], abs=1e-6)


RESCORE = """
import torch
from qnnc.runtime.trainer import accuracy, load_tensors
import train
saved = torch.load("model.pt")
model = train.Net(widths=saved["widths"])
model.load_state_dict(saved["model"])
tensors = load_tensors(train.RECIPE.with_overrides(validation=0.2))
print(accuracy(model, train.predict, tensors.x_val, tensors.y_val))
"""


def test_patience_stops_a_phase_at_the_first_epoch_without_improvement_for_that_long(tmp_path):
    """For any learning curve: training runs until ``patience`` epochs have passed since the
    best validation accuracy, or to the last epoch; then the fine-tuning phase still runs."""
    text = MLP.replace("linear fc1 (32) + batchnorm + act relu", "linear fc1 (32) + batchnorm + act relu sparsity 50%")
    text = text.replace("train {", "train {\n  patience: 1\n  finetune: 2", 1)
    _, plan = plan_for(text)
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "10", "--validation", "0.3")
    assert result.returncode == 0, result.stderr
    curve = json.loads((tmp_path / "metrics.json").read_text())["curve"]
    train = [row for row in curve if row["phase"] == "train"]
    best, expected = 0, 10
    for row in train:
        if row["val_accuracy"] > best:
            best, best_epoch = row["val_accuracy"], row["epoch"]
        elif row["epoch"] - best_epoch >= 1:
            expected = row["epoch"]
            break
    assert len(train) == expected and ("stopped" in train[-1]) == (expected < 10)
    assert [row["epoch"] for row in curve if row["phase"] == "finetune"] == [11, 12]


def test_the_validation_split_is_seeded_disjoint_and_complete():
    from qnnc.runtime.trainer import validation_split

    train, val = validation_split(1000, 0.1, seed=3)
    assert len(val) == 100 and len(train) == 900
    assert sorted({*train.tolist(), *val.tolist()}) == list(range(1000))
    again, other = validation_split(1000, 0.1, seed=3), validation_split(1000, 0.1, seed=4)
    assert again[1].tolist() == val.tolist() and other[1].tolist() != val.tolist()
    assert validation_split(1000, 0.0, seed=3) is None and len(validation_split(2, 0.01, seed=0)[1]) == 1


@pytest.mark.slow
def test_kill_9_then_rerun_resumes_from_the_checkpoint(tmp_path):
    _, plan = plan_for(MLP)
    write_plan(plan, tmp_path)
    proc = subprocess.Popen([sys.executable, "train.py", "--epochs", "10"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ckpt = tmp_path / "checkpoints" / "last.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = proc.stdout.read()
    done_before = before.count("epoch ") - before.count("resuming")
    assert ckpt.exists() and 0 < done_before < 10
    result = run_train(tmp_path, "--epochs", "10")
    assert result.returncode == 0, result.stderr
    assert "resuming from checkpoints/last.pt" in result.stdout
    epochs = [row["epoch"] for row in json.loads((tmp_path / "metrics.json").read_text())["curve"]]
    assert epochs == list(range(1, 11))
    first_run_again = result.stdout.count("/10 (train)")
    assert first_run_again < 10  # the rerun did not start over


def _installed(spec) -> bool:
    """Whether the spec's data is here: a built-in dataset installed, or the user's data beside
    the spec (tests/test_user_data.py builds those examples on generated data)."""
    from qnnc.runtime.data import check_available

    try:
        check_available(spec.dataset_value, spec.folder)
        load(spec.dataset_value, spec.folder)
    except (DatasetMissingError, UserDataError):
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_example_trains_on_a_slice(path, tmp_path):
    comp, plan = plan_for(path.read_text(), str(path))
    if not _installed(comp.spec):
        pytest.skip(f"the data of {path.name} is not installed on this machine")
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "1", "--samples", "256", "--test-samples", "256")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    held = round(256 * comp.spec.train.validation)
    assert (metrics["train_samples"], metrics["validation_samples"]) == (256 - held, held)


def _kill_after_first_checkpoint(folder, *args):
    proc = subprocess.Popen([sys.executable, "train.py", *args], cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt = folder / "checkpoints" / "last.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return ckpt.exists() and not (folder / "model.pt").exists()


def _killed_and_whole(plan, tmp_path, *args) -> tuple[subprocess.CompletedProcess, dict, dict]:
    """The same training run whole and killed after its first checkpoint then run again: the
    second run's result and both metrics; the model.pt of both must be the same bytes."""
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    for folder in (whole, resumed):
        write_plan(plan, folder)
    assert run_train(whole, *args).returncode == 0
    assert _kill_after_first_checkpoint(resumed, *args)
    again = run_train(resumed, *args)
    assert again.returncode == 0, again.stderr
    assert (resumed / "model.pt").read_bytes() == (whole / "model.pt").read_bytes()
    a, b = (json.loads((f / "metrics.json").read_text()) for f in (whole, resumed))
    return again, a, b


def test_a_resumed_training_equals_an_uninterrupted_one(tmp_path):
    """Killed early, while Brevitas still calibrates its ReLU scales from runtime statistics
    (its first 300 steps: 12 epochs of the digits at batch 64), and resumed: the same model,
    byte for byte, and the same metrics as a training never interrupted."""
    again, a, b = _killed_and_whole(plan_for(MLP)[1], tmp_path, "--epochs", "6")
    assert "resuming from checkpoints/last.pt" in again.stdout
    assert a["test_accuracy"] == b["test_accuracy"]
    assert [(r["epoch"], r["loss"]) for r in a["curve"]] == [(r["epoch"], r["loss"]) for r in b["curve"]]


@pytest.mark.parametrize("damage", [b"", b"garbage", None], ids=["empty", "garbage", "truncated"])
def test_an_unreadable_checkpoint_is_set_aside_and_training_starts_over(tmp_path, damage):
    _, plan = plan_for(MLP)
    write_plan(plan, tmp_path)
    assert _kill_after_first_checkpoint(tmp_path, "--epochs", "3")
    ckpt = tmp_path / "checkpoints" / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100] if damage is None else damage)
    result = run_train(tmp_path, "--epochs", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "last.pt cannot be read" in result.stdout and "moved to last.pt.unreadable" in result.stdout
    assert (tmp_path / "checkpoints" / "last.pt.unreadable").exists() and (tmp_path / "model.pt").exists()


def test_a_checkpoint_of_another_recipe_is_never_resumed(tmp_path):
    _, plan = plan_for(MLP)
    write_plan(plan, tmp_path)
    assert _kill_after_first_checkpoint(tmp_path, "--epochs", "20")
    result = run_train(tmp_path, "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert "belongs to another recipe (differs in epochs)" in result.stdout and "resuming" not in result.stdout
    assert [r["epoch"] for r in json.loads((tmp_path / "metrics.json").read_text())["curve"]] == [1, 2]


TAUGHT = MLP.replace("train {", "train {\n  teacher: float(epochs=4)", 1)


def test_a_teacher_is_trained_first_and_the_network_kept_is_the_students(tmp_path):
    """The float teacher's epochs come first (no more of them than --epochs asks for), each
    scored on the validation share; the model kept is the quantized network's best epoch after
    them, and model.pt holds it alone."""
    _, plan = plan_for(TAUGHT)
    write_plan(plan, tmp_path)
    result = run_train(tmp_path, "--epochs", "3")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [row["phase"] for row in metrics["curve"]] == ["teacher"] * 3 + ["train"] * 3
    teacher = metrics["teacher"]
    scores = [row["val_accuracy"] for row in metrics["curve"]]
    assert teacher["epochs"] == 3 and teacher["val_accuracy"] == max(scores[:3]) > 0.5
    assert metrics["kept_epoch"] > 3 and metrics["validation_accuracy"] == max(scores[3:])
    saved = torch.load(tmp_path / "model.pt", weights_only=False)
    plain = tmp_path / "plain"
    write_plan(plan_for(MLP)[1], plain)
    assert run_train(plain, "--epochs", "1").returncode == 0
    assert saved["model"].keys() == torch.load(plain / "model.pt", weights_only=False)["model"].keys()


def test_a_training_killed_while_its_teacher_learns_resumes_to_the_same_model(tmp_path):
    again, a, b = _killed_and_whole(plan_for(TAUGHT)[1], tmp_path, "--epochs", "2")
    assert "resuming from checkpoints/last.pt: 1 of 4 epochs done" in again.stdout
    assert a["teacher"] == b["teacher"] and a["test_accuracy"] == b["test_accuracy"]
