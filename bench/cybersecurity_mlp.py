"""qnnc's estimate for FINN's cybersecurity MLP (600-64-64-64-1, w2a2, 100 MHz, PYNQ-Z2)
against the estimate FINN publishes for it in its end-to-end example
(notebooks/end2end_example/cybersecurity, 3-build-accelerator-with-finn: 1,562,500 FPS,
10,959 LUT, 45 BRAM18 for target_fps 1e6).

    .venv/bin/python bench/cybersecurity_mlp.py

qnnc is asked for the spec's 1e6 FPS, and for the FPS FINN's published design reaches.
Untrained weights: FINN's estimates do not depend on the weights' values, except that the
accumulator widths FINN narrows to the trained weights can differ by a bit or two.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = {"fps": 1_562_500, "LUT": 10_959, "BRAM_18K": 45}


def estimate(fps: str) -> dict:
    from qnnc.compiler import Compilation
    from qnnc.errors import Source
    from qnnc.pipeline.runner import estimate_untrained

    text = (ROOT / "specs" / "unsw_w2a2.qnn").read_text().replace("fps: 1e6", f"fps: {fps}")
    comp = Compilation(Source(text, "specs/unsw_w2a2.qnn"))
    return estimate_untrained(comp, ROOT / "bench-out" / "cybersecurity" / fps, log=lambda line: None)


def main() -> int:
    rows = [("FINN, published", PUBLISHED)]
    for fps in ("1e6", "1562500"):
        s = estimate(fps)
        rows.append((f"qnnc, fps {float(fps):,.0f}", {"fps": s["fps"], **s["resources"]}))
    for label, r in rows:
        print(f"{label:<22} {r['fps']:>12,.0f} FPS {r['LUT']:>8,.0f} LUT {r['BRAM_18K']:>4,.0f} BRAM18")
    return 0


if __name__ == "__main__":
    sys.exit(main())
