"""The network's input and output must fit its dataset. A built-in dataset's sample shape and
classes are known here; the user's own data declares its classes, and its samples are checked
against the input when they are loaded (lint never reads data). Early stopping needs samples
held out for validation."""

from __future__ import annotations

from qnnc.datasets_info import DATASETS
from qnnc.errors import Diagnostic
from qnnc.passes.facts import Facts
from qnnc.spec import model as m


def check_dataset(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    net, train = spec.network, spec.train
    user = train.user_data
    named = f"the data's {user.classes} classes" if user else f"dataset '{train.dataset}'"
    found = []
    if user is None:
        info = DATASETS[train.dataset]
        if tuple(net.input.shape) != info.shape:
            found.append(Diagnostic(
                "Q050", f"dataset '{info.name}' has samples of shape {list(info.shape)}, "
                f"but the input is {list(net.input.shape)}", net.input.span,
                hint=f"write 'input {info.dtype}[{', '.join(map(str, info.shape))}] ...'",
            ))
    width = facts.shapes[-1].out if facts.shapes else ()
    last_weight = next((layer for layer in reversed(net.layers) if isinstance(layer, m.WeightLayer)), None)
    pruned_outputs = last_weight is not None and last_weight.kept != last_weight.out  # Q061 reports it
    if len(width) == 1 and width[0] != train.outputs and not pruned_outputs:
        last = net.layers[-1]
        found.append(Diagnostic(
            "Q051", f"the network ends with {width[0]} outputs, but {named} need {train.outputs}", last.span,
            hint=f"{train.classes} classes need {train.outputs} output{'s' if train.outputs > 1 else ''}",
        ))
    if train.patience is not None and not train.validation:
        found.append(Diagnostic(
            "Q052", "'patience' stops training when the validation accuracy stops improving, and no samples are "
            "held out for validation", train.span_of("patience"),
            hint="remove 'validation: 0%', or remove 'patience'"))
    augment = train.augment
    spatial = net.input.shape[1:]
    if augment.name == "shift" and (not spatial or augment.pixels >= min(spatial)):
        found.append(Diagnostic(
            "Q053", f"'shift' moves samples along their pixels, and the input {list(net.input.shape)} "
            + ("has none (it is a vector of features)" if not spatial else
               f"is {min(spatial)} wide, not more than {augment.pixels} pixels"), train.span_of("augment"),
            hint="shift images ([C, H, W]) or sequences ([C, L]) by fewer pixels than they are wide"
            if spatial else "remove 'augment' (no shift means anything for features)"))
    if augment.name == "elastic" and (len(spatial) != 2 or min(spatial) < 2):
        found.append(Diagnostic(
            "Q054", f"'elastic' bends images, and the input {list(net.input.shape)} is not one ([C, H, W], "
            "at least 2 pixels each way)",
            train.span_of("augment"), hint="use 'shift(pixels=N)' for sequences, or remove 'augment'"))
    return facts, found
