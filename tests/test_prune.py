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


def test_pruning_the_layer_before_a_depthwise_conv_prunes_its_filters_too(tmp_path):
    """A depthwise conv has one filter per channel of its input: pruning the pointwise conv
    before it removes the same channels from its filters, batchnorm and everything after."""
    text = (ROOT / "specs" / "digits_mobilenet_w4a4.qnn").read_text().replace(
        "conv2d pw1 (32, kernel=1) + batchnorm + act relu",
        "conv2d pw1 (32, kernel=1) + batchnorm + act relu sparsity 25%")
    _, plan = plan_for(text)
    module = import_model(write_plan(plan, tmp_path))
    torch.manual_seed(0)
    old = module.Net()
    x = torch.randint(0, 17, (4, 1, 8, 8)).float()
    old(x)
    old.eval()
    keep = prune.choose_kept(old, {"pw1": 0.25})
    new = module.Net(widths={**old.widths, "pw1": 24}).eval()
    prune.transfer(old, new, keep, module.PRUNE_GROUPS)
    assert new.dw2.weight.shape == (24, 1, 3, 3) and new.dw2.groups == 24 and new.pw2.weight.shape == (64, 24, 1, 1)
    assert torch.equal(new.dw2.weight, old.dw2.weight[keep["pw1"]])
    with torch.no_grad():
        def upto_dw2(net):
            h = x * module.INPUT_SCALE
            for name in ("conv0", "conv0_bn", "conv0_act", "dw1", "dw1_bn", "dw1_act", "pw1", "pw1_bn", "pw1_act",
                         "dw2", "dw2_bn", "dw2_act"):
                h = getattr(net, name)(h)
            return h
        assert torch.equal(upto_dw2(new), upto_dw2(old)[:, keep["pw1"]])
