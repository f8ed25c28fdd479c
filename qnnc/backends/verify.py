"""Bit-exact verification on held-out samples: the trained PyTorch model, the exported QONNX
model, FINN's streamlined model and FINN's hardware-layer model (python execution of the HW
nodes) must give the same outputs. A mismatch names the first stage that diverges."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qnnc.backends.export import FINN_INPUT, load_trained
from qnnc.backends.thresholds import clip_thresholds
from qnnc.errors import QnncError
from qnnc.spec import model as m

DEFAULT_SAMPLES = 32


class VerificationError(QnncError):
    """The models disagree; the message names the first stage that diverges."""


@dataclass(frozen=True)
class Reference:
    x: np.ndarray  # raw inputs, float32, [N, *shape]
    outputs: np.ndarray  # what the accelerator must return
    ambiguous: np.ndarray  # bool per sample: the top logits tie, so the label is not defined
    logits: np.ndarray | None = None  # label outputs: PyTorch's logits, to check tied labels


def reference(root: Path, spec: m.Spec, x: np.ndarray) -> Reference:
    import torch

    net = load_trained(root)
    with torch.no_grad():
        out = net(torch.from_numpy(x)).numpy()
    if spec.network.output.kind == "logits":
        return Reference(x, out, np.zeros(len(x), dtype=bool))
    return top_labels(x, out, spec.network.output.k)


def top_labels(x: np.ndarray, logits: np.ndarray, k: int) -> Reference:
    """The k top labels of each sample's logits, and whether the k-th ties with the next."""
    order = np.argsort(-logits, axis=1, kind="stable")
    top = order[:, :k]
    kth = np.take_along_axis(logits, order[:, k - 1: k], axis=1)[:, 0]
    following = np.take_along_axis(logits, order[:, k: k + 1], axis=1)[:, 0] if logits.shape[1] > k else kth - 1
    return Reference(x, top, tied(kth, following), logits)


def tied(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Logits equal but for float rounding: the same integer sum, scaled and accumulated in
    another order (PyTorch's float32 logits near 8 differ by a few 1e-6 where FINN's are equal)."""
    return np.isclose(a, b, rtol=1e-5, atol=1e-6)


def finn_models(root: Path, spec: m.Spec) -> list[tuple[str, object]]:
    """The QONNX model and FINN's models after streamlining and after conversion to HW layers."""
    from qonnx.core.modelwrapper import ModelWrapper

    from qnnc.backends.finn import around_streamline, estimate_config
    from qnnc.backends.finn_compat import prepare_finn

    prepare_finn()
    from finn.builder import build_dataflow_steps as steps

    cfg = estimate_config(spec, Path(root))
    from qonnx.transformation.infer_shapes import InferShapes

    model = ModelWrapper(str(Path(root) / FINN_INPUT))
    stages = [("qonnx", copy.deepcopy(model).transform(InferShapes()))]
    before, after = around_streamline(spec)
    for step in (steps.step_qonnx_to_finn, steps.step_tidy_up, *before, steps.step_streamline, *after):
        model = step(model, cfg)
    stages.append(("finn-streamlined", copy.deepcopy(model)))
    stages.append(("finn-hw-layers", clip_thresholds(steps.step_convert_to_hw(model, cfg))[0]))
    return stages


def run_model(model, x: np.ndarray) -> np.ndarray:
    from qonnx.core.onnx_exec import execute_onnx

    name_in, name_out = model.graph.input[0].name, model.graph.output[0].name
    shape = model.get_tensor_shape(name_in)  # a 1-D network's FINN models take [1, C, L, 1]
    rows = [execute_onnx(model, {name_in: x[i: i + 1].reshape(shape)})[name_out] for i in range(len(x))]
    return np.concatenate(rows).reshape(len(x), -1)


def compare(stage: str, ref: Reference, got: np.ndarray) -> dict:
    want = ref.outputs.reshape(len(ref.x), -1)
    if want.shape != got.shape:
        raise VerificationError(f"{stage}: output shape {got.shape} differs from PyTorch's {want.shape}")
    equal = np.all(np.isclose(want, got, rtol=0, atol=1e-6), axis=1)
    if ref.logits is not None:  # a tie: any of the tied top labels is right
        kth = np.take_along_axis(ref.logits, want[:, -1:].astype(int), axis=1)
        picked = np.take_along_axis(ref.logits, got.astype(int), axis=1)
        equal |= ref.ambiguous & np.all((picked >= kth) | tied(picked, kth), axis=1)
    bad = np.flatnonzero(~equal)
    return {"stage": stage, "mismatches": int(len(bad)), "first_mismatch": int(bad[0]) if len(bad) else None,
            "max_abs_diff": float(np.max(np.abs(want - got))) if want.size else 0.0}


def verify(root: Path, spec: m.Spec, x: np.ndarray) -> dict:
    ref = reference(root, spec, x.astype(np.float32))
    results = []
    for stage, model in finn_models(root, spec):
        result = compare(stage, ref, run_model(model, ref.x))
        results.append(result)
        if result["mismatches"]:
            raise VerificationError(
                f"'{stage}' is the first stage that diverges from the PyTorch model: {result['mismatches']} of "
                f"{len(ref.x)} samples differ (first: sample {result['first_mismatch']}, max difference "
                f"{result['max_abs_diff']:g})")
    return {"samples": len(ref.x), "ambiguous_ties": int(ref.ambiguous.sum()), "stages": results,
            "bit_exact": True}


def held_out(spec: m.Spec, n: int = DEFAULT_SAMPLES) -> np.ndarray:
    from qnnc.runtime.data import load

    _, _, x_test, _ = load(spec.dataset_value, spec.folder)
    return x_test[:n].astype(np.float32)
