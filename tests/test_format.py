"""`qnnc fmt` loses nothing: every comment, wherever it stands, survives formatting with its
text, next to what it annotates, and formatting is idempotent and keeps the spec's meaning."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SPECS
from qnnc.errors import Source, SpecError
from qnnc.syntax.format import format_module
from qnnc.syntax.parser import parse

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def fmt(text: str) -> str:
    return format_module(parse(text), Source(text))


def markers(text: str) -> list[str]:
    return re.findall(r"c\d+!", text)


def with_comments(text: str, data) -> str:
    """Comments at the end of chosen lines and on lines of their own between chosen lines."""
    out, n = [], 0
    for line in text.split("\n"):
        if data.draw(st.booleans()):
            out.append(f"{'  ' * data.draw(st.integers(0, 2))}# c{n}!")
            n += 1
        if line.strip() and data.draw(st.booleans()):
            line += f"  # c{n}!"
            n += 1
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
@FUZZ
@given(data=st.data())
def test_fmt_keeps_every_comment_and_is_idempotent(path, data):
    text = with_comments(path.read_text(), data)
    once = fmt(text)
    assert sorted(markers(once)) == sorted(markers(text)), "a comment was lost or duplicated"
    assert fmt(once) == once
    assert parse(once).sections == parse(text).sections


@pytest.mark.parametrize("path", SPECS[:3], ids=lambda p: p.stem)
@FUZZ
@given(data=st.data())
def test_fmt_keeps_comments_on_fuzzed_layouts(path, data):
    """Blank lines, extra spaces and comments anywhere a line ends, on specs that still parse."""
    lines = [(" " * data.draw(st.integers(0, 4))) + line.strip() + ("\n" if data.draw(st.booleans()) else "")
             for line in path.read_text().split("\n")]
    text = with_comments("\n".join(lines), data)
    try:
        parse(text)
    except SpecError:
        return
    once = fmt(text)
    assert sorted(markers(once)) == sorted(markers(text))
    assert fmt(once) == once


def test_comments_on_block_lines_stay_on_their_lines():
    text = ("network n {  # a\n  input uint8[4]\n  linear out (2) -> label\n}  # b\n\n"
            "train {  # c\n  dataset: digits\n}  # d\n")
    once = fmt(text)
    assert "network n {  # a" in once and "}  # b" in once and "train {  # c" in once and "}  # d" in once
