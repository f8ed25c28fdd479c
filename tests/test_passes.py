"""Pass ordering, and the pure functions the passes are built from."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, TFC
from qnnc.compiler import Compilation
from qnnc.errors import Source, Span
from qnnc.passes import PASSES, analyze
from qnnc.passes.folding import divisors, near_divisors
from qnnc.passes.quant import half_way_inputs
from qnnc.spec import model as m
from qnnc.spec.types import ValueType


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


def _half_way_by_trying_every_value(dtype: str, scale: float, quant: str) -> list[int]:
    """The definition, value by value: the quantizer's level sits exactly between two integers."""
    raw = ValueType.parse(dtype).values
    bits, signed = int(quant.lstrip("uint")), not quant.startswith("u")
    levels = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
    s = Fraction(scale).limit_denominator(1 << 20)
    found = []
    for v in raw:
        q = ((2 * v * s - 1) if signed else v * s) * levels
        if abs(q) <= levels and q.denominator == 2:
            found.append(v)
    return found


@given(dtype=st.sampled_from(["uint8", "int8", "uint4", "int6", "uint10", "int2"]),
       quant=st.sampled_from(["uint2", "int2", "uint4", "int4", "uint8", "int8", "int3", "uint5"]),
       num=st.integers(1, 40), den=st.integers(1, 600))
@settings(max_examples=300, deadline=None)
def test_half_way_inputs_solve_what_trying_every_value_finds(dtype, quant, num, den):
    inp = m.InputSpec(dtype=dtype, shape=(4,), scale=num / den, quant=quant, span=Span(1, 1, 1, 1))
    assert half_way_inputs(inp, most=10**6) == _half_way_by_trying_every_value(dtype, num / den, quant)


def test_half_way_inputs_of_a_32_bit_input_take_no_time():
    inp = m.InputSpec(dtype="uint32", shape=(4,), scale=1 / 2**10, quant="uint8", span=Span(1, 1, 1, 1))
    assert half_way_inputs(inp) == _half_way_by_trying_every_value("uint11", 1 / 2**10, "uint8")[:5] != []
