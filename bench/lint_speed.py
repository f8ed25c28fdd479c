"""How fast is `qnnc lint specs/*.qnn`, against the floor of starting Python at all?

    .venv/bin/python bench/lint_speed.py [--runs 15]

Prints the median wall time of each command over several runs and their ratio.
Target: lint of every example in <= 0.5 s wall.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5


def median_wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.qnn"))
    qnnc = str(Path(sys.executable).with_name("qnnc"))
    baseline = median_wall([sys.executable, "-c", "pass"], args.runs)
    lint = median_wall([qnnc, "lint", "-q", *specs], args.runs)
    print(f"python -c pass              median {baseline * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"qnnc lint specs/*.qnn ({len(specs)})  median {lint * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"ratio lint / python startup: {lint / baseline:.1f}x; target <= {TARGET_S * 1000:.0f} ms: "
          f"{'met' if lint <= TARGET_S else 'MISSED'}")
    return 0 if lint <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
