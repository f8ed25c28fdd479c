"""The sweep the original brief asks for: FINN's TFC (784-64-64-64-10) on the full MNIST at
{1, 2, 4}-bit weights x {1, 2, 4}-bit activations; every design trained, verified bit-exact
and estimated on the PYNQ-Z2 with qnnc's folding ('fps: max'); the Pareto front of accuracy
against energy per inference, with FPS, LUT and BRAM.

    .venv/bin/python bench/sweep_tfc.py [EPOCHS]     (default: the spec's 30 epochs per trial)

Writes bench-out/sweep_tfc/ (summary.json, best.qnn, pareto.png); rerunning resumes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "sweep_tfc"
SWEEP = """
sweep {
  weights: [1, 2, 4]
  acts: [1, 2, 4]
  min_accuracy: 95%
}
"""


def main(epochs: int | None) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    spec = OUT / "tfc_sweep.qnn"
    spec.write_text((ROOT / "specs" / "tfc_w1a1.qnn").read_text() + SWEEP)
    cmd = [sys.executable, "-m", "qnnc", "sweep", str(spec), "--out", str(OUT)]
    if epochs is not None:
        cmd += ["--epochs", str(epochs)]
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else None))
