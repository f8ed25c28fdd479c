"""AST -> validated ``Spec``. Every problem becomes a diagnostic; all are collected."""

from __future__ import annotations

import keyword
import math
import re

from pydantic import BaseModel, ValidationError

from qnnc.errors import Diagnostic, Source, Span, SpecError, did_you_mean, one_of, shortened
from qnnc.spec import model as m
from qnnc.spec.errors import from_validation_error
from qnnc.spec.types import ValueType
from qnnc.spec.values import ValueReader
from qnnc.syntax import ast

SECTIONS = ("network", "train", "target", "sweep")
REQUIRED = ("network", "train", "target")
LAYER_KINDS = ("linear", "conv2d", "conv1d", "maxpool", "maxpool1d", "avgpool", "flatten", "batchnorm", "act",
               "dropout")
WEIGHT_KINDS = ("linear", "conv2d", "conv1d")
POSITIONAL = {"linear": ("out",), "conv2d": ("out", "kernel", "stride", "padding"),
              "conv1d": ("out", "kernel", "stride", "padding"), "maxpool": ("kernel", "stride"),
              "maxpool1d": ("kernel", "stride"), "avgpool": ("kernel", "stride"), "dropout": ("p",)}
SYNONYMS = {
    "dense": "linear", "fc": "linear", "quantlinear": "linear", "conv": "conv2d", "quantconv2d": "conv2d",
    "bn": "batchnorm", "batchnorm1d": "batchnorm", "batchnorm2d": "batchnorm", "pool": "maxpool",
    "maxpool2d": "maxpool", "relu": "act relu", "hardtanh": "act hardtanh", "sign": "act bipolar",
    "avgpool2d": "avgpool", "averagepool": "avgpool", "truncavgpool2d": "avgpool", "quantconv1d": "conv1d",
    "quantmaxpool1d": "maxpool1d",
    "globalavgpool": "avgpool", "globalaveragepool": "avgpool", "adaptiveavgpool2d": "avgpool",
}
# layers people write that qnnc does not map yet: what they are, and the nearest that it does
NOT_YET = {
    "add": ("a residual sum on its own", "write 'residual { ... }' around the layers the skip connection "
            "goes around"),
    "avgpool1d": ("1-D average pooling", "FINN's average pool is square: use 'maxpool1d', or a 'conv1d' with "
                  "stride"),
    "concat": ("joining streams", "the network is one chain of layers"),
    "upsample": ("upsampling", "the network is one chain of layers that keep or shrink their feature maps"),
}
# depthwise convolution is a conv2d with one group per channel, as PyTorch writes it
DEPTHWISE_NAMES = ("depthwise", "dwconv", "dwconv2d", "depthwiseconv2d", "separableconv2d")
OUTPUTS = ("logits", "label", "top")
AUTO_PREFIX = {
    "linear": "fc", "conv2d": "conv", "conv1d": "conv", "maxpool": "pool", "maxpool1d": "pool", "avgpool": "pool",
    "flatten": "flatten", "batchnorm": "bn", "act": "act", "dropout": "drop", "residual": "res",
}
POSTOP_SUFFIX = {"batchnorm": "bn", "act": "act", "maxpool": "pool", "maxpool1d": "pool", "avgpool": "pool",
                 "flatten": "flatten", "dropout": "drop"}
FLOAT32_REACH = 1e30  # normalized values stay well inside float32 (3.4e38)
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def build_spec(module: ast.Module, source: Source) -> m.Spec:
    """Validate a parsed module; raise ``SpecError`` with every diagnostic found."""
    return validate(module, source)[0]


def validate(module: ast.Module, source: Source) -> tuple[m.Spec, list[Diagnostic]]:
    """The validated spec and the builder's warnings; ``SpecError`` with every diagnostic
    found if there is an error."""
    builder = _Builder(source)
    spec = builder.build(module)
    errors = [d for d in builder.diagnostics if d.is_error]
    if errors or spec is None:
        raise SpecError(builder.diagnostics, source)
    return spec, builder.diagnostics


def _end_of_file(source: Source) -> Span:
    last = max(1, len(source.lines))
    return Span(last, 1, last, len(source.line(last)) + 1)


