"""Residual blocks that map bit-exactly onto FINN: the skip connection's sum is computed on one
integer grid. The block's input comes from a quantized activation, and its quantizer ``q`` is
shared: the block's output is q(q(layers(x)) + x), so both operands of FINN's elementwise add
are integers at q's scale and the sum is clamped, never rounded (a sum re-quantized at another
scale lands on half-way points, where Brevitas and FINN's thresholds round apart)."""

from __future__ import annotations

from qnnc.errors import Diagnostic
from qnnc.passes.facts import Facts
from qnnc.spec import model as m

SHARED = ("relu", "hardtanh", "identity")  # activations whose quantizer a block can share


def block_input_act(layers, start: int) -> m.Act | None:
    """The activation whose quantizer the block starting at ``layers[start]`` shares: the one
    before it, past max pools and dropout (they keep its grid) and past an earlier block (whose
    sum is on its own input's grid)."""
    i = start - 1
    while i >= 0:
        layer = layers[i]
        if isinstance(layer, m.Act):
            return layer if layer.func in SHARED else None
        if isinstance(layer, m.Add):
            i = next(k for k in range(i, -1, -1) if isinstance(layers[k], m.Residual) and layers[k].name == layer.block)
        elif not isinstance(layer, m.MaxPool | m.Dropout):
            return None
        i -= 1
    return None


def check_residuals(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    layers = spec.network.layers
    found: list[Diagnostic] = []
    for i, layer in enumerate(layers):
        if isinstance(layer, m.Residual):
            before = layers[i - 1] if i else None
            if block_input_act(layers, i) is None:
                what = f"'{before.name}' ({before.kind}{' ' + before.func if isinstance(before, m.Act) else ''})" \
                    if before is not None else "the input"
                found.append(Diagnostic(
                    "Q038", f"residual block '{layer.name}' follows {what}: a block shares the quantizer of the "
                    "activation right before it (relu, hardtanh or identity, 2 bits or more)", layer.span,
                    hint="end the line before the block with '+ act relu' (a bipolar sum of two signs would tie "
                         "at zero)"))
            found.extend(_pruned_edges(layers, i, layer))
        if isinstance(layer, m.Add):
            last = layers[i - 1]
            if isinstance(last, m.Act):
                found.append(Diagnostic(
                    "Q038", f"residual block '{layer.block}' ends with an activation ('{last.name}'): the block "
                    "quantizes its layers' output with its input's quantizer before adding", last.span,
                    hint="end the block's last line with '+ batchnorm' (or the conv itself)"))
    if spec.sweep is not None and any(isinstance(layer, m.Residual) for layer in layers):
        found.append(Diagnostic("Q038", "a sweep of a network with residual blocks is not supported yet: its "
                                "trials would change widths and pruning the skip connections must keep",
                                spec.sweep.span, hint="sweep the network without its residual blocks"))
    return facts, found


def _pruned_edges(layers, start: int, block: m.Residual) -> list[Diagnostic]:
    """The skip connection adds channel to channel: the weight layer that makes the block's input
    and the block's last weight layer keep every channel."""
    end = next(i for i in range(start, len(layers)) if isinstance(layers[i], m.Add) and layers[i].block == block.name)
    feeding = next((lay for lay in reversed(layers[:start]) if isinstance(lay, m.WeightLayer)), None)
    closing = next((lay for lay in reversed(layers[start:end]) if isinstance(lay, m.WeightLayer)), None)
    return [Diagnostic("Q038", f"'{lay.name}' is pruned, but residual block '{block.name}' adds its channels to the "
                       "skip connection's one by one", lay.span_of("sparsity"),
                       hint="prune the layers inside the block but its last")
            for lay in (feeding, closing) if lay is not None and lay.sparsity and lay.kept != lay.out]
