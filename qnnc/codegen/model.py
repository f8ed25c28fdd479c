"""The Brevitas model of a spec, as precomputed constructor source per module."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from qnnc.codegen.pycode import call, ident, literal, mapping_block
from qnnc.passes.facts import Facts
from qnnc.passes.quant import summed_bits
from qnnc.passes.residual import block_input_act
from qnnc.passes.shapes import pool_window
from qnnc.spec import model as m


@dataclass(frozen=True)
class Module:
    attr: str
    ctor: str | None  # None: no module of its own, only its line in the forward pass
    out_group: str | None = None
    in_group: str | None = None
    in_repeat: int = 1
    line: str | None = None  # its line in the forward pass; default: x = self.<attr>(x)

    @property
    def forward(self) -> str:
        return self.line or f"x = self.{self.attr}(x)"


def _clipped(bits: int) -> bool:
    """1- and 2-bit weights are constant-scaled: latent values clipped to [-1, 1], quantized to
    at most {-1, 0, 1}; wider ones have a learned float scale."""
    return bits <= 2


def _weight_quant(bits: int) -> str:
    return "CommonWeightQuant" if _clipped(bits) else "Int8WeightPerTensorFloat"


def input_module(inp: m.InputSpec) -> Module | None:
    if inp.quant is None:
        return None
    q = inp.quant_type
    quant = "CommonActQuant" if q.signed else "UnsignedInputQuant"
    return Module("input_quant", call("QuantIdentity", act_quant=quant, bit_width=literal(q.bits)))


def act_ctor(layer: m.Act, pooled: bool = False) -> str:
    """``pooled``: an average pool follows, which needs the quantized tensor (its scale and bits)."""
    bits = literal(layer.bits)
    if layer.func in ("bipolar", "hardtanh"):
        return call("QuantIdentity", act_quant="CommonActQuant", bit_width=bits)
    if layer.func == "relu":
        return call("QuantReLU", bit_width=bits, **({"return_quant_tensor": "True"} if pooled else {}))
    return call("QuantIdentity", bit_width=bits)


def avgpool_ctor(layer: m.AvgPool, shape, bits: int) -> str:
    """Brevitas' average pool keeping the whole sum of each window (FINN's QuantAvgPool2d, with
    no bits dropped): ``bits`` wide, at the average's scale."""
    kernel, stride = pool_window(layer, shape)
    return call("TruncAvgPool2d", indent=8, kernel_size=literal(kernel), stride=literal(stride),
                trunc_quant=f"TruncTo8bit.let(bit_width={literal(bits)})", return_quant_tensor="False")


class _Channels:
    """The width flowing between layers, as source text, and the pruning group behind it."""

    def __init__(self, inp: m.InputSpec):
        self.expr = literal(inp.shape[0])
        self.group: str | None = None
        self.repeat = 1

    def after_weights(self, name: str) -> None:
        self.expr, self.group, self.repeat = f"w[{literal(name)}]", name, 1

    def after_flatten(self, shape) -> None:
        spatial = math.prod(shape[1:])
        if spatial > 1:
            self.expr = f"{self.expr} * {literal(spatial)}"
            self.repeat *= spatial


def weighted(kind: str, layer: m.WeightLayer, teacher: bool, **shape: str) -> str:
    """A layer with weights: Brevitas' quantized one, or the teacher's float one (with a bias)."""
    if teacher:
        return call(f"nn.{kind}", indent=8, **shape, bias="True")
    return call(f"Quant{kind}", indent=8, **shape, bias=literal(layer.bias), weight_bit_width=literal(layer.weights),
                weight_quant=_weight_quant(layer.weights))


