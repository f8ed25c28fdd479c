"""Parse .qnn text into the typed AST. Lark errors are turned into ``SpecError`` here, at the
boundary, so no Lark exception ever reaches a caller."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from qnnc.errors import Diagnostic, InternalError, Source, Span, SpecError, shortened
from qnnc.resources import cache_dir, resource_dir
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


def _tables_cache() -> str | bool:
    """Where Lark keeps the parse tables it builds from the grammar (a third of a small spec's
    lint): a file in qnnc's cache, which Lark checks against a hash of the grammar, its options
    and its own version, and rebuilds when stale or unreadable; none if the cache cannot be made."""
    folder = cache_dir("grammar")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / "qnn.lark.tables")


@functools.lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Comments]:
    comments = _Comments()
    lark = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=NewlinePostLex(),
        keep_all_tokens=True,  # punctuation reaches the rules, so a span runs from '{' to '}'
        maybe_placeholders=False,
        cache=_tables_cache(),
        lexer_callbacks={"COMMENT": comments},
        transformer=_Rules(_ToAst()),  # the AST is built as Lark reduces: no parse tree in between
    )
    return lark, comments


def parse(text: str, path: str = "<spec>") -> ast.Module:
    """Parse spec text into an AST, or raise ``SpecError`` with a syntax diagnostic."""
    source = Source(text, path)
    lark, comments = _parser()
    comments.found = []
    try:
        module = lark.parse(text + "\n", on_error=None).value
    except UnexpectedInput as exc:
        raise SpecError([_syntax_diagnostic(exc, source)], source) from None
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


# the terminals whose text an AST node keeps; keywords and punctuation only delimit spans
VALUE_TOKENS = frozenset({"NAME", "NUMBER", "STRING", "BIT"})


class _Located:
    """A rule's AST value and the text the rule spans (its first token to its last, punctuation
    included)."""

    __slots__ = ("value", "span")

    def __init__(self, value, span: Span):
        self.value, self.span = value, span


def _located(children: list) -> Span | None:
    """From the start of the first child to the end of the last (each a token or a rule's
    _Located: Lark has already expanded the inlined ``_rules``)."""
    if not children:
        return None
    first, last = children[0], children[-1]
    line, col = (first.span.line, first.span.col) if type(first) is _Located else (first.line, first.column)
    end_line, end_col = (last.span.end_line, last.span.end_col) if type(last) is _Located else \
        (last.end_line, last.end_column)
    return Span(line, col, end_line, end_col)


class _Rules:
    """Lark's inline transformer: for each rule of ``_ToAst``, a callback taking the reduced
    children (every token, inlined ``_rules`` expanded), giving the rule its span and its
    value-carrying children."""

    def __init__(self, builder: _ToAst):
        for name in dir(builder):
            if not name.startswith("_"):
                setattr(self, name, self._rule(getattr(builder, name)))

    @staticmethod
    def _rule(build):
        def reduce(children):
            span = _located(children)
            kept = [c.value if type(c) is _Located else c for c in children
                    if type(c) is _Located or c.type in VALUE_TOKENS]
            return _Located(build(span, kept), span)
        return reduce


class _Normalize(NamedTuple):
    """An input statement's ``normalize(...)`` while its statement is built."""

    args: tuple
    span: Span


