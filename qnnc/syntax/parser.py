"""Parse .qnn text into the typed AST. Lark errors are turned into ``SpecError`` here, at the
boundary, so no Lark exception ever reaches a caller."""

from __future__ import annotations

import functools
import math
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from qnnc.errors import Diagnostic, InternalError, Source, Span, SpecError, shortened
from qnnc.resources import resource_dir
from qnnc.syntax import ast

_TOKEN_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "BIT": "'bit'",
    "_NL": "end of line",
    "$END": "end of file",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "SEMICOLON": "';'",
    "EQUAL": "'='",
    "PLUS": "'+'",
    "PERCENT": "'%'",
    "SLASH": "'/'",
    "__ANON_0": "'->'",
}


def grammar_path() -> Path:
    return resource_dir("grammar") / "qnn.lark"


class NewlinePostLex:
    """Newlines end statements, except inside (...) and [...], where they are dropped.
    Runs of newlines (around comment lines) are folded into one."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        last_nl = False
        for tok in stream:
            if tok.type in ("LPAR", "LSQB"):
                depth += 1
            elif tok.type in ("RPAR", "RSQB"):
                depth = max(0, depth - 1)
            if tok.type == "_NL":
                if depth or last_nl:
                    continue
                last_nl = True
            else:
                last_nl = False
            yield tok


class _Comments:
    """The comments the lexer meets while parsing (the grammar ignores them), in order."""

    def __init__(self):
        self.found: list[tuple[int, str]] = []

    def __call__(self, tok: Token) -> Token:
        self.found.append((tok.line, tok.value.rstrip()))
        return tok


@functools.lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Comments]:
    comments = _Comments()
    lark = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=NewlinePostLex(),
        propagate_positions=True,
        maybe_placeholders=False,
        cache=False,
        lexer_callbacks={"COMMENT": comments},
    )
    return lark, comments


def parse(text: str, path: str = "<spec>") -> ast.Module:
    """Parse spec text into an AST, or raise ``SpecError`` with a syntax diagnostic."""
    source = Source(text, path)
    lark, comments = _parser()
    comments.found = []
    try:
        tree = lark.parse(text + "\n", on_error=None)
    except UnexpectedInput as exc:
        raise SpecError([_syntax_diagnostic(exc, source)], source) from None
    try:
        module = _ToAst().transform(tree)
    except SpecError as exc:
        raise SpecError(exc.diagnostics, source) from None
    except Exception as exc:
        raise InternalError(f"AST construction failed: {exc!r}") from exc
    return ast.Module(module.sections, tuple(comments.found))


def _describe(token_type: str) -> str:
    if token_type in _TOKEN_NAMES:
        return _TOKEN_NAMES[token_type]
    if token_type.isupper():
        return f"'{token_type.lower()}'"
    return token_type


def _expected_hint(expected) -> str | None:
    names = sorted({_describe(t) for t in expected if not t.startswith("__ANON") or t in _TOKEN_NAMES})
    if not names:
        return None
    if len(names) > 8:
        names = names[:8] + ["..."]
    return "expected " + ", ".join(names)


def _syntax_diagnostic(exc: UnexpectedInput, source: Source) -> Diagnostic:
    line, col = exc.line or 1, exc.column or 1
    if isinstance(exc, UnexpectedCharacters):
        char = source.line(line)[col - 1 : col] or "?"
        shown = char if char.isprintable() else ascii(char)[1:-1]  # '\x0b', '\u2028'
        return Diagnostic("Q001", f"unexpected character '{shown}'", Span(line, col, line, col + 1))
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        last = max(1, len(source.lines))
        end_col = len(source.line(last)) + 1
        return Diagnostic(
            "Q002",
            "unexpected end of file",
            Span(last, end_col, last, end_col + 1),
            hint=_expected_hint(getattr(exc, "expected", ())) or "is a '}' missing?",
        )
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    if tok.type == "_NL":
        end = len(source.line(line)) + 1
        text = "unexpected end of line"
        span = Span(line, end, line, end + 1)
    else:
        kind = {"NAME": "name ", "NUMBER": "number ", "STRING": "string "}.get(tok.type, "")
        text = f"unexpected {kind}'{tok.value}'"
        span = Span.from_token(tok)
    return Diagnostic("Q001", text, span, hint=_expected_hint(exc.expected))


MAX_DIGITS = 12  # no tensor dimension comes near 10^12; int() refuses past 4,300 digits


def _int(tok: Token) -> int:
    text = str(tok)
    if not text.isdigit():
        raise SpecError([Diagnostic("Q003", f"expected a whole number, found '{text}'", Span.from_token(tok))])
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise SpecError([Diagnostic("Q021", f"the input dimension {text[:12]}... ({len(text)} digits) is too large",
                                    Span.from_token(tok), hint=f"dimensions have at most {MAX_DIGITS} digits")])
    return int(text)


def _finite(text: str, value: float, span: Span) -> float:
    if not math.isfinite(value):
        raise SpecError([Diagnostic("Q005", f"the number {shortened(text)} is beyond what a float can hold", span,
                                    hint="numbers lie within about 1.8e308 in magnitude")])
    return value


def _number(tok: Token) -> ast.Number:
    span = Span.from_token(tok)
    return ast.Number(str(tok), _finite(str(tok), float(tok), span), span)


class _ToAst:
    """Parse tree -> AST nodes, bottom up, one method per grammar rule taking the rule's
    position and its transformed children. (Lark's own Transformer wraps every call, which
    was half of a 10,000-layer spec's parse.)"""

    def transform(self, tree: Tree):
        children = [self.transform(c) if isinstance(c, Tree) else c for c in tree.children]
        rule = getattr(self, tree.data, None)
        return rule(tree.meta, children) if rule is not None else Tree(tree.data, children, tree.meta)

    def start(self, meta, children):
        return ast.Module(tuple(children))

    def network(self, meta, children):
        name, *stmts = children
        return ast.Network(str(name), tuple(stmts), Span.from_meta(meta), Span.from_token(name))

    def input_stmt(self, meta, children):
        dtype, shape, *rest = children
        scale = next((c for c in rest if isinstance(c, ast.Number)), None)
        quant = next((c for c in rest if isinstance(c, Token)), None)
        return ast.InputStmt(
            str(dtype),
            shape,
            scale,
            str(quant) if quant else None,
            Span.from_meta(meta),
            Span.from_token(dtype),
            Span.from_token(quant) if quant else None,
        )

    def shape(self, meta, children):
        return tuple(_int(tok) for tok in children)

    def input_scale(self, meta, children):
        return children[0]

    def input_quant(self, meta, children):
        return children[0]

    def defaults_stmt(self, meta, children):
        return ast.DefaultsStmt(tuple(children), Span.from_meta(meta))

    def layer(self, meta, children):
        head, *rest = children
        mods = tuple(c for c in rest if isinstance(c, ast.Modifier))
        posts = tuple(c for c in rest if isinstance(c, (ast.OpHead, ast.ActHead)))
        out = next((c for c in rest if isinstance(c, ast.Output)), None)
        return ast.LayerStmt(head, mods, posts, out, Span.from_meta(meta))

    def postop(self, meta, children):
        return children[0]

    def op_head(self, meta, children):
        kind = children[0]
        name = next((c for c in children[1:] if isinstance(c, Token)), None)
        args = next((c for c in children[1:] if isinstance(c, tuple)), None)
        return ast.OpHead(
            str(kind),
            str(name) if name else None,
            args,
            Span.from_meta(meta),
            Span.from_token(kind),
            Span.from_token(name) if name else None,
        )

    def act_head(self, meta, children):
        func, *bits = children
        return ast.ActHead(str(func), bits[0] if bits else None, Span.from_meta(meta), Span.from_token(func))

    def sparsity_mod(self, meta, children):
        pct, *style = children
        return ast.Modifier("sparsity", pct.number, str(style[0]) if style else None, Span.from_meta(meta))

    def weights_mod(self, meta, children):
        return ast.Modifier("weights", children[0], None, Span.from_meta(meta))

    def acts_mod(self, meta, children):
        return ast.Modifier("acts", children[0], None, Span.from_meta(meta))

    def output(self, meta, children):
        kind, *k = children
        return ast.Output(str(kind), _number(k[0]) if k else None, Span.from_meta(meta))

    def bits(self, meta, children):
        return _number(children[0])

    def block(self, meta, children):
        names = [c for c in children if isinstance(c, Token)]
        entries = tuple(c for c in children if not isinstance(c, Token))
        kind, label = names[0], names[1] if len(names) > 1 else None
        return ast.Block(
            str(kind),
            str(label) if label else None,
            entries,
            Span.from_meta(meta),
            Span.from_token(kind),
            Span.from_token(label) if label else None,
        )

    def setting(self, meta, children):
        key, value = children
        return ast.Setting(str(key), value, Span.from_meta(meta), Span.from_token(key))

    def subblock(self, meta, children):
        kind, label, *entries = children
        return ast.SubBlock(str(kind), str(label), tuple(entries), Span.from_meta(meta), Span.from_token(label))

    def quantity(self, meta, children):
        number, unit = children
        return ast.Quantity(number, str(unit), Span.from_meta(meta))

    def percent(self, meta, children):
        return ast.Percent(children[0], Span.from_meta(meta))

    def call(self, meta, children):
        name, *args = children
        return ast.Call(str(name), args[0] if args else None, Span.from_meta(meta))

    def list(self, meta, children):
        return ast.List(tuple(children), Span.from_meta(meta))

    def string(self, meta, children):
        return ast.String(str(children[0])[1:-1], Span.from_meta(meta))

    def args(self, meta, children):
        return tuple(children)

    def arg(self, meta, children):
        if len(children) == 2:
            return ast.Arg(str(children[0]), children[1], Span.from_meta(meta))
        return ast.Arg(None, children[0], Span.from_meta(meta))

    def number(self, meta, children):
        if len(children) == 1:
            return _number(children[0])
        num, den = children
        if float(den) == 0:
            raise SpecError([Diagnostic("Q004", "division by zero", Span.from_meta(meta))])
        text, span = f"{num}/{den}", Span.from_meta(meta)
        return ast.Number(text, _finite(text, _finite(str(num), float(num), span) / float(den), span), span)
