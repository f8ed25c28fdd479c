"""Rendering of diagnostics: compiler-style text (file:line:col, source, caret, help) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from qnnc.errors import Diagnostic, Source

MAX_SHOWN = 20


def render_text(diagnostics: Sequence[Diagnostic], source: Source, *, limit: int = MAX_SHOWN) -> str:
    """All diagnostics as text, the first ``limit`` in full, then '... and N more'."""
    shown = [render_one(d, source) for d in diagnostics[:limit]]
    if len(diagnostics) > limit:
        shown.append(f"... and {len(diagnostics) - limit} more")
    return "\n".join(shown)


def render_one(diag: Diagnostic, source: Source) -> str:
    span = diag.span
    head = f"{source.path}:{span.line}:{span.col}: {diag.severity}[{diag.code}]: {diag.message}"
    text = printable(source.line(span.line))
    gutter = " " * len(str(span.line))
    lines = [head]
    if text:
        end = span.end_col if span.end_line == span.line else len(text) + 1
        width = max(1, min(end, len(text) + 1) - span.col)
        lines += [
            f"{gutter} |",
            f"{span.line} | {text}",
            f"{gutter} | {' ' * (span.col - 1)}{'^' * width}",
        ]
    if diag.hint:
        lines.append(f"{gutter} = help: {diag.hint}")
    return "\n".join(lines)


def printable(line: str) -> str:
    """A source line as shown: a line-ending '\\r' dropped, other control characters (form feed,
    vertical tab, U+2028...) one space each, so the caret stays under its column."""
    line = line.removesuffix("\r")
    return "".join(" " if (not ch.isprintable() and ch != "\t") else ch for ch in line)


def to_dict(diag: Diagnostic, source: Source) -> dict:
    span = diag.span
    return {
        "file": source.path,
        "line": span.line,
        "col": span.col,
        "end_line": span.end_line,
        "end_col": span.end_col,
        "severity": diag.severity,
        "code": diag.code,
        "message": diag.message,
        "help": diag.hint,
    }


def render_json(results: Sequence[tuple[Source, Sequence[Diagnostic]]]) -> str:
    rows = [to_dict(d, src) for src, diags in results for d in diags]
    return json.dumps({"diagnostics": rows}, indent=2, sort_keys=True)


def summary(n_errors: int, n_warnings: int, n_files: int) -> str:
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(n_errors, 'error')}, {plural(n_warnings, 'warning')} in {plural(n_files, 'file')}"
