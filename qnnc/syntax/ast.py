"""Typed AST of a .qnn file. One class per grammar rule; every node carries its span.

Spans do not take part in equality, so two parses of differently laid-out text that
mean the same thing compare equal (this is what ``qnnc fmt`` must preserve).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qnnc.errors import NOWHERE, Span


def _pos(default=NOWHERE):
    """A source position: not compared, not shown in repr."""
    return field(default=default, compare=False, repr=False)


# ---- values -------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    """A number as written (``0.02``, ``1e6``, ``1/255``) and its value."""

    text: str
    value: float
    span: Span = _pos()

    @property
    def is_int(self) -> bool:
        return "/" not in self.text and float(self.value).is_integer() and "." not in self.text


@dataclass(frozen=True)
class Quantity:
    """A number with a unit: ``100 MHz``, ``2 bit``."""

    number: Number
    unit: str
    span: Span = _pos()


@dataclass(frozen=True)
class Percent:
    number: Number
    span: Span = _pos()


@dataclass(frozen=True)
class Call:
    """A name with optional arguments: ``mnist``, ``adam(lr=0.02)``."""

    name: str
    args: tuple[Arg, ...] | None
    span: Span = _pos()


@dataclass(frozen=True)
class List:
    items: tuple[Value, ...]
    span: Span = _pos()


@dataclass(frozen=True)
class String:
    text: str
    span: Span = _pos()


Value = Number | Quantity | Percent | Call | List | String


@dataclass(frozen=True)
class Arg:
    key: str | None
    value: Value
    span: Span = _pos()


# ---- settings blocks ----------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    key: str
    value: Value
    span: Span = _pos()
    key_span: Span = _pos()


@dataclass(frozen=True)
class SubBlock:
    """A named group of settings inside a block: ``fold fc0 { pe: 16 }``."""

    kind: str
    label: str
    entries: tuple[Entry, ...]
    span: Span = _pos()
    label_span: Span = _pos()


Entry = Setting | SubBlock


@dataclass(frozen=True)
class Block:
    """A top-level settings block: ``train { ... }``, ``target pynq-z2 { ... }``."""

    kind: str
    label: str | None
    entries: tuple[Entry, ...]
    span: Span = _pos()
    kind_span: Span = _pos()
    label_span: Span | None = _pos(None)


# ---- network ------------------------------------------------------------------------
@dataclass(frozen=True)
class InputStmt:
    dtype: str
    shape: tuple[int, ...]
    scale: Number | None
    quant: str | None
    span: Span = _pos()
    dtype_span: Span = _pos()
    quant_span: Span | None = _pos(None)
    norm: tuple[Arg, ...] | None = None  # normalize(mean=..., std=...)
    norm_span: Span | None = _pos(None)


@dataclass(frozen=True)
class DefaultsStmt:
    entries: tuple[Entry, ...]
    span: Span = _pos()


@dataclass(frozen=True)
class OpHead:
    """``linear fc0 (64)``: a layer kind, an optional name, optional arguments."""

    kind: str
    name: str | None
    args: tuple[Arg, ...] | None
    span: Span = _pos()
    kind_span: Span = _pos()
    name_span: Span | None = _pos(None)


@dataclass(frozen=True)
class ActHead:
    """``act relu 2 bit``: an activation function and its optional bit-width."""

    func: str
    bits: Number | None
    span: Span = _pos()
    func_span: Span = _pos()


Head = OpHead | ActHead


@dataclass(frozen=True)
class Modifier:
    """``sparsity 25%``, ``weights 2 bit``, ``acts 2 bit`` after a layer."""

    kind: str
    value: Number
    style: str | None = None
    span: Span = _pos()


@dataclass(frozen=True)
class Output:
    """``-> label``, ``-> top 3``, ``-> logits``."""

    kind: str
    k: Number | None
    span: Span = _pos()


@dataclass(frozen=True)
class LayerStmt:
    head: Head
    modifiers: tuple[Modifier, ...]
    postops: tuple[Head, ...]
    output: Output | None
    span: Span = _pos()


@dataclass(frozen=True)
class ResidualStmt:
    """``residual [NAME] { layers }``: the layers with a skip connection around them."""

    name: str | None
    layers: tuple[LayerStmt, ...]
    span: Span = _pos()
    name_span: Span | None = _pos(None)


Statement = InputStmt | DefaultsStmt | LayerStmt | ResidualStmt


@dataclass(frozen=True)
class Network:
    name: str
    statements: tuple[Statement, ...]
    span: Span = _pos()
    name_span: Span = _pos()


Section = Network | Block


@dataclass(frozen=True)
class Module:
    """A whole .qnn file."""

    sections: tuple[Section, ...]
    comments: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)
