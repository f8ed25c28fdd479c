"""How long C++ simulation of FINN's HLS nodes takes here, per spec and per node type.

    QNNC_THIRD_PARTY=../shared/third_party .venv/bin/python bench/simulation.py [--samples 8]

For each spec: FINN's estimate with initial weights (no training), then every HLS node of the
folded design generated, compiled and run on random inputs, node by node against FINN's
Python model (``qnnc.backends.cppsim``). Prints compile time per node type, the run time per
sample, and whether every simulated node was bit-exact.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ("digits_mlp_w2a2", "tfc_w1a1", "tfc_w2a2", "digits_cnv_w2a2")


def measure(name: str, samples: int, work: Path) -> list[str]:
    from qonnx.util.basic import gen_finn_dt_tensor

    from qnnc.backends import cppsim
    from qnnc.backends.rtlsim import in_stream_order, run_rtl_node
    from qnnc.compiler import Compilation
    from qnnc.hw.boards import BOARDS
    from qnnc.pipeline.runner import estimate_untrained

    root = work / name
    comp = Compilation.from_path(ROOT / "specs" / f"{name}.qnn")
    estimate_untrained(comp, root, log=lambda _line: None)
    target = (BOARDS[comp.spec.target.board].part, 1000.0 / comp.spec.target.clock_mhz)
    model = cppsim.dataflow_model(root)
    sources = cppsim.third_party()
    compile_s: dict[str, list[float]] = collections.defaultdict(list)
    sim = cppsim.Simulation()
    for node in model.graph.node:  # one node at a time, to time each compile
        start = time.perf_counter()
        one = cppsim.prepare_node(model, node, root / "sim", sources, target)
        sim.modes[node.name], reason = one
        if reason:
            sim.reasons[node.name] = reason
        if sim.modes[node.name] != "python":
            compile_s[node.op_type].append(time.perf_counter() - start)
    simulated, python = cppsim.twins(model, sim)
    name_in = model.graph.input[0].name
    xs = [gen_finn_dt_tensor(model.get_tensor_datatype(name_in), model.get_tensor_shape(name_in))
          for _ in range(samples)]
    start = time.perf_counter()
    diverged = []
    rtl = [n for n in model.graph.node if sim.modes[n.name] == "rtlsim"]
    for x in xs:
        got, want = cppsim.run_both(simulated, python, x)
        diverged.append(cppsim.divergence(simulated, got, want))
        for node in rtl:
            out, _ = run_rtl_node(node, want, root / "sim")
            if not (out == in_stream_order(node, want[node.output[0]])).all():
                diverged.append((node.name, "differs"))
    per_sample = (time.perf_counter() - start) / samples
    rows = [f"| {name} | {op} | {len(times)} | {sum(times) / len(times):.1f} | | |" for op, times in compile_s.items()]
    in_python = [f"{n} ({sim.reasons[n].split(': ')[0]})" for n, mode in sim.modes.items() if mode == "python"]
    simulated_n = sum(mode != "python" for mode in sim.modes.values())
    rows.append(f"| {name} | all | {simulated_n} of {len(sim.modes)} simulated | | {per_sample:.2f} | "
                f"{'yes' if not any(diverged) else 'NO: ' + str(next(d for d in diverged if d))} |")
    rows.append(f"|  | in Python: {', '.join(in_python) or 'none'} | | | | |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--specs", nargs="+", default=list(SPECS))
    args = parser.parse_args()
    print("| spec | node type | nodes | compile s per node | simulation s per sample (both graphs) | bit-exact |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.specs:
            for row in measure(name, args.samples, Path(tmp)):
                print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