def modules(spec: m.Spec, facts: Facts, teacher: bool = False) -> list[Module]:
    """The quantized network's modules in order; ``teacher``: its float twin's (no quantizers,
    float weights, a ReLU for every activation, an average pool that averages, float logits)."""
    net = spec.network
    out: list[Module] = []
    first = None if teacher else input_module(net.input)
    if first is not None:
        out.append(first)
    ch = _Channels(net.input)
    skips: dict[str, _Channels] = {}  # residual block -> the channels at its start
    start_of = {layer.name: i for i, layer in enumerate(net.layers) if isinstance(layer, m.Residual)}
    momentum = spec.train.batchnorm_momentum
    batchnorm_args = {} if momentum == m.TORCH_BATCHNORM_MOMENTUM else {"momentum": literal(momentum)}
    # An MLP flattens before quantizing its input (flatten0 goes first, below), so FINN's input
    # thresholds see a flat tensor and no layout transpose is left outside the dataflow partition.
    following = [*net.layers[1:], None]
    for i, (layer, shape, after) in enumerate(zip(net.layers, facts.shapes, following, strict=True)):
        name = ident(layer.name)
        if isinstance(layer, m.Linear):
            ctor = weighted("Linear", layer, teacher, in_features=ch.expr, out_features=f"w[{literal(name)}]")
            out.append(Module(name, ctor, name, ch.group, ch.repeat))
            ch.after_weights(name)
        elif isinstance(layer, m.Conv2d) and layer.depthwise:  # one filter per channel: pruned with its input
            ctor = weighted("Conv2d", layer, teacher, in_channels=ch.expr, out_channels=ch.expr, groups=ch.expr,
                            kernel_size=literal(layer.kernel), stride=literal(layer.stride),
                            padding=literal(layer.padding))
            out.append(Module(name, ctor, ch.group))
        elif isinstance(layer, m.Conv):
            ctor = weighted("Conv1d" if isinstance(layer, m.Conv1d) else "Conv2d", layer, teacher,
                            in_channels=ch.expr, out_channels=f"w[{literal(name)}]", kernel_size=literal(layer.kernel),
                            stride=literal(layer.stride), padding=literal(layer.padding))
            out.append(Module(name, ctor, name, ch.group, ch.repeat))
            ch.after_weights(name)
        elif isinstance(layer, m.BatchNorm):
            cls = "nn.BatchNorm2d" if len(shape.inp) == 3 else "nn.BatchNorm1d"
            out.append(Module(name, call(cls, ch.expr, **batchnorm_args), ch.group))
        elif isinstance(layer, m.Act):
            out.append(Module(name, "nn.ReLU()" if teacher else act_ctor(layer, pooled=isinstance(after, m.AvgPool))))
        elif isinstance(layer, m.AvgPool) and teacher:
            kernel, stride = pool_window(layer, shape.inp)
            out.append(Module(name, call("nn.AvgPool2d", kernel_size=literal(kernel), stride=literal(stride))))
        elif isinstance(layer, m.AvgPool):  # lint: right after a relu, whose bits it sums
            relu = net.layers[i - 1]
            out.append(Module(name, avgpool_ctor(layer, shape.inp, summed_bits(layer, shape.inp, relu.bits))))
        elif isinstance(layer, m.MaxPool):
            cls = "nn.MaxPool1d" if isinstance(layer, m.MaxPool1d) else "nn.MaxPool2d"
            out.append(Module(name, call(cls, kernel_size=literal(layer.kernel),
                                         stride=literal(layer.stride or layer.kernel))))
        elif isinstance(layer, m.Residual):  # the skip connection keeps the block's input
            out.append(Module(name, None, line=f"skip_{name} = x"))
            skips[name] = copy.copy(ch)
        elif isinstance(layer, m.Add):  # both operands and the sum on the block input's quantizer
            act = ident(block_input_act(net.layers, start_of[layer.block]).name)
            line = (f"x = self.{act}(x + skip_{ident(layer.block)})" if teacher else
                    f"x = self.{act}(self.{act}(x) + skip_{ident(layer.block)})")
            out.append(Module(name, None, line=line))
            ch = skips[layer.block]
        elif isinstance(layer, m.Dropout):  # an identity in eval mode: never exported
            out.append(Module(name, call("nn.Dropout", p=literal(layer.p))))
        elif isinstance(layer, m.Flatten):
            module = Module(name, call("nn.Flatten"))
            if out and out[0].attr == "input_quant" and layer is net.layers[0]:
                out.insert(0, module)
            else:
                out.append(module)
            ch.after_flatten(shape.inp)
    if net.output.kind in ("label", "top") and not teacher:
        out.append(Module("output_norm", call("ScalarNorm")))
    return out


def head_act(spec: m.Spec) -> str | None:
    """A trailing activation that the loss must not see (a bipolar or quantized output)."""
    last = spec.network.layers[-1]
    return ident(last.name) if isinstance(last, m.Act) and spec.network.output.kind == "logits" else None


def template_values(spec: m.Spec, facts: Facts, spec_name: str) -> dict:
    mods = modules(spec, facts)
    head = head_act(spec)
    weights = [layer for layer in spec.network.layers if isinstance(layer, m.WeightLayer)]
    inp = spec.network.input
    signed = inp.quant is not None and not inp.quant.startswith("uint")
    norm = inp.normalization()
    return {
        "network": spec.network.name,
        "spec_name": spec_name,
        "input_scale": literal(inp.scale),
        "normalization": norm and {"mean": literal(list(norm[0])), "std": literal(list(norm[1])),
                                   "shape": ", ".join(["1", "-1"] + ["1"] * (len(inp.shape) - 1))},
        "signed_input": literal(signed),
        "widths": mapping_block({layer.name: layer.out for layer in weights}),
        "prune_groups": mapping_block({
            mod.attr: (mod.out_group, mod.in_group, mod.in_repeat)
            for mod in mods if mod.out_group is not None
        }),
        "clipped": literal(tuple(layer.name for layer in weights if _clipped(layer.weights))),
        "modules": mods,
        "brevitas_layers": ", ".join(sorted({mod.ctor.split("(")[0] for mod in mods
                                             if mod.ctor and mod.ctor.startswith(("Quant", "TruncAvgPool2d"))})),
        "truncation": any(mod.ctor and mod.ctor.startswith("TruncAvgPool2d") for mod in mods),
        "float_weights": any(layer.weights > 2 for layer in weights),
        "body": [mod.forward for mod in mods if mod.attr != head],
        "forward_expr": f"self.{head}(self.logits(x))" if head else "self.logits(x)",
        "teacher": spec.train.teacher.name == "float" and _teacher_values(spec, facts, head),
    }


def _teacher_values(spec: m.Spec, facts: Facts, head: str | None) -> dict:
    mods = modules(spec, facts, teacher=True)
    return {"modules": mods, "body": [mod.forward for mod in mods if mod.attr != head]}
