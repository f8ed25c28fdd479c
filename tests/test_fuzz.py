"""Grammar fuzzing: whatever the text, the front end raises nothing but QnncError (a bug would
surface as any other exception), and a valid text formats to an equivalent text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from conftest import ROOT, SPECS
from qnnc.compiler import Compilation
from qnnc.errors import QnncError, Source, SpecError
from qnnc.syntax.format import format_module
from qnnc.syntax.parser import grammar_path, parse

MOBILENET = ROOT / "specs" / "digits_mobilenet_w4a4.qnn"  # depthwise convolutions
VGG10 = ROOT / "specs" / "radioml_vgg10_w4a4.qnn"  # 1-D convolutions and pooling
RESNET = ROOT / "specs" / "digits_resnet_w2a2.qnn"  # residual blocks
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


NAMES = st.sampled_from(["fc0", "out", "linear", "conv2d", "conv1d", "maxpool", "maxpool1d", "avgpool", "groups",
                         "kernel", "residual", "normalize", "act", "relu",
                         "bipolar", "mnist", "pynq-z2", "train", "target", "network", "x", "pe", "simd", "label",
                         "uint8"])
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


@pytest.mark.parametrize("path", [*SPECS[:4], MOBILENET, VGG10, RESNET], ids=lambda p: p.stem)
@FUZZ
@given(data=st.data())
def test_mutated_real_specs_never_crash(path, data):
    text = path.read_text()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        piece = data.draw(st.sampled_from(["", "(", ")", "{", "}", ",", ":", "\n", "-", "->", "+", "%", "0",
                                           "99999999999999999999", "1e400", "0/0", "linear", "fold x {", "#", "groups=",
                                           "kernel=[1, 3]", "[2, 0]", "conv1d", "maxpool1d", "residual {",
                                           "residual r {\n",
                                           "9" * 5000, "1e-310", "4.9e-324", "\f", "\v", "\r", "\x1c", "\x85",
                                           "\u2028", "\u2029", "\r\n"]))
        text = text[:i] + piece + text[j:]
    check(text)


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_arbitrary_text_never_crashes(text):
    check(text)


def positions(text: str) -> list[tuple]:
    try:
        found = Compilation(Source(text, "p.qnn")).diagnostics()
    except SpecError as exc:
        found = exc.diagnostics
    return [(d.code, d.span) for d in found]


@pytest.mark.parametrize("path", SPECS[:4], ids=lambda p: p.stem)
@FUZZ
@given(data=st.data())
def test_positions_count_lines_as_the_parser_does(path, data):
    """A form feed is whitespace to the grammar, as a space is: swapping spaces for form feeds
    moves no diagnostic, and every diagnostic points inside the file (text and JSON alike)."""
    text = path.read_text().replace("epochs:", "epochs: 0 #", 1)  # one error to point at
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    chosen = set(data.draw(st.lists(st.sampled_from(spaces), max_size=20)))
    with_ff = "".join("\f" if i in chosen else ch for i, ch in enumerate(text))
    found = positions(with_ff)
    assert found == positions(text) and found
    lines = Source(with_ff).lines
    assert all(1 <= span.line <= len(lines) and span.col <= len(lines[span.line - 1]) + 1 for _, span in found)
