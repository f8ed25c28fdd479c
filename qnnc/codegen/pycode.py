"""Safe pieces of Python source. Spec values enter generated code only through ``literal``
(numbers, booleans, strings as repr) and ``ident`` (validated identifiers), never as raw text."""

from __future__ import annotations

import keyword
import math
import re

from qnnc.errors import InternalError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    if not _IDENT.match(name) or keyword.iskeyword(name):
        raise InternalError(f"refusing to generate code with identifier {name!r}")
    return name


def literal(value) -> str:
    """Python source for a plain value."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InternalError(f"refusing to generate a non-finite number {value!r}")
        return repr(float(value))
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise InternalError(f"refusing to generate code for a {type(value).__name__}")


MAX_LINE = 100


def call(func: str, *args: str, indent: int = 0, **kwargs: str) -> str:
    """``func(a, b, k=v)`` from pieces that are already safe source text; one argument per
    line when the call would not fit on a line starting ``indent`` columns in."""
    parts = list(args) + [f"{ident(k)}={v}" for k, v in kwargs.items()]
    flat = f"{func}({', '.join(parts)})"
    if indent + len(flat) <= MAX_LINE - 20 or not parts:
        return flat
    inner = " " * (indent + 4)
    return f"{func}(\n" + "".join(f"{inner}{p},\n" for p in parts) + " " * indent + ")"


def mapping_block(items: dict, indent: int = 0) -> str:
    """A dict literal with one entry per line (keys and values through ``literal``)."""
    if not items:
        return "{}"
    inner = " " * (indent + 4)
    return "{\n" + "".join(f"{inner}{literal(k)}: {literal(v)},\n" for k, v in items.items()) + " " * indent + "}"
