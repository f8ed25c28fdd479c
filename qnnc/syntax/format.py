"""``qnnc fmt``: print an AST in the one canonical layout, keeping comments and single blank
lines. ``parse(format(s)) == parse(s)`` for every valid spec, and formatting is idempotent."""

from __future__ import annotations

from qnnc.errors import Source, Span
from qnnc.syntax import ast

INDENT = "  "


def format_module(module: ast.Module, source: Source) -> str:
    printer = _Printer(module.comments, source)
    for i, section in enumerate(module.sections):
        if i:
            printer.blank()
        if isinstance(section, ast.Network):
            printer.network(section)
        else:
            printer.block(section)
    printer.flush_comments(10**9, 0)
    printer.leftover()
    return "\n".join(printer.lines).rstrip("\n") + "\n"


# ---- values ------------------------------------------------------------------------------
def value(v: ast.Value) -> str:
    if isinstance(v, ast.Number):
        return v.text
    if isinstance(v, ast.Quantity):
        return f"{v.number.text} {v.unit}"
    if isinstance(v, ast.Percent):
        return f"{v.number.text}%"
    if isinstance(v, ast.String):
        return f'"{v.text}"'
    if isinstance(v, ast.List):
        return "[" + ", ".join(value(i) for i in v.items) + "]"
    return v.name + (args(v.args) if v.args is not None else "")


def args(items: tuple[ast.Arg, ...]) -> str:
    return "(" + ", ".join((f"{a.key}={value(a.value)}" if a.key else value(a.value)) for a in items) + ")"


def entry(e: ast.Entry) -> str:
    if isinstance(e, ast.Setting):
        return f"{e.key}: {value(e.value)}"
    inner = ", ".join(entry(x) for x in e.entries)
    return f"{e.kind} {e.label} {{ {inner} }}" if inner else f"{e.kind} {e.label} {{ }}"


def head(h: ast.Head) -> str:
    if isinstance(h, ast.ActHead):
        return f"act {h.func}" + (f" {h.bits.text} bit" if h.bits is not None else "")
    text = h.kind + (f" {h.name}" if h.name else "")
    return text + (f" {args(h.args)}" if h.args is not None else "")


def modifier(mod: ast.Modifier) -> str:
    if mod.kind == "sparsity":
        return f"sparsity {mod.value.text}%" + (f" {mod.style}" if mod.style else "")
    return f"{mod.kind} {mod.value.text} bit"


def statement(s: ast.Statement) -> str:
    if isinstance(s, ast.InputStmt):
        text = f"input {s.dtype}[{', '.join(map(str, s.shape))}]"
        text += f" scale {s.scale.text}" if s.scale is not None else ""
        text += f" normalize{args(s.norm)}" if s.norm is not None else ""
        return text + (f" -> quant {s.quant}" if s.quant else "")
    if isinstance(s, ast.DefaultsStmt):
        return "defaults { " + ", ".join(entry(e) for e in s.entries) + " }" if s.entries else "defaults { }"
    parts = [head(s.head)] + [f"+ {head(p)}" for p in s.postops] + [modifier(m) for m in s.modifiers]
    if s.output is not None:
        parts.append(f"-> {s.output.kind}" + (f" {s.output.k.text}" if s.output.k is not None else ""))
    return " ".join(parts)


# ---- layout with comments ------------------------------------------------------------------
class _Printer:
    def __init__(self, comments: tuple[tuple[int, str], ...], source: Source):
        self.source = source
        self.own_line = [(ln, text) for ln, text in comments if source.line(ln).lstrip().startswith("#")]
        self.trailing = {ln: text for ln, text in comments if not source.line(ln).lstrip().startswith("#")}
        self.lines: list[str] = []
        self.last_line = 0

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def flush_comments(self, before: int, depth: int) -> None:
        while self.own_line and self.own_line[0][0] < before:
            line, text = self.own_line.pop(0)
            self._gap(line)
            self.lines.append(INDENT * depth + text)
            self.last_line = line

    def leftover(self) -> None:
        """A trailing comment on a line no construct claimed is kept, on its own line at the end:
        the formatter never drops a comment."""
        for _, text in sorted(self.trailing.items()):
            self.lines.append(text)
        self.trailing.clear()

    def _gap(self, line: int) -> None:
        """Keep one blank line where the source had one or more."""
        if self.last_line and any(not self.source.line(k).strip() for k in range(self.last_line + 1, line)):
            self.blank()

    def emit(self, text: str, span: Span, depth: int, *, first: bool = False) -> None:
        self.flush_comments(span.line, depth)
        if not first:
            self._gap(span.line)
        notes = [self.trailing.pop(k) for k in range(span.line, span.end_line + 1) if k in self.trailing]
        self.lines.append(INDENT * depth + text + "".join(f"  {n}" for n in notes))
        self.last_line = span.end_line

    def close(self, span: Span, depth: int) -> None:
        self.flush_comments(span.end_line, depth + 1)
        self.emit("}", Span(span.end_line, span.end_col, span.end_line, span.end_col), depth, first=True)

    def network(self, net: ast.Network) -> None:
        self.emit(f"network {net.name} {{", Span(net.span.line, 1, net.name_span.line, 1), 0)
        for i, s in enumerate(net.statements):
            if isinstance(s, ast.ResidualStmt):
                self.residual(s, first=i == 0)
            else:
                self.emit(statement(s), s.span, 1, first=i == 0)
        self.close(net.span, 0)

    def residual(self, block: ast.ResidualStmt, first: bool) -> None:
        label = f" {block.name}" if block.name else ""
        opening = block.layers[0].span.line - 1 if block.layers else block.span.line
        self.emit(f"residual{label} {{", Span(block.span.line, 1, max(block.span.line, opening), 1), 1, first=first)
        for i, s in enumerate(block.layers):
            self.emit(statement(s), s.span, 2, first=i == 0)
        self.close(block.span, 1)

    def block(self, block: ast.Block) -> None:
        label = f" {block.label}" if block.label else ""
        self.emit(f"{block.kind}{label} {{", Span(block.span.line, 1, block.kind_span.line, 1), 0)
        for i, e in enumerate(block.entries):
            self.emit(entry(e), e.span, 1, first=i == 0)
        self.close(block.span, 0)
