"""Structured pruning removes whole units and keeps what survives exactly."""

from __future__ import annotations

import torch

from conftest import ROOT
from generated import import_model, plan_for, write_plan
from qnnc.runtime import prune
from qnnc.spec.model import Linear


def test_the_trainer_keeps_as_many_units_as_the_spec_says():
    for out in (1, 7, 10, 32, 64, 1000):
        for share in (0.0, 0.1, 0.25, 0.3, 0.5, 0.99):
            layer = Linear(name="x", out=out, sparsity=share)
            model = torch.nn.Module()
            model.x = torch.nn.Linear(4, out)
            assert len(prune.choose_kept(model, {"x": share})["x"]) == layer.kept


def test_pruned_conv_net_keeps_the_strongest_channels_exactly(tmp_path):
    text = (ROOT / "specs" / "digits_cnv_w2a2.qnn").read_text()
    _, plan = plan_for(text)
    module = import_model(write_plan(plan, tmp_path))
    torch.manual_seed(0)
    old = module.Net()
    x = torch.randint(0, 17, (4, 1, 8, 8)).float()
    old(x)  # Brevitas initialises its activation scales on the first training batch
    old.eval()
    keep = prune.choose_kept(old, {"conv1": 0.25})
    assert len(keep["conv1"]) == 24
    norms = old.conv1.weight.detach().abs().sum(dim=(1, 2, 3))
    dropped = sorted(set(range(32)) - set(keep["conv1"].tolist()))
    assert norms[dropped].max() <= norms[keep["conv1"]].min()
    new = module.Net(widths={**old.widths, "conv1": 24}).eval()
    prune.transfer(old, new, keep, module.PRUNE_GROUPS)
    assert new.conv1.weight.shape == (24, 16, 3, 3) and new.fc0.weight.shape == (64, 96)
    with torch.no_grad():
        def upto_conv1(net):
            h = net.pool0(net.conv0_act(net.conv0_bn(net.conv0(x * module.INPUT_SCALE))))
            return net.conv1_act(net.conv1_bn(net.conv1(h)))
        assert torch.equal(upto_conv1(new), upto_conv1(old)[:, keep["conv1"]])
        # the flattened fc0 input follows the kept channels, 4 positions each
        assert torch.equal(new.fc0.weight, old.fc0.weight[:, prune._expand(keep["conv1"], 4)])
