"""A trial's spec: the swept spec with one value per parameter written into it, as .qnn text.

Parameters (see ``space.parameters``): ``weights``, ``acts``, ``sparsity``, ``width`` for every
(hidden) weight layer, and ``LAYER.weights``, ``LAYER.sparsity`` for one layer; an input
quantizer follows ``acts`` (bipolar at 1 bit, intN above), as in Brevitas' FINN examples. The rewrite works
on the syntax tree and prints it with the formatter, so the trial spec reads like the original,
comments included. The sweep block is dropped, and so are fold lines: each design is folded
by qnnc for the target's fps (widths and bit-widths change what folding fits).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from qnnc.errors import Source
from qnnc.spec.build import WEIGHT_KINDS
from qnnc.syntax import ast
from qnnc.syntax.format import format_module


def _number(value: float) -> ast.Number:
    text = f"{value:g}"
    return ast.Number(text=text, value=float(text))


def _with_modifier(stmt: ast.LayerStmt, kind: str, value: float | None) -> ast.LayerStmt:
    kept = tuple(mod for mod in stmt.modifiers if mod.kind != kind)
    if value is None:
        return replace(stmt, modifiers=kept)
    return replace(stmt, modifiers=(*kept, ast.Modifier(kind=kind, value=_number(value))))


def _act(head: ast.ActHead, bits: int) -> ast.ActHead:
    """1 bit: bipolar (FINN's one 1-bit activation); more bits: bipolar becomes hardtanh (FINN's
    signed multi-bit activation), the others keep their function."""
    if bits == 1:
        return replace(head, func="bipolar", bits=None)
    return replace(head, func="hardtanh" if head.func == "bipolar" else head.func, bits=_number(bits))


def _width(stmt: ast.LayerStmt, factor: float) -> ast.LayerStmt:
    head = stmt.head
    first = head.args[0]
    out = max(1, round(first.value.value * factor))
    return replace(stmt, head=replace(head, args=(replace(first, value=_number(out)), *head.args[1:])))


def _groups(stmt: ast.LayerStmt) -> ast.Arg | None:
    """A depthwise conv's ``groups=`` argument (its channels), or None."""
    head = stmt.head
    if not isinstance(head, ast.OpHead) or head.kind != "conv2d":
        return None
    found = next((a for a in head.args or () if a.key == "groups"), None)
    return found if found is not None and isinstance(found.value, ast.Number) and found.value.value > 1 else None


def _channels(stmt: ast.LayerStmt, channels: int) -> ast.LayerStmt:
    """A depthwise conv on ``channels`` channels: as many outputs and groups."""
    args = tuple(replace(a, value=_number(channels)) if a.key == "groups" or i == 0 else a
                 for i, a in enumerate(stmt.head.args))
    return replace(stmt, head=replace(stmt.head, args=args))


def rewrite_network(net: ast.Network, names: list[str], params: dict) -> ast.Network:
    """``names``: the spec's weight layers in order (the n-th weight statement is the n-th). A
    depthwise conv keeps one output per input channel: a width factor reaches it through the
    layer before it, and the sweep's sparsity does not prune it."""
    weight_stmts = [s for s in net.statements if isinstance(s, ast.LayerStmt)
                    and isinstance(s.head, ast.OpHead) and s.head.kind in WEIGHT_KINDS]
    name_of = {id(s): n for s, n in zip(weight_stmts, names, strict=True)}
    last = names[-1] if names else None
    statements = []
    channels = None  # the channels flowing, as the rewritten spec writes them
    for stmt in net.statements:
        if isinstance(stmt, ast.InputStmt):
            channels = stmt.shape[0] if len(stmt.shape) > 1 else None
        if isinstance(stmt, ast.LayerStmt):
            weights = id(stmt) in name_of
            stmt = _rewrite_layer(stmt, name_of.get(id(stmt)), last, params)
            if weights and _groups(stmt) is not None:
                if channels is not None and params.get("width", 1) != 1:
                    stmt = _channels(stmt, channels)
            elif weights and stmt.head.args and isinstance(stmt.head.args[0].value, ast.Number):
                channels = int(stmt.head.args[0].value.value)
        elif isinstance(stmt, ast.InputStmt) and stmt.quant and "acts" in params:
            # the input quantizer follows the activations, as in Brevitas' FINN examples
            stmt = replace(stmt, quant="bipolar" if params["acts"] == 1 else f"int{params['acts']}")
        statements.append(stmt)
    return replace(net, statements=tuple(statements))


def _rewrite_layer(stmt: ast.LayerStmt, name: str | None, last: str | None, params: dict) -> ast.LayerStmt:
    if "acts" in params:
        bits = params["acts"]
        stmt = replace(stmt, postops=tuple(_act(p, bits) if isinstance(p, ast.ActHead) else p for p in stmt.postops))
        if isinstance(stmt.head, ast.ActHead):
            stmt = replace(stmt, head=_act(stmt.head, bits))
    if name is None:
        return stmt
    weights = params.get(f"{name}.weights", params.get("weights"))
    if weights is not None:
        stmt = _with_modifier(stmt, "weights", weights)
    hidden = name != last
    depthwise = _groups(stmt) is not None
    sparsity = params.get(f"{name}.sparsity", params.get("sparsity") if hidden and not depthwise else None)
    if sparsity is not None:
        stmt = _with_modifier(stmt, "sparsity", round(sparsity * 100, 6) or None)
    if hidden and not depthwise and params.get("width", 1) != 1:
        stmt = _width(stmt, params["width"])
    return stmt


def _data_from(value: ast.Value, folder: Path) -> ast.Value:
    """The user's data as a trial spec in another folder finds it: a relative file or folder,
    or a module file beside the spec, made absolute."""
    if not isinstance(value, ast.Call) or not value.args:
        return value
    args = []
    for arg in value.args:
        if isinstance(arg.value, ast.String) and arg.key in ("file", "path"):
            arg = replace(arg, value=replace(arg.value, text=str((folder / arg.value.text).resolve())))
        elif isinstance(arg.value, ast.String) and arg.key == "function":
            module, _, function = arg.value.text.partition(":")
            beside = folder / (module if module.endswith(".py") else f"{module.replace('.', '/')}.py")
            if beside.is_file():
                arg = replace(arg, value=replace(arg.value, text=f"{beside.resolve()}:{function}"))
        args.append(arg)
    return replace(value, args=tuple(args))


def _train_from(section: ast.Block, folder: Path) -> ast.Block:
    entries = tuple(replace(e, value=_data_from(e.value, folder)) if isinstance(e, ast.Setting) and e.key == "dataset"
                    else e for e in section.entries)
    return replace(section, entries=entries)


def trial_text(module: ast.Module, source: Source, names: list[str], params: dict) -> str:
    folder = Path(source.path).resolve().parent if source.path != "<spec>" else Path.cwd()
    sections = []
    for section in module.sections:
        if isinstance(section, ast.Network):
            section = rewrite_network(section, names, params)
        elif section.kind == "sweep":
            continue
        elif section.kind == "train":
            section = _train_from(section, folder)
        elif section.kind == "target":
            section = replace(section, entries=tuple(e for e in section.entries
                                                     if not (isinstance(e, ast.SubBlock) and e.kind == "fold")))
        sections.append(section)
    return format_module(replace(module, sections=tuple(sections)), source)
