"""Sparsity must shrink the hardware: only structured pruning does, and never of the outputs."""

from __future__ import annotations

from qnnc.errors import Diagnostic
from qnnc.passes.facts import Facts
from qnnc.spec import model as m


def check_sparsity(spec: m.Spec, facts: Facts) -> tuple[Facts, list[Diagnostic]]:
    found = []
    weights = [layer for layer in spec.network.layers if isinstance(layer, m.WeightLayer)]
    for layer in weights:
        if not layer.sparsity:
            continue
        span = layer.span_of("sparsity")
        if layer.sparsity_style == "unstructured":
            found.append(Diagnostic(
                "Q060", f"unstructured sparsity in '{layer.name}' saves nothing in a FINN dataflow design",
                span, hint="FINN stores every weight, zero or not; use structured sparsity to remove "
                "whole neurons", severity="warning",
            ))
        elif layer is weights[-1]:
            found.append(Diagnostic(
                "Q061", f"pruning '{layer.name}' would remove network outputs", span,
                hint="prune hidden layers only",
            ))
    return facts, found
