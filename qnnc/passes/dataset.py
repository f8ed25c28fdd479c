"""The network's input and output must fit its dataset."""

from __future__ import annotations

from qnnc.datasets_info import DATASETS
from qnnc.errors import Diagnostic
from qnnc.passes.facts import Facts
from qnnc.spec import model as m


def check_dataset(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    info = DATASETS[spec.train.dataset]
    net = spec.network
    found = []
    if tuple(net.input.shape) != info.shape:
        found.append(Diagnostic(
            "Q050", f"dataset '{info.name}' has samples of shape {list(info.shape)}, "
            f"but the input is {list(net.input.shape)}", net.input.span,
            hint=f"write 'input {info.dtype}[{', '.join(map(str, info.shape))}] ...'",
        ))
    width = facts.shapes[-1].out if facts.shapes else ()
    last_weight = next((layer for layer in reversed(net.layers) if isinstance(layer, m.WeightLayer)), None)
    pruned_outputs = last_weight is not None and last_weight.kept != last_weight.out  # Q061 reports it
    if len(width) == 1 and width[0] != info.outputs and not pruned_outputs:
        last = net.layers[-1]
        found.append(Diagnostic(
            "Q051", f"the network ends with {width[0]} outputs, but dataset '{info.name}' needs "
            f"{info.outputs}", last.span,
            hint=f"{info.classes} classes need {info.outputs} output{'s' if info.outputs > 1 else ''}",
        ))
    return facts, found
