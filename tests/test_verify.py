"""verify's comparison of a FINN model's labels with PyTorch's: a label is right if it is
PyTorch's, or if PyTorch's top logits tie and it is one of them. A tie is an integer tie: float
logits of the same integer sum differ by rounding, more the larger they are."""

import numpy as np
import pytest

from qnnc.backends.verify import compare, top_labels

# Measured (bench/robustness.py, digits_resnet_w2a2 seed 1, sample 17): three labels whose
# integer sums are all 7 came out of PyTorch as 7.811651, 7.811654 and 7.8116527; FINN, which
# adds integers, picked the first of them.
FLOAT_TIE = np.array([[7.811651, 7.811654, 0.0, 6.695701, 5.5797515, 4.4638014, 0.0, -2.2319012, 5.579751,
                       7.8116527]], dtype=np.float32)


def test_a_label_tied_with_the_top_one_up_to_float_rounding_is_right():
    ref = top_labels(np.zeros((1, 4)), FLOAT_TIE, k=1)
    assert ref.outputs[0, 0] == 1 and ref.ambiguous[0]
    for label in (0, 1, 9):
        assert compare("finn", ref, np.array([[label]]))["mismatches"] == 0
    assert compare("finn", ref, np.array([[3]]))["mismatches"] == 1  # one scale step below: a real difference


@pytest.mark.parametrize("seed", range(20))
def test_ties_hold_at_any_logit_magnitude_and_distinct_sums_never_tie(seed):
    rng = np.random.default_rng(seed)
    scale = np.float32(rng.uniform(1e-3, 2.0))
    sums = rng.integers(-2000, 2000, size=(8, 10))
    top = sums.max(axis=1)
    sums[:, 4], sums[:, 7] = top, top  # a tie at the top in every row ...
    logits = (sums * scale).astype(np.float32)
    logits *= (1 + rng.uniform(-4e-7, 4e-7, size=logits.shape)).astype(np.float32)  # ... blurred by float rounding
    ref = top_labels(np.zeros((8, 1)), logits, k=1)
    assert ref.ambiguous.all()
    finn = np.argmax(sums, axis=1)[:, None]  # the first of the tied labels, as FINN's LabelSelect picks
    assert compare("finn", ref, finn)["mismatches"] == 0
    below = np.argsort(-sums, axis=1, kind="stable")
    runner_up = np.array([[row[np.flatnonzero(s[row] < s.max())[0]]] for row, s in zip(below, sums, strict=True)])
    assert compare("finn", ref, runner_up)["mismatches"] == len(sums)


def test_logits_that_differ_are_compared_exactly():
    ref = top_labels(np.zeros((2, 1)), np.array([[1.0, 2.0, 0.5], [3.0, 2.9, 0.0]], dtype=np.float32), k=2)
    assert not ref.ambiguous.any()
    assert compare("finn", ref, np.array([[1, 0], [0, 1]]))["mismatches"] == 0
    assert compare("finn", ref, np.array([[1, 2], [0, 1]]))["mismatches"] == 1
