"""FINN's generated HLS code, compiled here with g++ and qnnc's Vitis stand-ins, computes what
FINN's Python model of each node computes; a corrupted node is named with its spec layer."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT
from qnnc.compiler import Compilation


@pytest.fixture(scope="module")
def folded(tmp_path_factory):
    """The digits MLP's folded dataflow graph (FINN's estimate with initial weights)."""
    from qnnc.pipeline.runner import estimate_untrained

    comp = Compilation.from_path(ROOT / "specs" / "digits_mlp_w2a2.qnn")
    root = tmp_path_factory.mktemp("cppsim") / "b"
    estimate_untrained(comp, root, log=lambda _line: None)
    return comp, root


def samples(model, n: int):
    from qonnx.util.basic import gen_finn_dt_tensor

    name = model.graph.input[0].name
    return [gen_finn_dt_tensor(model.get_tensor_datatype(name), model.get_tensor_shape(name)) for _ in range(n)]


@pytest.mark.slow
def test_every_hls_node_simulates_bit_exactly(folded, tmp_path, simulation_sources):
    from qnnc.backends.cppsim import dataflow_model, simulate

    _, root = folded
    model = dataflow_model(root)
    sim, diverged = simulate(model, tmp_path / "sim", samples(model, 8))
    hls = [n.name for n in model.graph.node if n.op_type.endswith("_hls")]
    assert len(hls) == 4 and all(sim.modes[n] == "cppsim" for n in hls), sim.reasons
    assert all("RTL" in sim.reasons[n.name] for n in model.graph.node if n.op_type.endswith("_rtl"))
    assert diverged == []


@pytest.mark.slow
def test_a_corrupted_threshold_is_named_with_its_layer(folded, tmp_path, simulation_sources):
    from qnnc.backends.cppsim import (
        compile_command,
        dataflow_model,
        first_divergence,
        generic_twin,
        prepare,
        third_party,
    )
    from qnnc.backends.finn_units import match_units

    comp, root = folded
    model = dataflow_model(root)
    prepare(model, tmp_path / "sim", third_party())
    first = next(n for n in model.graph.node if n.op_type.startswith("MVAU"))
    code = tmp_path / "sim" / first.name
    text = (code / "thresh.h").read_text()
    first_row = re.search(r"\{(-?\d+(, -?\d+)*)\}", text)  # the first output channel's thresholds
    never = ", ".join(["8191"] * len(first_row.group(1).split(",")))  # above any accumulator: never fires
    (code / "thresh.h").write_text(text[:first_row.start(1)] + never + text[first_row.end(1):])
    subprocess.run(compile_command(code, third_party()), check=True, capture_output=True)
    simulated = generic_twin(model, keep={n.name for n in model.graph.node if n.op_type.endswith("_hls")})
    found = {first_divergence(simulated, generic_twin(model), x) for x in samples(model, 32)} - {None}
    assert found and {name for name, _ in found} == {first.name}
    assert match_units(model.graph.node, comp.spec)[first.name] == "fc0"



@pytest.mark.slow
def test_an_rtl_node_simulates_bit_exactly_in_verilator(folded, tmp_path):
    import numpy as np
    from finn.core.onnx_exec import execute_onnx

    from qnnc.backends.cppsim import dataflow_model, generic_twin
    from qnnc.backends.rtlsim import prepare_rtl_node, run_rtl_node
    from qnnc.hw.boards import BOARDS

    comp, root = folded
    model = dataflow_model(root)
    node = next(n for n in model.graph.node if n.op_type.endswith("_rtl"))
    assert prepare_rtl_node(model, node, tmp_path, BOARDS["pynq-z2"].part, 10.0) == ("rtlsim", None)
    python = generic_twin(model)
    wanted = [execute_onnx(python, {model.graph.input[0].name: x}, return_full_exec_context=True)
              for x in samples(model, 4)]
    got, cycles = run_rtl_node(node, [want[node.input[0]] for want in wanted], tmp_path)  # frames back to back
    assert len(got) == 4 and cycles > 0
    for out, want in zip(got, wanted, strict=True):
        assert np.array_equal(out.reshape(want[node.output[0]].shape), want[node.output[0]])


def test_a_stream_wider_than_1024_bits_compiles_with_the_codes_own_width(tmp_path, simulation_sources):
    """FINN's code defines AP_INT_MAX_W for a node whose weight stream is wider than ap_int's
    default (PE x SIMD x bits > 1,024, e.g. 16 x 48 x 2); qnnc's stand-ins read ap_int.h first, so
    the width is passed on the command line, or the node aborts in simulation."""
    from qnnc.backends.cppsim import compile_flags, width_flags

    code = tmp_path / "wide.cpp"
    code.write_text('#define AP_INT_MAX_W 1536\n#include "ap_int.h"\n'
                    "int main() { ap_uint<1536> x(\"0x1\", 16); x <<= 1500;\n"
                    "  ap_uint<1536> y = x(1535, 0); return y[1500] ? 0 : 1; }\n")  # a range, as FINN's MVAU takes
    runs = {}
    for flags in ([], width_flags([code])):
        program = tmp_path / f"wide{len(flags)}"
        subprocess.run(["g++", *compile_flags(simulation_sources), *flags, str(code), "-o", str(program)],
                       check=True, capture_output=True)
        runs[bool(flags)] = subprocess.run([str(program)], capture_output=True, text=True)
    assert width_flags([code]) == ["-DAP_INT_MAX_W=1536"]
    assert runs[True].returncode == 0
    assert runs[False].returncode != 0 and "exceeds the default max value 1024" in runs[False].stderr


def test_rtl_nodes_alike_but_for_their_names_share_one_build(tmp_path):
    """Two FIFOs of one depth and width (FINN names every node apart) build once; another depth,
    other Verilator defines or a memory file beside the Verilog (read at run time under the
    node's own name) each get a build of their own."""
    import types

    from qnnc.backends.rtlsim import _shared_key

    def node(name: str, depth: int, memory: bool = False):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.v").write_text(f"module {name} ();\n  fifo #(.DEPTH({depth})) f ();\nendmodule\n")
        if memory:
            (folder / "memblock.dat").write_text("0f\n")
        inst = types.SimpleNamespace(get_nodeattr=lambda _name: str(folder), get_outstream_width=lambda: 8)
        return types.SimpleNamespace(name=name), inst, [str(folder / f"{name}.v")]

    one, ten, deeper, with_memory = node("FIFO_1", 2), node("FIFO_10", 2), node("FIFO_2", 4), node("FIFO_3", 2, True)
    key = _shared_key(*one, [])
    assert key == _shared_key(*ten, []) != _shared_key(*deeper, [])
    assert _shared_key(*one, ["-DFINN_SIMULATION"]) != key
    assert _shared_key(*with_memory, []) is None
