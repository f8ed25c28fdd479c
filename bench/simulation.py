"""How long the simulate stage takes here, per spec and per node type, and the RTL nodes'
simulated cycles beside FINN's estimates.

    QNNC_THIRD_PARTY=../shared/third_party .venv/bin/python bench/simulation.py [--specs ...]

For each spec: FINN's estimate with initial weights (no training: the hardware does not depend
on the weights' values), the hwgen stage (FINN's Zynq transformations and every node's code),
then the simulate stage's work on 32 held-out test samples: every node built (as many at once as
the machine has cores), the samples packed as the driver packs them, through the DMAs' C++, the
HLS nodes' C++ and the RTL nodes' Verilator models, node by node against FINN's Python model.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ("digits_mlp_w2a2", "tfc_w1a1", "tfc_w2a2", "digits_cnv_w2a2", "digits_mobilenet_w4a4")


def kind(op_type: str) -> str:
    return "DMA" if op_type.startswith("IODMA") else "RTL" if op_type.endswith("_rtl") else "HLS"


def measure(name: str, work: Path) -> tuple[list[str], list[str]]:
    from qnnc.backends.hwgen import generate
    from qnnc.backends.simulate import simulate_build
    from qnnc.compiler import Compilation
    from qnnc.pipeline.runner import estimate_untrained

    root = work / name
    comp = Compilation.from_path(ROOT / "specs" / f"{name}.qnn")
    estimate_untrained(comp, root, log=lambda _line: None)
    generate(root, comp.spec)
    found = simulate_build(root, comp.spec)
    nodes = found["nodes"]
    by_kind = collections.defaultdict(list)
    for row in nodes:
        if row["mode"] != "python":
            by_kind[kind(row["op_type"])].append(row["build_s"])
    builds = ", ".join(f"{k} {len(v)}: {sum(v) / len(v):.1f}" for k, v in sorted(by_kind.items()))
    python = [f"{row['node']} ({row['python_because'].split(': ')[0]})" for row in nodes if row["mode"] == "python"]
    seconds = found["seconds"]
    run = f"{seconds['run']:.0f} ({seconds['run'] / found['samples']:.2f})"
    summary = (f"| {name} | {found['simulated']} of {len(nodes)} | {builds} | {seconds['build']:.0f} | {run} | yes | "
               f"{', '.join(python) or 'none'} |")
    cycles = [f"| {name} | {row['node']} | {row['cycles']} | {row['cycles_back_pressure']} | {row['finn_cycles']} |"
              for row in nodes if "cycles" in row and not row["op_type"].startswith("StreamingFIFO")]
    return [summary], cycles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=list(SPECS))
    args = parser.parse_args()
    summaries, cycles = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.specs:
            rows, rtl = measure(name, Path(tmp))
            summaries += rows
            cycles += rtl
            print(rows[0], flush=True)
    print(f"\non {os.cpu_count()} cores; a mismatch would have stopped the run (SimulationMismatchError)\n")
    print("| spec | nodes simulated | build s per node, by kind (count: mean) | build wall s | run s for 32 samples "
          "(per sample) | bit-exact | in FINN's Python model |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(summaries))
    print("\n| spec | RTL node | simulated cycles a frame (frames back to back) | with random back-pressure | "
          "FINN's estimate |")
    print("|---|---|---|---|---|")
    print("\n".join(cycles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
