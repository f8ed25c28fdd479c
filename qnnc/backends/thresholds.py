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


def step_qnnc_clip_thresholds(model, cfg):
    """qnnc: thresholds clipped into each unit's reachable range (the function is unchanged)."""
    return clip_thresholds(model)[0]
