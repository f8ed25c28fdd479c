"""Every spec in tests/fail reports exactly the codes and positions its first line expects."""

from __future__ import annotations

import re

import pytest

from conftest import FAIL, diagnostics

EXPECT = re.compile(r"^# expect: (.*)$")


def expected(text: str) -> list[str]:
    match = EXPECT.match(text.splitlines()[0])
    assert match, "a fail-list spec starts with '# expect: CODE LINE:COL, ...'"
    return [item.strip() for item in match.group(1).split(",")]


def test_fail_list_is_not_empty():
    assert len(FAIL) >= 25


@pytest.mark.parametrize("path", FAIL, ids=lambda p: p.stem)
def test_reports_expected_code_at_expected_place(path):
    text = path.read_text()
    found = [f"{d.code} {d.span.line}:{d.span.col}" for d in diagnostics(text, str(path))]
    assert found == expected(text)
    assert all(d.message and d.span.line >= 1 for d in diagnostics(text, str(path)))