class _Builder:
    def __init__(self, source: Source):
        self.source = source
        self.loc = ValueReader()
        self.diagnostics = self.loc.diagnostics

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    def validate(self, cls: type[BaseModel], data: dict, where: str, span: Span, path: tuple = ()):
        if "field_spans" in cls.model_fields:
            data = {**data, "field_spans": self._field_spans(path)}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            known = [k for k in cls.model_fields if k not in ("span", "field_spans", "kind", "name")]
            def span_of(loc, default):  # a field's own text, under the node's path
                return self.loc.span_of(path + tuple(str(p) for p in loc), default)
            self.diagnostics.extend(from_validation_error(exc, where, span_of, span, known))
            return None

    def _field_spans(self, path: tuple) -> dict[str, Span]:
        return self.loc.spans.fields(path)

    # ---- sections -----------------------------------------------------------------------
    def build(self, module: ast.Module) -> m.Spec | None:
        found: dict[str, ast.Section] = {}
        for section in module.sections:
            kind = "network" if isinstance(section, ast.Network) else section.kind
            span = section.name_span if isinstance(section, ast.Network) else section.kind_span
            if kind not in SECTIONS:
                self.error("Q010", f"unknown section '{kind}'", span, did_you_mean(kind, SECTIONS) or one_of(SECTIONS))
            elif kind in found:
                self.error("Q011", f"a second '{kind}' section", span, f"a spec has one '{kind}' section; merge them")
            else:
                found[kind] = section
        for kind in REQUIRED:
            if kind not in found:
                example = {"network": "network NAME { ... }", "train": "train { dataset: mnist }",
                           "target": "target pynq-z2 { clock: 100 MHz }"}[kind]
                self.error("Q012", f"the spec has no '{kind}' section", _end_of_file(self.source), f"add {example}")
        network = self.network(found["network"]) if "network" in found else None
        train = self.train(found["train"]) if "train" in found else None
        target = self.target(found["target"]) if "target" in found else None
        sweep = self.sweep(found["sweep"]) if "sweep" in found else None
        if network is None or train is None or target is None or ("sweep" in found and sweep is None):
            return None
        return m.Spec(network=network, train=train, target=target, sweep=sweep, path=self.source.path)

    def sweep(self, block: ast.Block) -> m.SweepSpec | None:
        if block.label is not None:
            self.error("Q015", "'sweep' takes no name", block.label_span, "write 'sweep { ... }'")
        data = self.loc.entries(block.entries, ())
        if "prune" in data:  # the word's earlier meaning here; 'prune' is structured pruning
            span = self.loc.spans[("prune",)]
            self.loc.diagnostics.append(Diagnostic(
                "Q083", "'prune' in a sweep is now 'early_stop' (prune means structured pruning: a layer's sparsity)",
                span, hint=f"write 'early_stop: {data['prune']}'", severity="warning"))
            if "early_stop" not in data:
                data["early_stop"] = data.pop("prune")
                self.loc.spans[("early_stop",)] = span
        layers = self._groups(block.entries, "sweep", "layer", "layers")
        return self.validate(m.SweepSpec, {**data, "layers": layers, "span": block.span}, "sweep", block.kind_span)

    def _groups(self, entries, where: str, kind: str, field: str) -> dict:
        """``kind LABEL { ... }`` groups of a block, keyed by label, with their spans."""
        groups: dict = {}
        for sub in entries:
            if not isinstance(sub, ast.SubBlock):
                continue
            if sub.kind != kind:
                self.error("Q014", f"unknown group '{sub.kind}' in {where}", sub.span,
                           did_you_mean(sub.kind, [kind]) or f"only '{kind} NAME {{ ... }}' groups are allowed")
                continue
            if sub.label in groups:
                self.error("Q013", f"'{kind} {sub.label}' is given twice", sub.label_span)
                continue
            path = (field, sub.label)
            self.loc.spans[path] = sub.span
            self._no_subblocks(sub.entries, f"{kind} {sub.label}")
            values = self.loc.entries(sub.entries, path)
            groups[sub.label] = {**values, "span": sub.span, "field_spans": self._field_spans(path)}
        return groups

    def train(self, block: ast.Block) -> m.TrainSpec | None:
        if block.label is not None:
            self.error("Q015", "'train' takes no name", block.label_span, "write 'train { ... }'")
        self._no_subblocks(block.entries, "train")
        data = self.loc.entries(block.entries, ())
        if isinstance(data.get("dataset"), dict):  # the user's own data: npz(file=..., classes=N) and its kin
            call = dict(data["dataset"])
            data["dataset"] = {"kind": call.pop("name"), **call}
        return self.validate(m.TrainSpec, {**data, "span": block.span}, "train", block.kind_span)

    def target(self, block: ast.Block) -> m.TargetSpec | None:
        data = self.loc.entries(block.entries, ())
        if block.label is None:
            self.error("Q016", "the target needs a board", block.kind_span, "write e.g. 'target pynq-z2 { ... }'")
            return None
        self.loc.spans[("board",)] = block.label_span
        folds = self._groups(block.entries, "target", "fold", "folds")
        data.update(board=block.label, folds=folds, span=block.span)
        return self.validate(m.TargetSpec, data, "target", block.kind_span)

    def _no_subblocks(self, entries, where: str) -> None:
        for entry in entries:
            if isinstance(entry, ast.SubBlock):
                self.error("Q014", f"'{entry.kind} {entry.label} {{...}}' is not allowed in {where}", entry.span)

    # ---- network ------------------------------------------------------------------------
    def network(self, net: ast.Network) -> m.NetworkSpec | None:
        self._check_name(net.name, net.name_span, "network")
        inputs = [s for s in net.statements if isinstance(s, ast.InputStmt)]
        defaults_stmts = [s for s in net.statements if isinstance(s, ast.DefaultsStmt)]
        stmts = [s for s in net.statements if isinstance(s, ast.LayerStmt | ast.ResidualStmt)]
        for extra in inputs[1:]:
            self.error("Q020", "a second 'input' statement", extra.span, "a network has one input")
        for extra in defaults_stmts[1:]:
            self.error("Q013", "a second 'defaults' statement", extra.span, "merge them into one")
        if not inputs:
            self.error("Q020", f"network '{net.name}' has no input", net.name_span,
                       "add e.g. 'input uint8[1, 28, 28] scale 1/255 -> quant int8'")
        if not stmts:
            self.error("Q022", f"network '{net.name}' has no layers", net.name_span)
        defaults = self.defaults(defaults_stmts[0]) if defaults_stmts else m.Defaults()
        input_spec = self.input(inputs[0]) if inputs else None
        layers, output = self.layers(stmts, defaults or m.Defaults())
        if input_spec is None or layers is None or defaults is None:
            return None
        data = {"name": net.name, "input": input_spec, "layers": layers, "span": net.span}
        if output is not None:
            data["output"] = output
        return self.validate(m.NetworkSpec, data, f"network {net.name}", net.name_span)

    def defaults(self, stmt: ast.DefaultsStmt) -> m.Defaults | None:
        self._no_subblocks(stmt.entries, "defaults")
        data = self.loc.entries(stmt.entries, ("defaults",))
        return self.validate(m.Defaults, data, "defaults", stmt.span)

    def input(self, stmt: ast.InputStmt) -> m.InputSpec | None:
        ok = True
        raw = ValueType.parse(stmt.dtype)
        if raw is None or not (raw.kind != "int" or 2 <= raw.bits <= 32):
            hint = did_you_mean(stmt.dtype, ["uint8", "int8", "bipolar", "float32"])
            self.error("Q021", f"unknown input type '{shortened(stmt.dtype)}'", stmt.dtype_span,
                       hint or "expected uint8, int8, bipolar, float32, or intN/uintN with N from 2 to 32")
            ok = False
        if stmt.quant is not None and not _is_quant_type(stmt.quant):
            hint = did_you_mean(stmt.quant, ["bipolar", "int8", "uint8", "int4", "uint4", "int2", "uint2"])
            self.error("Q021", f"unknown input quantizer '{stmt.quant}'", stmt.quant_span,
                       hint or "expected bipolar, or intN / uintN with N from 2 to 8")
            ok = False
        if not stmt.shape or any(d < 1 for d in stmt.shape) or len(stmt.shape) > 3:
            self.error("Q021", "the input shape must be [features], [channels, length] or [channels, height, width], "
                       "all >= 1",
                       stmt.span)
            ok = False
        if stmt.scale is not None and stmt.scale.value <= 0:
            self.error("Q015", "the input scale must be positive", stmt.scale.span)
            ok = False
        norm = self._normalization(stmt) if stmt.norm is not None else {}
        if not ok or norm is None:
            return None
        scale = stmt.scale.value if stmt.scale else 1.0
        return m.InputSpec(dtype=stmt.dtype, shape=stmt.shape, scale=scale, quant=stmt.quant, span=stmt.span, **norm)

    def _normalization(self, stmt: ast.InputStmt) -> dict | None:
        """``normalize(mean=..., std=...)``: numbers or lists with one number per channel; FINN
        absorbs it into the input quantizer's thresholds, so there must be one."""
        found: dict[str, tuple[float, ...]] = {}
        channels = stmt.shape[0] if len(stmt.shape) > 1 else 1
        for arg in stmt.norm:
            if arg.key not in ("mean", "std"):
                self.error("Q014" if arg.key else "Q015", f"unknown option '{arg.key}' in normalize" if arg.key
                           else "normalize takes named values", arg.span,
                           did_you_mean(arg.key, ["mean", "std"]) if arg.key else "write normalize(mean=M, std=S)")
                return None
            if arg.key in found:
                self.error("Q013", f"'{arg.key}' is given twice", arg.span)
                return None
            value = self.loc.value(arg.value, ("input", arg.key))
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                                     for v in values):
                self.error("Q015", f"normalize's {arg.key} is a number or a list of numbers, one per channel",
                           arg.span)
                return None
            if len(values) not in (1, channels):
                self.error("Q015", f"normalize's {arg.key} has {len(values)} values for {channels} channel"
                           f"{'s' if channels > 1 else ''}", arg.span, f"give one value, or {channels}")
                return None
            if arg.key == "std" and any(v <= 0 for v in values):
                self.error("Q015", "normalize's std must be positive", arg.span)
                return None
            found[arg.key] = tuple(float(v) for v in values)
        missing = [k for k in ("mean", "std") if k not in found]
        if missing:
            self.error("Q016", f"normalize needs {' and '.join(missing)}", stmt.norm_span,
                       "write normalize(mean=M, std=S)")
            return None
        raw = ValueType.parse(stmt.dtype)
        scale = stmt.scale.value if stmt.scale else 1.0
        reach = max(abs(raw.values.start), abs(raw.values.stop - 1)) * scale if raw and raw.values else 1.0
        if any((reach + abs(mean)) / std > FLOAT32_REACH for mean in found["mean"] for std in found["std"]):
            self.error("Q015", "normalize's values would overflow float32 (PyTorch trains in it): the mean is too "
                       "large or the std too small", stmt.norm_span)
            return None
        if stmt.quant is None:
            self.error("Q040", "a normalized input is not integer: FINN needs an input quantizer to absorb the "
                       "normalisation into its thresholds", stmt.norm_span, "add '-> quant int8' (or another width)")
            return None
        return found

    def layers(self, stmts: list[ast.LayerStmt], defaults: m.Defaults):
        specs: list = []
        ok = True
        inner = [s for b in stmts if isinstance(b, ast.ResidualStmt) for s in b.layers]
        used = {s.head.name for s in [*stmts, *inner] if isinstance(s, ast.LayerStmt) and isinstance(s.head, ast.OpHead)
                and s.head.name}
        used |= {s.name for s in stmts if isinstance(s, ast.ResidualStmt) and s.name}
        counters: dict[str, int] = {}
        output = None
        for i, stmt in enumerate(stmts):
            is_last = i == len(stmts) - 1
            if isinstance(stmt, ast.ResidualStmt):
                block = self.residual(stmt, defaults, used, counters)
                ok = ok and block is not None
                specs.extend(block or ())
                continue
            if stmt.output is not None:
                output = self.output(stmt.output, is_last)
            statement_layers = self.statement(stmt, defaults, used, counters)
            if statement_layers is None:
                ok = False
            else:
                specs.extend(statement_layers)
        self._check_duplicates(specs)
        return (tuple(specs) if ok else None), output

    def residual(self, block: ast.ResidualStmt, defaults: m.Defaults, used: set, counters: dict) -> list | None:
        """The block as layers: where it starts, its own layers, where it adds back."""
        if block.name is not None and not self._check_name(block.name, block.name_span, "block"):
            return None
        if not block.layers:
            self.error("Q022", "a residual block without layers", block.span,
                       "put the layers the skip connection goes around inside its braces")
            return None
        name = block.name or self._layer_name(None, "residual", None, used, counters)
        found: list = [m.Residual(name=name, span=block.span)]
        for stmt in block.layers:
            if stmt.output is not None:
                self.output(stmt.output, is_last=False)
            layers = self.statement(stmt, defaults, used, counters)
            if layers is None:
                return None
            found.extend(layers)
        return [*found, m.Add(name=f"{name}_add", block=name, span=block.span)]

    def output(self, out: ast.Output, is_last: bool) -> m.OutputSpec | None:
        if not is_last:
            self.error("Q027", "only the last layer can name the network output", out.span,
                       "move '-> ...' to the last layer")
            return None
        if out.kind not in OUTPUTS:
            self.error("Q027", f"unknown output '{out.kind}'", out.span,
                       did_you_mean(out.kind, OUTPUTS) or "expected logits, label or top K")
            return None
        if out.kind == "top" and (out.k is None or not out.k.is_int or out.k.value < 1):
            self.error("Q027", "'top' needs a whole number of labels", out.span, "write e.g. '-> top 3'")
            return None
        if out.kind != "top" and out.k is not None:
            self.error("Q027", f"'{out.kind}' takes no number", out.k.span)
            return None
        return m.OutputSpec(kind=out.kind, k=int(out.k.value) if out.k else 1, span=out.span)

    def statement(self, stmt: ast.LayerStmt, defaults: m.Defaults, used: set, counters: dict):
        head_kind = _kind_of(stmt.head)
        main = self.layer(stmt.head, None, defaults, stmt, used, counters)
        layers = [main]
        for post in stmt.postops:
            kind = _kind_of(post)
            if kind in WEIGHT_KINDS:
                self.error("Q028", f"'{kind}' cannot follow with '+'", post.span,
                           "start a new line for a layer with weights")
                layers.append(None)
                continue
            parent = main.name if main is not None else None
            layers.append(self.layer(post, parent, defaults, stmt, used, counters))
        for mod in stmt.modifiers:
            self.check_modifier(mod, head_kind)
        return None if any(layer is None for layer in layers) else layers

    def check_modifier(self, mod: ast.Modifier, kind: str) -> None:
        if mod.kind in ("weights", "sparsity") and kind not in WEIGHT_KINDS:
            self.error("Q026", f"'{mod.kind}' applies to linear and conv layers, not '{kind}'", mod.span)
        if mod.kind == "sparsity" and mod.style not in (None, "structured", "unstructured"):
            self.error("Q026", f"unknown sparsity style '{mod.style}'", mod.span,
                       did_you_mean(mod.style, ["structured", "unstructured"]) or "expected structured or unstructured")

    def layer(self, head: ast.Head, parent, defaults, stmt: ast.LayerStmt, used: set, counters: dict):
        kind = _kind_of(head)
        if kind.lower() in NOT_YET:
            what, instead = NOT_YET[kind.lower()]
            self.error("Q029", f"'{kind}' ({what}) is not in the language yet", head.kind_span,
                       f"{instead}; the layers are {', '.join(LAYER_KINDS)}")
            return None
        if kind not in LAYER_KINDS:
            hint = f"did you mean '{SYNONYMS[kind.lower()]}'?" if kind.lower() in SYNONYMS else None
            if kind.lower() in DEPTHWISE_NAMES:
                hint = "a depthwise convolution is a 'conv2d' with one group per input channel: " \
                       "'conv2d NAME (C, kernel=3, groups=C)' on C channels"
            if hint and kind.lower().startswith(("global", "adaptive")):
                hint += " (without a kernel it pools the whole feature map)"
            self.error("Q022", f"unknown layer '{kind}'", head.kind_span,
                       hint or did_you_mean(kind, LAYER_KINDS) or one_of(LAYER_KINDS))
            return None
        name = self._layer_name(head, kind, parent, used, counters)
        if name is None:
            return None
        data: dict = {"name": name, "kind": kind, "span": head.span}
        path = ("layers", name)
        self.loc.spans[path] = head.span
        if isinstance(head, ast.ActHead):
            data.update(self._act_fields(head, stmt, defaults, path))
        else:
            if not self._args(head, kind, data, path):
                return None
            if kind in WEIGHT_KINDS:
                data.setdefault("weights", defaults.weights)
                self._apply_modifiers(stmt, data, path)
        if data.get("func") == "bipolar":
            explicit = head.bits.value if isinstance(head, ast.ActHead) and head.bits is not None else 1
            if explicit != 1:
                self.error("Q044", f"a bipolar activation has 1 bit, not {head.bits.text}", head.span,
                           "use 'act hardtanh N bit' for a signed N-bit activation")
                return None
            data["bits"] = 1
        where = f"layer '{name}'"
        return self.validate(m.LAYER_MODELS[kind], data, where, head.span, path)

    def _layer_name(self, head, kind, parent, used, counters):
        if isinstance(head, ast.OpHead) and head.name is not None:
            return head.name if self._check_name(head.name, head.name_span, "layer") else None
        if parent is not None:
            base = f"{parent}_{POSTOP_SUFFIX.get(kind, kind)}"
        else:
            base = AUTO_PREFIX[kind]
        n = counters.get(base, 0)
        while (candidate := f"{base}{n}" if parent is None else (base if n == 0 else f"{base}{n}")) in used:
            n += 1
        counters[base] = n + 1
        used.add(candidate)
        return candidate

    def _act_fields(self, head: ast.ActHead, stmt: ast.LayerStmt, defaults: m.Defaults, path) -> dict:
        fields: dict = {"func": head.func}
        if head.bits is not None:
            fields["bits"] = int(head.bits.value) if head.bits.is_int else head.bits.value
            self.loc.spans[path + ("bits",)] = head.bits.span
        else:
            acts = [mod for mod in stmt.modifiers if mod.kind == "acts"]
            fields["bits"] = int(acts[-1].value.value) if acts else defaults.acts
        return fields

    def _args(self, head: ast.OpHead, kind: str, data: dict, path) -> bool:
        positional = POSITIONAL.get(kind, ())
        ok = True
        for i, arg in enumerate(head.args or ()):
            if arg.key is None:
                if i >= len(positional):
                    self.error("Q023", f"too many arguments for '{kind}'", arg.span,
                               f"'{kind}' takes {_describe_positional(kind, positional)}")
                    ok = False
                    continue
                key = positional[i]
            else:
                key = arg.key
            if key in ("name", "kind", "span"):
                self.error("Q014", f"unknown option '{key}' in layer", arg.span)
                ok = False
                continue
            if key in data:
                self.error("Q013", f"'{key}' is given twice", arg.span)
                ok = False
                continue
            self.loc.spans[path + (key,)] = arg.span
            data[key] = self.loc.value(arg.value, path + (key,))
        return ok

    def _apply_modifiers(self, stmt: ast.LayerStmt, data: dict, path) -> None:
        for mod in stmt.modifiers:
            if mod.kind == "weights":
                data["weights"] = int(mod.value.value) if mod.value.is_int else mod.value.value
                self.loc.spans[path + ("weights",)] = mod.span
            elif mod.kind == "sparsity":
                data["sparsity"] = mod.value.value / 100.0
                if mod.style in ("structured", "unstructured"):
                    data["sparsity_style"] = mod.style
                self.loc.spans[path + ("sparsity",)] = mod.span

    def _check_name(self, name: str, span: Span, what: str) -> bool:
        if not NAME_RE.match(name) or keyword.iskeyword(name):
            self.error("Q024", f"'{name}' is not a valid {what} name", span,
                       "use letters, digits and '_', starting with a letter (not a Python keyword)")
            return False
        return True

    def _check_duplicates(self, layers) -> None:
        seen: dict[str, m.LayerBase] = {}
        for layer in layers:
            if layer is None:
                continue
            if layer.name in seen:
                first = seen[layer.name].span
                self.error("Q025", f"layer name '{layer.name}' is used twice", layer.span,
                           f"first used on line {first.line}; names must be unique")
            else:
                seen[layer.name] = layer


def _kind_of(head: ast.Head) -> str:
    return "act" if isinstance(head, ast.ActHead) else head.kind


def _is_quant_type(name: str) -> bool:
    """A quantizer: bipolar, or intN / uintN with N from 2 to 8."""
    q = ValueType.parse(name)
    return q is not None and (q.kind == "bipolar" or (q.kind == "int" and 2 <= q.bits <= 8))


def _describe_positional(kind: str, positional: tuple[str, ...]) -> str:
    if not positional:
        return "no positional arguments"
    return f"at most {len(positional)} positional argument(s): {', '.join(positional)}"
