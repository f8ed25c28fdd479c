"""Thresholds clipped into the range their unit can reach, before FINN's steps check them.

Training can leave a threshold outside the values a unit's accumulator can take: a neuron that
always fires (threshold below the smallest reachable sum) or never does (above the largest).
That is a legal network, but FINN asserts on some of them: an XNOR matrix unit (bipolar inputs
and weights, computed as a popcount in [0, MW]) requires every threshold >= 0
(``MVAU.get_hw_compatible_threshold_tensor``), and an unsigned-input thresholding unit the same.
FINN's own ``RoundAndClipThresholds`` clips only to the accumulator's *data type*, which for an
XNOR unit is signed, so a threshold of -15 survives it (Xilinx/finn issue #978).

Clipping a threshold ``t`` of a unit whose input to the comparison lies in ``[lo, hi]`` to
``[lo, hi + 1]`` keeps the function: for every reachable ``a``, ``a >= t`` if and only if
``a >= clip(t, lo, hi + 1)`` (below ``lo`` both are always true, above ``hi + 1`` both always
false). The range is taken per output channel from the unit's actual weights.
"""

from __future__ import annotations

import numpy as np


def reachable(model, node) -> tuple[np.ndarray, np.ndarray] | None:
    """Per output channel, the smallest and largest value a thresholded unit compares; None for
    a node without thresholds or with an input type of unknown range."""
    from qonnx.custom_op.registry import getCustomOp

    op = node.op_type
    if op.startswith(("MVAU", "VVAU")):
        inst = getCustomOp(node)
        if inst.get_nodeattr("noActivation") or len(node.input) < 3:
            return None
        weights = model.get_initializer(node.input[1])
        if weights is None:
            return None
        if op.startswith("VVAU"):  # [C, 1, K, K] -> one column per channel
            weights = weights.reshape(weights.shape[0], -1).T
        if op.startswith("MVAU") and inst.get_nodeattr("binaryXnorMode"):
            mw = weights.shape[0]  # popcount of MW agreements
            return np.zeros(weights.shape[1]), np.full(weights.shape[1], float(mw))
        idt = inst.get_input_datatype(0)
        if not idt.is_integer():
            return None
        high = np.where(weights > 0, idt.max(), idt.min())
        low = np.where(weights > 0, idt.min(), idt.max())
        return (weights * low).sum(axis=0), (weights * high).sum(axis=0)
    if op == "MultiThreshold" or op.startswith("Thresholding"):
        idt = model.get_tensor_datatype(node.input[0])
        if not idt.is_integer():
            return None
        return np.array([idt.min()], dtype=np.float64), np.array([idt.max()], dtype=np.float64)
    return None


def clip_thresholds(model):
    """Every thresholded unit's thresholds clipped into ``[lo, hi + 1]`` of what it can reach;
    returns (model, names of the nodes changed). Works in place on ``model``."""
    changed = []
    for node in model.graph.node:
        bounds = reachable(model, node)
        index = 2 if node.op_type.startswith(("MVAU", "VVAU")) else 1
        thresholds = model.get_initializer(node.input[index]) if bounds else None
        if thresholds is None:
            continue
        lo, hi = bounds
        if thresholds.shape[0] != len(lo):  # one row shared by every channel
            lo, hi = np.array([lo.min()]), np.array([hi.max()])
        clipped = np.clip(thresholds, lo[:, None], hi[:, None] + 1).astype(np.float32)
        if np.any(clipped != thresholds):
            model.set_initializer(node.input[index], clipped)
            changed.append(node.name)
    return model, changed


def xnor_thresholds(model) -> dict[str, np.ndarray]:
    """The thresholds of every XNOR matrix unit, keyed by their tensor's name (FINN keeps the
    name through specialization and bit-width minimization)."""
    from qonnx.custom_op.registry import getCustomOp

    kept = {}
    for node in model.graph.node:
        if node.op_type.startswith("MVAU") and len(node.input) > 2 and getCustomOp(node).get_nodeattr(
                "binaryXnorMode"):
            thresholds = model.get_initializer(node.input[2])
            if thresholds is not None:
                kept[node.input[2]] = thresholds.copy()
    return kept


def restore_xnor_thresholds(model, kept: dict[str, np.ndarray]):
    """Undo FINN's clipping of XNOR units' thresholds; returns (model, names of the nodes changed).

    FINN's ``RoundAndClipThresholds`` clips to an accumulator type that
    ``MinimizeAccumulatorWidth`` derives as if the inputs were bipolar (a range of
    [-#negative weights, #positive weights]), while an XNOR unit computes a popcount in [0, MW]:
    a never-firing neuron's threshold MW + 1 can come back as a reachable value, and the neuron
    fires when every input agrees with its weights. The kept thresholds (already clipped into
    [0, MW + 1], rounded up as the popcount is whole) go back, with a threshold type and an
    accumulator wide enough for them."""
    from qonnx.core.datatype import DataType
    from qonnx.custom_op.registry import getCustomOp

    changed = []
    for node in model.graph.node:
        if not (node.op_type.startswith("MVAU") and len(node.input) > 2 and node.input[2] in kept):
            continue
        inst = getCustomOp(node)
        want = np.ceil(kept[node.input[2]]).astype(np.float32)
        if np.array_equal(model.get_initializer(node.input[2]), want):
            continue
        model.set_initializer(node.input[2], want)
        wide = DataType.get_smallest_possible(-int(want.max()) - 1)  # signed, as FINN keeps XNOR thresholds
        if model.get_tensor_datatype(node.input[2]).bitwidth() < wide.bitwidth():
            model.set_tensor_datatype(node.input[2], wide)
        if DataType[inst.get_nodeattr("accDataType")].bitwidth() < wide.bitwidth():
            inst.set_nodeattr("accDataType", wide.name)
        changed.append(node.name)
    return model, changed


def threshold_steps():
    """The pair of FINN build steps around FINN's bit-width minimization: clip every unit's
    thresholds into its reachable range (after the conversion to hardware layers), and put XNOR
    units' thresholds back after FINN's own clipping (after ``step_minimize_bit_width``)."""
    kept: dict[str, np.ndarray] = {}

    def step_qnnc_clip_thresholds(model, cfg):
        """qnnc: thresholds clipped into each unit's reachable range (the function is unchanged)."""
        model = clip_thresholds(model)[0]
        kept.update(xnor_thresholds(model))
        return model

    def step_qnnc_restore_xnor_thresholds(model, cfg):
        """qnnc: XNOR units' thresholds as they were before FINN's accumulator-type clipping."""
        return restore_xnor_thresholds(model, kept)[0]

    return step_qnnc_clip_thresholds, step_qnnc_restore_xnor_thresholds