class _ToAst:
    """The AST node of each grammar rule, from the rule's span and its value-carrying children
    (already AST nodes), called bottom up while Lark parses."""

    def start(self, span, children):
        return ast.Module(tuple(children))

    def network(self, span, children):
        name, *stmts = children
        return ast.Network(str(name), tuple(stmts), span, Span.from_token(name))

    def input_stmt(self, span, children):
        dtype, shape, *rest = children
        scale = next((c for c in rest if isinstance(c, ast.Number)), None)
        quant = next((c for c in rest if isinstance(c, Token)), None)
        norm = next((c for c in rest if isinstance(c, _Normalize)), None)
        return ast.InputStmt(
            str(dtype),
            shape,
            scale,
            str(quant) if quant else None,
            span,
            Span.from_token(dtype),
            Span.from_token(quant) if quant else None,
            norm.args if norm else None,
            norm.span if norm else None,
        )

    def shape(self, span, children):
        return tuple(_int(tok) for tok in children)

    def input_scale(self, span, children):
        return children[0]

    def input_quant(self, span, children):
        return children[0]

    def input_norm(self, span, children):
        return _Normalize(tuple(a for a in (children[0] if children else ()) if a is not None), span)

    def defaults_stmt(self, span, children):
        return ast.DefaultsStmt(tuple(children), span)

    def residual(self, span, children):
        name = next((c for c in children if isinstance(c, Token)), None)
        layers = tuple(c for c in children if isinstance(c, ast.LayerStmt))
        return ast.ResidualStmt(str(name) if name is not None else None, layers, span,
                                Span.from_token(name) if name is not None else None)

    def layer(self, span, children):
        head, *rest = children
        mods = tuple(c for c in rest if isinstance(c, ast.Modifier))
        posts = tuple(c for c in rest if isinstance(c, (ast.OpHead, ast.ActHead)))
        out = next((c for c in rest if isinstance(c, ast.Output)), None)
        return ast.LayerStmt(head, mods, posts, out, span)

    def postop(self, span, children):
        return children[0]

    def op_head(self, span, children):
        kind = children[0]
        name = next((c for c in children[1:] if isinstance(c, Token)), None)
        args = next((c for c in children[1:] if isinstance(c, tuple)), None)
        return ast.OpHead(
            str(kind),
            str(name) if name else None,
            args,
            span,
            Span.from_token(kind),
            Span.from_token(name) if name else None,
        )

    def act_head(self, span, children):
        func, *bits = children
        return ast.ActHead(str(func), bits[0] if bits else None, span, Span.from_token(func))

    def sparsity_mod(self, span, children):
        pct, *style = children
        return ast.Modifier("sparsity", pct.number, str(style[0]) if style else None, span)

    def weights_mod(self, span, children):
        return ast.Modifier("weights", children[0], None, span)

    def acts_mod(self, span, children):
        return ast.Modifier("acts", children[0], None, span)

    def output(self, span, children):
        kind, *k = children
        return ast.Output(str(kind), _number(k[0]) if k else None, span)

    def bits(self, span, children):
        return _number(children[0])

    def block(self, span, children):
        names = [c for c in children if isinstance(c, Token)]
        entries = tuple(c for c in children if not isinstance(c, Token))
        kind, label = names[0], names[1] if len(names) > 1 else None
        return ast.Block(
            str(kind),
            str(label) if label else None,
            entries,
            span,
            Span.from_token(kind),
            Span.from_token(label) if label else None,
        )

    def setting(self, span, children):
        key, value = children
        return ast.Setting(str(key), value, span, Span.from_token(key))

    def subblock(self, span, children):
        kind, label, *entries = children
        return ast.SubBlock(str(kind), str(label), tuple(entries), span, Span.from_token(label))

    def quantity(self, span, children):
        number, unit = children
        return ast.Quantity(number, str(unit), span)

    def percent(self, span, children):
        return ast.Percent(children[0], span)

    def call(self, span, children):
        name, *args = children
        return ast.Call(str(name), args[0] if args else None, span)

    def list(self, span, children):
        return ast.List(tuple(children), span)

    def string(self, span, children):
        return ast.String(str(children[0])[1:-1], span)

    def args(self, span, children):
        return tuple(children)

    def arg(self, span, children):
        if len(children) == 2:
            return ast.Arg(str(children[0]), children[1], span)
        return ast.Arg(None, children[0], span)

    def number(self, span, children):
        if len(children) == 1:
            return _number(children[0])
        num, den = children
        if float(den) == 0:
            raise SpecError([Diagnostic("Q004", "division by zero", span)])
        text, span = f"{num}/{den}", span
        return ast.Number(text, _finite(text, _finite(str(num), float(num), span) / float(den), span), span)
