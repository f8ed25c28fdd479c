"""AST values -> plain Python values for pydantic, remembering where each one was written."""

from __future__ import annotations

from qnnc.errors import Diagnostic, Span
from qnnc.spec.model import USER_DATA_SOURCE, PercentValue, UnitValue, example_user_data
from qnnc.syntax import ast

Path = tuple[str, ...]
RESERVED = frozenset({"span", "field_spans", "board", "folds", "kind", "name"})  # set by the builder


class SpanIndex(dict):
    """Path -> span, also indexed by parent path, so the spans of one location's fields are
    found without scanning every span of the spec (linear lint on specs of 10,000 layers)."""

    def __init__(self):
        super().__init__()
        self.children: dict[Path, dict[str, Span]] = {}

    def __setitem__(self, path: Path, span: Span) -> None:
        super().__setitem__(path, span)
        if path:
            self.children.setdefault(path[:-1], {})[path[-1]] = span

    def fields(self, path: Path) -> dict[str, Span]:
        return dict(self.children.get(path, {}))


class ValueReader:
    """Collects plain values and the span of each, keyed by their pydantic location."""

    def __init__(self):
        self.spans: SpanIndex = SpanIndex()
        self.diagnostics: list[Diagnostic] = []

    def span_of(self, loc: tuple, default: Span) -> Span:
        path = tuple(str(p) for p in loc)
        while path:
            if path in self.spans:
                return self.spans[path]
            path = path[:-1]
        return default

    def entries(self, entries: tuple[ast.Entry, ...], path: Path = ()) -> dict:
        """Settings to a dict; duplicate keys are reported. Sub-blocks are left to the caller."""
        out: dict = {}
        for entry in entries:
            if not isinstance(entry, ast.Setting):
                continue
            key_path = path + (entry.key,)
            if entry.key in RESERVED:
                self.diagnostics.append(Diagnostic("Q014", f"unknown option '{entry.key}'", entry.key_span))
                continue
            if entry.key in out:
                first = self.spans[key_path]
                self.diagnostics.append(
                    Diagnostic(
                        "Q013",
                        f"'{entry.key}' is set twice",
                        entry.key_span,
                        hint=f"first set on line {first.line}; remove one",
                    )
                )
                continue
            self.spans[key_path] = entry.span
            out[entry.key] = self.value(entry.value, key_path)
        return out

    def value(self, value: ast.Value, path: Path):
        if isinstance(value, ast.Number):
            return int(value.value) if value.is_int else value.value
        if isinstance(value, ast.Quantity):
            return UnitValue(self.value(value.number, path), value.unit)
        if isinstance(value, ast.Percent):
            return PercentValue(value.number.value / 100.0)
        if isinstance(value, ast.String):
            return value.text
        if isinstance(value, ast.List):
            return [self.value(v, path + (str(i),)) for i, v in enumerate(value.items)]
        return self.call(value, path)

    def call(self, value: ast.Call, path: Path):
        if value.args is None:
            return {"true": True, "false": False}.get(value.name, value.name)
        out: dict = {"name": value.name}
        for arg in value.args:
            if arg.key is None:
                self.diagnostics.append(
                    Diagnostic(
                        "Q015",
                        f"arguments of '{value.name}' need names",
                        arg.span,
                        hint=f"write it as key=value, e.g. {example_call(value.name)}",
                    )
                )
                continue
            self.spans[path + (arg.key,)] = arg.span
            out[arg.key] = self.value(arg.value, path + (arg.key,))
        return out


def example_call(name: str) -> str:
    """A call of ``name`` with its arguments named, as a hint shows it."""
    return example_user_data(name) if name in USER_DATA_SOURCE else f"{name}(lr=0.01)"
