"""Generated code: deterministic, golden, ruff-clean, injection-proof, and the model it
describes is the spec's model."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from conftest import GOLDEN, SPECS, TFC
from generated import import_model, plan_for, write_plan
from qnnc.codegen.pycode import ident, literal
from qnnc.errors import InternalError, SpecError
from qnnc.spec import model as m


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_generation_is_deterministic_and_matches_golden(path):
    _, first = plan_for(path.read_text(), path.name)
    _, second = plan_for(path.read_text(), path.name)
    assert first.files == second.files and first.digest == second.digest
    folder = GOLDEN / "codegen" / path.stem
    for rel, text in first.files.items():
        golden = folder / rel
        assert golden.exists(), f"no golden file {golden}; run tests/update_golden.py"
        assert text == golden.read_text(), f"{rel} differs from its golden file"
    assert "/work" not in "".join(first.files.values()) and "/tmp" not in "".join(first.files.values())


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_generated_code_passes_ruff(path, tmp_path):
    _, plan = plan_for(path.read_text(), path.name)
    write_plan(plan, tmp_path)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "."], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def expected_parameters(spec: m.Spec, facts) -> int:
    """Weights, biases and batchnorm affine parameters of the pruned model, from the spec alone."""
    total = 0
    for layer, shape in zip(spec.network.layers, facts.shapes, strict=True):
        if isinstance(layer, m.Linear):
            total += shape.inp[0] * layer.kept + (layer.kept if layer.bias else 0)
        elif isinstance(layer, m.Conv):  # a depthwise filter sees one channel
            filters = shape.out[0]
            seen = 1 if layer.depthwise else shape.inp[0]
            total += seen * filters * math.prod(layer.window) + (filters if layer.bias else 0)
        elif isinstance(layer, m.BatchNorm):
            total += 2 * shape.inp[0]
    return total


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_instantiated_model_matches_spec(path, tmp_path):
    comp, plan = plan_for(path.read_text(), path.name)
    spec, facts = comp.spec, comp.facts
    kept = {layer.name: layer.kept for layer in spec.network.layers if isinstance(layer, m.WeightLayer)}
    net = import_model(write_plan(plan, tmp_path)).Net(widths=kept)  # the model after pruning
    for layer, shape in zip(spec.network.layers, facts.shapes, strict=True):
        if isinstance(layer, m.Residual | m.Add):  # a skip connection: lines of the forward pass, no module
            assert not hasattr(net, layer.name)
            continue
        module = getattr(net, layer.name)
        if isinstance(layer, m.Linear):
            assert (module.in_features, module.out_features) == (shape.inp[0], layer.kept)
            assert int(module.quant_weight().bit_width) == layer.weights
        elif isinstance(layer, m.Conv2d):
            assert (module.in_channels, module.out_channels, module.kernel_size, module.groups) == (
                shape.inp[0], shape.out[0], layer.window, shape.inp[0] if layer.depthwise else 1)
            assert int(module.quant_weight().bit_width) == layer.weights
        elif isinstance(layer, m.Act):
            assert int(module.act_quant.bit_width()) == layer.bits
    counted = sum(p.numel() for name, p in net.named_parameters()
                  if name.split(".")[-1] in ("weight", "bias") and name.count(".") == 1)
    assert counted == expected_parameters(spec, facts)
    x = torch.randint(0, 16, (3, *spec.network.input.shape)).float()
    out = net.eval()(x)
    assert out.shape == (3, math.prod(facts.shapes[-1].out))


def test_injection_through_names_is_refused():
    bad = TFC.replace("linear fc1 (64)", "linear fc1__import__('os') (64)")
    with pytest.raises(SpecError):
        plan_for(bad)


def test_injection_through_strings_becomes_data_not_code():
    bad = TFC.replace("dataset: mnist", 'dataset: "mnist\'); import os; (\'"')
    with pytest.raises(SpecError) as info:
        plan_for(bad)
    assert info.value.diagnostics[0].code == "Q017"


def test_pycode_refuses_anything_but_plain_values():
    assert literal({"a": (1, 2.5, True, None)}) == "{'a': (1, 2.5, True, None)}"
    assert literal("x'); import os; ('") == repr("x'); import os; ('")
    for bad in (object(), float("inf"), {1, 2}):
        with pytest.raises(InternalError):
            literal(bad)
    for bad in ("a b", "import", "x;y", "1x", "os.system"):
        with pytest.raises(InternalError):
            ident(bad)
