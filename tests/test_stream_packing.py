"""qnnc packs and unpacks RTL stream words in NumPy; the words must be FINN's own
(``npy_to_rtlsim_input``, ``rtlsim_output_to_npy``), for every data type a stream carries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("finn")

TYPES = ["BIPOLAR", "BINARY", "UINT2", "UINT4", "UINT8", "UINT9", "UINT32", "INT2", "INT3", "INT8", "INT17",
         "INT32", "FIXED<8,4>", "FIXED<6,2>"]


def finn_type(name: str):
    from qonnx.core.datatype import DataType

    return DataType[name]


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(TYPES), st.lists(st.integers(1, 6), min_size=1, max_size=3), st.integers(1, 70), st.data())
def test_words_are_finns(name, outer, inner, data):
    from finn.util.data_packing import npy_to_rtlsim_input, rtlsim_output_to_npy
    from qonnx.util.basic import gen_finn_dt_tensor

    from qnnc.backends.rtlsim import pack_words, unpack_words

    dtype = finn_type(name)
    shape = (*outer, inner)
    np.random.seed(data.draw(st.integers(0, 2**31 - 1)))
    x = gen_finn_dt_tensor(dtype, shape).astype(np.float32)
    width = dtype.bitwidth() * inner
    words = pack_words(x, dtype)
    assert words == [int(w) for w in npy_to_rtlsim_input(x, dtype, width)]
    padded = [w | (data.draw(st.integers(0, 15)) << width) for w in words]  # bits past the last element
    back = unpack_words(padded, dtype, shape)
    assert back.dtype == np.float32 and np.array_equal(back, x)
    assert np.array_equal(back, rtlsim_output_to_npy(padded, None, dtype, shape, width + 4, dtype.bitwidth()))


def test_a_value_the_type_does_not_hold_is_refused():
    from qnnc.backends.rtlsim import pack_words

    with pytest.raises(ValueError, match="4.0 is not a value of UINT2"):
        pack_words(np.array([[1.0, 4.0]]), finn_type("UINT2"))
    with pytest.raises(ValueError, match="0.0 is not a value of BIPOLAR"):
        pack_words(np.array([[1.0, 0.0]]), finn_type("BIPOLAR"))
