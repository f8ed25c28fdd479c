"""The examples' generated designs simulate here node by node, bit-exactly, as the board runs
them; what cannot be simulated is named with its reason (the digits MLP's whole build is in
test_build.py and test_deploy.py; the TFC's is the README's first command, which .ci/run checks
simulated every node)."""

from __future__ import annotations

import pytest
from test_conv1d import one_d

from conftest import ROOT, write_iq_npz


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_cnv_w2a2"])
def test_an_examples_design_simulates_node_by_node(name, tmp_path, simulation_sources):
    from qnnc.backends.hwgen import generate
    from qnnc.backends.simulate import simulate_build
    from qnnc.compiler import Compilation
    from qnnc.pipeline.runner import estimate_untrained

    comp = Compilation.from_path(ROOT / "specs" / f"{name}.qnn")
    root = tmp_path / name
    estimate_untrained(comp, root, log=lambda _line: None)  # the design does not depend on the weights' values
    generated = [row["node"] for row in generate(root, comp.spec)["nodes"]]
    found = simulate_build(root, comp.spec)  # raises, naming the node, if any node differs
    assert found["bit_exact"] and [row["node"] for row in found["nodes"]] == generated
    python = {row["node"]: row["python_because"] for row in found["nodes"] if row["mode"] == "python"}
    # only the max-pools, whose HLS code needs a newer finn-hlslib than the snapshot here
    assert all(node.startswith("Pool_hls") and "does not compile here" in why for node, why in python.items())
    assert bool(python) == ("cnv" in name)
    dmas = [row for row in found["nodes"] if row["node"].startswith("IODMA")]
    assert len(dmas) == 2 and all(row["mode"] == "dmasim" for row in dmas)


@pytest.mark.slow
def test_a_1d_design_on_signed_multichannel_input_simulates_bit_exactly(tmp_path, simulation_sources):
    """Raw int8 frames of two channels: the host lays them out as the accelerator takes them
    ([C, L] to [L, 1, C], the transpose FINN leaves outside the design) and the input DMA,
    which FINN declares UINT8, streams their bits as the INT8 the first unit reads."""
    from qnnc.backends.hwgen import generate
    from qnnc.backends.simulate import simulate_build
    from qnnc.compiler import Compilation
    from qnnc.errors import Source
    from qnnc.pipeline.runner import estimate_untrained

    write_iq_npz(tmp_path / "iq.npz", train=64, test=32, length=32)
    comp = Compilation(Source(one_d(second=False), str(tmp_path / "t.qnn")))  # one conv: fewer nodes to build
    root = tmp_path / "b"
    estimate_untrained(comp, root, log=lambda _line: None)
    generate(root, comp.spec)
    found = simulate_build(root, comp.spec)  # raises if the design's labels differ from PyTorch's
    assert found["bit_exact"] and found["samples"] == 32
    modes = {row["node"]: row["mode"] for row in found["nodes"]}
    assert [modes[n] for n in modes if n.startswith("IODMA")] == ["dmasim", "dmasim"]
    assert any(n.startswith("ConvolutionInputGenerator") and mode == "rtlsim" for n, mode in modes.items())
