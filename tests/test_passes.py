"""Pass ordering, and the pure functions the passes are built from."""

from __future__ import annotations

import pytest

from conftest import ROOT, TFC
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.passes import PASSES, analyze
from qnnc.passes.folding import divisors, near_divisors


def test_every_pass_runs_after_the_passes_it_needs():
    provided: set[str] = set()
    for p in PASSES:
        assert p.requires <= provided, f"pass '{p.name}' needs {set(p.requires - provided)} first"
        provided |= p.provides


def test_pass_names_are_unique():
    assert len({p.name for p in PASSES}) == len(PASSES)


def test_passes_do_not_change_the_spec():
    spec = Compilation(Source(TFC)).spec
    before = spec.model_dump_json()
    analyze(spec)
    assert spec.model_dump_json() == before


def test_shapes_follow_the_network():
    facts, diags = analyze(Compilation(Source(TFC)).spec)
    assert diags == []
    assert [(s.name, s.inp, s.out) for s in facts.shapes if s.kind == "linear"] == [
        ("fc0", (784,), (64,)), ("fc1", (64,), (64,)), ("fc2", (64,), (64,)), ("out", (64,), (10,)),
    ]


def test_conv_shapes_with_padding_and_pooling():
    text = (ROOT / "specs" / "cnv_w1a1.qnn").read_text()
    facts, _ = analyze(Compilation(Source(text)).spec)
    convs = [(s.name, s.out) for s in facts.shapes if s.kind in ("conv2d", "maxpool")]
    assert convs == [
        ("conv0", (64, 30, 30)), ("conv1", (64, 28, 28)), ("pool0", (64, 14, 14)), ("conv2", (128, 12, 12)),
        ("conv3", (128, 10, 10)), ("pool1", (128, 5, 5)), ("conv4", (256, 3, 3)), ("conv5", (256, 1, 1)),
    ]


@pytest.mark.parametrize("n", [1, 7, 12, 784, 1024])
def test_divisors_divide(n):
    ds = divisors(n)
    assert all(n % d == 0 for d in ds) and ds[0] == 1 and ds[-1] == n
    assert len(ds) == sum(1 for d in range(1, n + 1) if n % d == 0)


def test_near_divisors_are_nearest_first():
    assert near_divisors(784, 48) == [49, 56, 28]
    assert near_divisors(48, 64) == [48, 24, 16]
