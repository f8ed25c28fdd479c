"""Accuracy of the TFC examples on MNIST after `qnnc build --until train`, against the
accuracies Brevitas publishes for the same networks, with the time taken.

    .venv/bin/python bench/train_accuracy.py [--specs tfc_w1a1 tfc_w2a2] [--out bench-out]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = {"tfc_w1a1": 93.17, "tfc_w2a2": 96.60}  # Brevitas bnn_pynq published test accuracy (%)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=list(REFERENCE))
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    args = parser.parse_args()
    qnnc = str(Path(sys.executable).with_name("qnnc"))
    rows = []
    for name in args.specs:
        out = args.out / name
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([qnnc, "build", f"specs/{name}.qnn", "--until", "train", "--out", str(out), "--from",
                        "train"], cwd=ROOT, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        metrics = json.loads((out / "metrics.json").read_text())
        rows.append((name, metrics["epochs"], metrics["test_accuracy"] * 100, REFERENCE.get(name), wall, cpu))
    print(f"\n{'spec':<10} {'epochs':>6} {'test acc':>9} {'reference':>9} {'wall s':>7} {'cpu s':>7}")
    for name, epochs, acc, ref, wall, cpu in rows:
        ref_text = f"{ref:.2f}" if ref else "-"
        verdict = "" if ref is None else ("  reached" if acc >= ref else "  below")
        print(f"{name:<10} {epochs:>6} {acc:>8.2f}% {ref_text:>8}% {wall:>7.1f} {cpu:>7.1f}{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
