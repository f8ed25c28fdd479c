"""A sweep block must vary something, and name layers that have weights; pruning the output
layer is refused here as it is for a layer's own sparsity, and so are 1-bit weights that would
reach a depthwise conv. Trials are chosen on held-out
validation samples, so there must be some."""

from __future__ import annotations

from qnnc.errors import Diagnostic, did_you_mean
from qnnc.passes.facts import Facts
from qnnc.spec import model as m


def _bipolar_depthwise(spec: m.Spec) -> list[Diagnostic]:
    """1-bit weights in a sweep would reach a depthwise conv, which FINN cannot map with bipolar
    weights (Q037): every such trial would fail."""
    sweep = spec.sweep
    found, reached = [], []
    for layer in spec.network.layers:
        if not (isinstance(layer, m.Conv2d) and layer.depthwise):
            continue
        own = sweep.layers.get(layer.name)
        if own is not None and 1 in own.weights:
            found.append(Diagnostic("Q037", f"the sweep gives depthwise conv2d '{layer.name}' 1-bit weights, which "
                                    "FINN's depthwise unit cannot take", own.span_of("weights"),
                                    hint="sweep its weights from 2 bits"))
        elif (own is None or not own.weights) and 1 in sweep.weights:
            reached.append(layer.name)
    if reached:
        names = ", ".join(f"'{n}'" for n in reached)
        found.append(Diagnostic("Q037", f"1-bit weights in the sweep would reach depthwise conv2d {names}, which "
                                "FINN's depthwise unit cannot take", sweep.span_of("weights"),
                                hint=f"sweep weights from 2 bits, or pin them: "
                                     f"'layer {reached[0]} {{ weights: [2] }}'"))
    return found


def check_sweep(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    sweep = spec.sweep
    if sweep is None:
        return facts, []
    weights = [layer.name for layer in spec.network.layers if isinstance(layer, m.WeightLayer)]
    found = []
    for name, layer in sweep.layers.items():
        if name not in weights:
            found.append(Diagnostic("Q080", f"'layer {name}' in the sweep names no layer with weights", layer.span,
                                    hint=did_you_mean(name, weights) or f"layers with weights: {', '.join(weights)}"))
        elif name == weights[-1] and any(layer.sparsity):
            found.append(Diagnostic("Q061", f"pruning '{name}' would remove network outputs",
                                    layer.span_of("sparsity"), hint="sweep sparsity on hidden layers only"))
    varied = any(getattr(sweep, k) for k in ("weights", "acts", "sparsity", "width")) or any(
        layer.weights or layer.sparsity for layer in sweep.layers.values())
    if not varied:
        found.append(Diagnostic("Q081", "the sweep varies nothing", sweep.span,
                                hint="give values to try, e.g. 'weights: [1, 2, 4]' or 'acts: [2, 4]'"))
    if sweep.early_stop == "plateau" and sweep.min_accuracy is None:
        found.append(Diagnostic("Q082", "'early_stop: plateau' stops trials below min_accuracy, and none is given",
                                sweep.span_of("early_stop"),
                                hint="add e.g. 'min_accuracy: 95%', or use 'early_stop: median'"))
    found.extend(_bipolar_depthwise(spec))
    if sweep.validation is None and not spec.train.validation:
        found.append(Diagnostic("Q084", "a sweep chooses its trials on validation accuracy, and the train block "
                                "holds no samples out for validation", spec.train.span_of("validation"),
                                hint="remove 'validation: 0%' from the train block, or give the sweep its own "
                                "share, e.g. 'validation: 10%'"))
    return facts, found
