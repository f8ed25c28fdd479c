"""Grammar fuzzing: whatever the text, the front end raises nothing but QnncError (a bug would
surface as any other exception), and a valid text formats to an equivalent text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from conftest import SPECS
from qnnc.compiler import Compilation
from qnnc.errors import QnncError, Source, SpecError
from qnnc.syntax.format import format_module
from qnnc.syntax.parser import grammar_path, parse

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def check(text: str) -> None:
    """The whole lint path; only QnncError may escape, and only as SpecError."""
    try:
        Compilation(Source(text, "fuzz.qnn")).diagnostics()
        module = parse(text)
    except SpecError as exc:
        assert exc.diagnostics, "a SpecError always carries a diagnostic"
        return
    except QnncError as exc:  # pragma: no cover - would be a bug
        raise AssertionError(f"unexpected {type(exc).__name__}: {exc}") from exc
    formatted = format_module(module, Source(text))
    assert parse(formatted) == module


def _grammar_for_generation() -> Lark:
    # hypothesis generates from the grammar's terminals; newlines are given explicitly
    return Lark(grammar_path().read_text(), parser="lalr", lexer="basic", start="start")


NAMES = st.sampled_from(["fc0", "out", "linear", "conv2d", "act", "relu", "bipolar", "mnist",
                         "pynq-z2", "train", "target", "network", "x", "pe", "simd", "label", "uint8"])
TERMINALS = {
    "NAME": NAMES,
    "NUMBER": st.sampled_from(["0", "1", "2", "8", "16", "64", "784", "0.5", "1e6", "-3"]),
    "_NL": st.just("\n"),
    "COMMENT": st.just("# c"),
    "STRING": st.just('"s"'),
}


@FUZZ
@given(from_lark(_grammar_for_generation(), explicit=TERMINALS))
def test_grammar_generated_text_never_crashes(text):
    check(text)


@pytest.mark.parametrize("path", SPECS[:4], ids=lambda p: p.stem)
@FUZZ
@given(data=st.data())
def test_mutated_real_specs_never_crash(path, data):
    text = path.read_text()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        piece = data.draw(st.sampled_from(["", "(", ")", "{", "}", ",", ":", "\n", "-", "->", "+", "%", "0",
                                           "99999999999999999999", "1e400", "0/0", "linear", "fold x {", "#"]))
        text = text[:i] + piece + text[j:]
    check(text)


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_arbitrary_text_never_crashes(text):
    check(text)
