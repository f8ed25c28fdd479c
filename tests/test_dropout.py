"""Dropout (Brevitas' FC and CNV use it): zeroes a share of values while training, is an
identity when evaluated, and never reaches the exported model or the hardware."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import MLP, run_qnnc
from generated import import_model, plan_for, write_plan

DROPPING = MLP.read_text().replace("linear fc0 (32) + batchnorm + act relu",
                                   "linear fc0 (32) + batchnorm + act relu + dropout (0.5)").replace(
    "linear out (10)", "dropout (p=0.25)\n  linear out (10)")


def test_dropout_trains_and_evaluates_as_pytorch_does(tmp_path):
    assert DROPPING != MLP.read_text()
    comp, plan = plan_for(DROPPING, "d.qnn")
    assert comp.diagnostics() == []
    drops = [layer for layer in comp.spec.network.layers if layer.kind == "dropout"]
    assert [(d.name, d.p) for d in drops] == [("fc0_drop", 0.5), ("drop0", 0.25)]
    net = import_model(write_plan(plan, tmp_path)).Net(widths={})
    x = torch.randint(0, 17, (64, 1, 8, 8)).float()
    net.train()
    torch.manual_seed(0)
    first = net.logits(x)
    torch.manual_seed(1)
    assert not torch.equal(first, net.logits(x))  # a random share is zeroed in training
    net.eval()
    assert torch.equal(net(x), net(x))  # an identity when evaluated


@pytest.mark.slow
def test_dropout_never_reaches_the_exported_model(tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper

    spec = tmp_path / "d.qnn"
    spec.write_text(DROPPING)
    out = tmp_path / "b"
    built = run_qnnc("build", str(spec), "--out", str(out), "--until", "verify", "--epochs", "1")
    assert built.returncode == 0, built.stdout + built.stderr
    exported = ModelWrapper(str(out / "export" / "model.qonnx.onnx"))
    assert not [n for n in exported.graph.node if n.op_type == "Dropout"]
    assert json.loads((out / "build.json").read_text())["stages"]["verify"]["outputs"]["bit_exact"]
