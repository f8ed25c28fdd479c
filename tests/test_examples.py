"""The example specs: all lint clean, format stably, and validate to their golden spec."""

from __future__ import annotations

import json

import pytest

from conftest import GOLDEN, SPECS, diagnostics
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.syntax.format import format_module
from qnnc.syntax.parser import parse

REQUIRED = {"tfc_w1a1", "tfc_w2a2", "sfc_w1a1", "lfc_w1a1", "cnv_w1a1", "unsw_w2a2", "digits_cnv_w2a2"}


def test_the_required_examples_exist():
    assert REQUIRED <= {p.stem for p in SPECS}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_lints_clean(path):
    assert diagnostics(path.read_text(), str(path)) == []


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_is_formatted_and_round_trips(path):
    text = path.read_text()
    formatted = format_module(parse(text), Source(text))
    assert formatted == text, "specs/ are kept in canonical layout (qnnc fmt)"
    assert parse(formatted) == parse(text)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_matches_golden_spec(path):
    """Golden file: the validated spec as JSON. A missing snapshot fails; to write it on
    purpose, run tests/update_golden.py and review the diff."""
    golden = GOLDEN / "spec" / f"{path.stem}.json"
    assert golden.exists(), f"no golden snapshot {golden.name}; run tests/update_golden.py"
    spec = Compilation.from_path(path).spec
    assert json.loads(spec.model_dump_json()) == json.loads(golden.read_text())
