"""The one error tree of qnnc, and the diagnostics that user errors carry.

``QnncError`` is the root. A mistake in a spec is a ``SpecError`` holding one or more
``Diagnostic``s, each with a stable code, a source span, a message and a hint. A failing
external tool is a ``ToolchainError`` that names the step and its log. Anything else that
escapes is an ``InternalError``: a bug in qnnc, never the user's fault.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]


class Span(NamedTuple):
    """A region of spec text: 1-based line and column, end exclusive. (A named tuple: a large
    spec makes a few hundred thousand while it is parsed.)"""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def from_token(cls, tok) -> Span:
        return cls(tok.line, tok.column, tok.end_line, tok.end_column)


NOWHERE = Span(1, 1, 1, 1)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class QnncError(Exception):
    """Root of every error qnnc raises on purpose."""


class SpecError(QnncError):
    """One or more mistakes in a spec. Always carries diagnostics, never a traceback."""

    def __init__(self, diagnostics: Iterable[Diagnostic], source: Source | None = None):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.span, d.code))
        self.source = source
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.code}: {first.message}" if first else "invalid spec")


class ToolchainError(QnncError):
    """An external tool (training, export, FINN, Vivado) failed in a build step."""

    def __init__(self, step: str, message: str, log_path: str | None = None):
        self.step = step
        self.log_path = log_path
        where = f" (log: {log_path})" if log_path else ""
        super().__init__(f"step '{step}' failed: {message}{where}")


class InternalError(QnncError):
    """A bug in qnnc. The message says so and asks for a report."""

    def __init__(self, message: str):
        super().__init__(
            f"internal compiler error: {message}\n"
            "this is a bug in qnnc, please report it with the spec that triggered it"
        )


@dataclass(frozen=True)
class Source:
    """A spec's text and the name it is shown under in diagnostics. Lines are what the parser
    counts: text between '\\n' characters only (``str.splitlines`` would also break at form
    feeds, vertical tabs, U+2028... which the grammar takes as plain whitespace)."""

    text: str
    path: str = "<spec>"
    lines: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lines = self.text.split("\n")
        if lines[-1] == "":  # the newline ending the last line starts no line of its own
            lines.pop()
        object.__setattr__(self, "lines", tuple(lines))

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt ``word``, or None if nothing is close."""
    close = difflib.get_close_matches(word.lower(), sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def one_of(choices: Iterable[str]) -> str:
    return "expected one of: " + ", ".join(sorted(set(choices)))


def shortened(text: str, most: int = 32) -> str:
    """Spec text quoted in a message, cut in the middle when longer than ``most`` characters."""
    if len(text) <= most:
        return text
    return f"{text[:most // 2]}...{text[-8:]} ({len(text)} characters)"


# an OSError with one of these is the machine's state (space, permissions, a file where a
# directory belongs), not a bug in qnnc or a tool: said plainly, exit 1
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EEXIST,
                                errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EMFILE, errno.ENOMEM})
