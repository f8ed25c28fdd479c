"""The sweep's search space: parameter name -> values to try, from the spec's sweep block."""

from __future__ import annotations

import hashlib
import json
import math

from qnnc.spec import model as m


def weight_layers(spec: m.Spec) -> list[str]:
    return [layer.name for layer in spec.network.layers if isinstance(layer, m.WeightLayer)]


def parameters(spec: m.Spec) -> dict[str, tuple]:
    """Global lists first (``weights``, ``acts``, ``sparsity``, ``width``), then per-layer ones
    (``fc0.weights``); a parameter with a single value is still a parameter (it is recorded)."""
    sweep = spec.sweep
    found: dict[str, tuple] = {}
    for key in ("weights", "acts", "sparsity", "width"):
        if getattr(sweep, key):
            found[key] = tuple(getattr(sweep, key))
    for name, layer in sweep.layers.items():
        for key in ("weights", "sparsity"):
            if getattr(layer, key):
                found[f"{name}.{key}"] = tuple(getattr(layer, key))
    return found


def grid_size(params: dict[str, tuple]) -> int:
    return math.prod(len(v) for v in params.values())


def trial_key(params: dict) -> str:
    """A short stable name for a configuration: its trial directory."""
    text = json.dumps(params, sort_keys=True)
    label = "-".join(f"{k.replace('.', '_')}{v:g}" for k, v in sorted(params.items()))
    return f"{label[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
