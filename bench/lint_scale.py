"""Is lint linear in the spec's size? Times `qnnc lint` on generated TFC-like specs with
many layers, and with many fold lines.

    .venv/bin/python bench/lint_scale.py [--sizes 1000 2000 5000 10000]

Each spec is an MLP of N hidden `linear (64)` layers (and, in the fold case, a `fold` line for
each). Prints the wall time of one `qnnc lint` per size and the time per 1,000 lines.
Target: 10,000 layers or 10,000 fold lines lint in under 2 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 2.0


def spec(layers: int, folds: bool) -> str:
    lines = ["network big {", "  input uint8[1, 28, 28] scale 1/255 -> quant bipolar",
             "  defaults { weights: 1 bit, acts: 1 bit }", "  flatten"]
    lines += [f"  linear fc{i} (64) + batchnorm + act bipolar" for i in range(layers)]
    lines += ["  linear out (10) -> label", "}", "", "train {", "  dataset: mnist", "  epochs: 1", "}", "",
              "target pynq-z2 {", "  clock: 100 MHz", "  fps: 1"]
    if folds:
        lines += [f"  fold fc{i} {{ pe: 1, simd: 1 }}" for i in range(1, layers)]
    lines += ["}", ""]
    return "\n".join(lines)


def lint_seconds(text: str) -> tuple[float, int]:
    qnnc = str(Path(sys.executable).with_name("qnnc"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "big.qnn")
        path.write_text(text)
        start = time.perf_counter()
        done = subprocess.run([qnnc, "lint", "-q", str(path)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        return time.perf_counter() - start, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    args = parser.parse_args()
    worst = 0.0
    print("| layers | fold lines | lint exit | wall s | s per 1,000 layers |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        for folds in (False, True):
            seconds, code = lint_seconds(spec(size, folds))
            print(f"| {size:,} | {size - 1 if folds else 0:,} | {code} | {seconds:.2f} | "
                  f"{seconds / size * 1000:.3f} |", flush=True)
            if size >= 10000:
                worst = max(worst, seconds)
    if worst:
        print(f"10,000 lines: {worst:.2f} s; target < {TARGET_S:.0f} s: {'met' if worst < TARGET_S else 'MISSED'}")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
