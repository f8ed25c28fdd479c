"""Pydantic validation errors -> qnnc diagnostics with codes, spans and hints."""

from __future__ import annotations

import re

from pydantic import ValidationError

from qnnc.errors import Diagnostic, Span, did_you_mean, one_of

_QUOTED = re.compile(r"'([^']*)'")


def from_validation_error(
    exc: ValidationError, where: str, span_of, default: Span, known_keys=()
) -> list[Diagnostic]:
    """One diagnostic per pydantic error. ``where`` names the block ('train', 'layer fc0')."""
    out = []
    from qnnc.spec.model import UNION_TAGS

    for err in exc.errors():
        loc = tuple(str(p) for i, p in enumerate(err["loc"]) if i == 0 or p not in UNION_TAGS)
        key = loc[-1] if loc else where
        span = span_of(loc, default)
        if len(loc) > 1 and err["type"] == "missing":  # an argument of a call: adam(lr=...), npz(file=...)
            out.append(Diagnostic("Q016", f"'{loc[-2]}' needs {key}=...", span, hint=f"add {key}=..."))
            continue
        if len(loc) > 1 and err["type"] == "extra_forbidden":
            inner, fields = _nested(loc)
            out.append(Diagnostic("Q014", f"unknown option '{key}' in {inner}", span,
                                  hint=did_you_mean(key, fields) or one_of(fields)))
            continue
        out.append(_one(err, key, where, span, known_keys))
    return out


def _nested(loc: tuple[str, ...]) -> tuple[str, list[str]]:
    """What a nested option belongs to, as the spec writes it, and the options it takes."""
    from qnnc.spec import model as m

    own = {"folds": ("fold", m.Fold), "layers": ("layer", m.LayerSweep), "dataset": ("", m.UserData)}
    label, cls = own.get(loc[0], ("", None))
    inner = f"{label} {loc[1]}" if label and len(loc) > 2 else f"'{loc[-2]}'"
    fields = [k for k in (cls.model_fields if cls else ()) if k not in ("span", "field_spans", "kind", "name")]
    return inner, fields


def _one(err: dict, key: str, where: str, span: Span, known_keys) -> Diagnostic:
    kind = err["type"]
    if kind == "extra_forbidden":
        return Diagnostic(
            "Q014", f"unknown option '{key}' in {where}", span,
            hint=did_you_mean(key, known_keys) or one_of(known_keys),
        )
    if kind == "missing":
        return Diagnostic("Q016", f"{where} needs '{key}'", span, hint=f"add '{key}: ...'")
    if kind == "literal_error":
        choices = _QUOTED.findall(err.get("ctx", {}).get("expected", ""))
        found = err.get("input")
        return Diagnostic(
            "Q017", f"unknown {key} '{found}'", span,
            hint=did_you_mean(str(found), choices) or one_of(choices),
        )
    if kind == "int_type" and key in ("kernel", "stride", "padding") and isinstance(err.get("input"), list):
        what = "a [height, width] kernel is conv2d's only" if key == "kernel" else \
            f"a non-square {key} ({err['input']}) is not in the language yet"
        return Diagnostic("Q029", what, span, hint=f"{key}=N means N in every direction")
    if kind in ("int_from_float", "int_parsing", "int_type"):
        return Diagnostic("Q015", f"'{key}' must be a whole number, found {err.get('input')!r}", span)
    message = err["msg"]
    message = message[0].lower() + message[1:]
    if message.startswith("value error, "):
        message = message[len("value error, "):]
    return Diagnostic("Q015", f"invalid {key}: {message}", span)
