"""`qnnc build --from export --until estimate` against a hand-written script doing the same export
and FINN estimate steps on the same trained model (bench/handwritten_estimate.py). Target: ≤ 1.1.

    .venv/bin/python bench/build_overhead.py [--spec specs/digits_mlp_w2a2.qnn] [--repeats 3]

qnnc's command also runs its verify stage (four models on 32 held-out samples), which the
hand-written script does not do; the ratio is reported with and without that stage's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="specs/digits_mlp_w2a2.qnn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "overhead")
    args = parser.parse_args()
    qnnc = str(Path(sys.executable).with_name("qnnc"))
    sys.path.insert(0, str(ROOT))
    from qnnc.compiler import Compilation

    shape = ",".join(map(str, Compilation.from_path(ROOT / args.spec).spec.network.input.shape))
    build = [qnnc, "build", args.spec, "--out", str(args.out)]
    subprocess.run(build + ["--until", "train", "--epochs", "2"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    ours, verify, theirs = [], [], []
    for _ in range(args.repeats):
        ours.append(timed(build + ["--from", "export", "--until", "estimate", "--epochs", "2"]))
        verify.append(json.loads((args.out / "build.json").read_text())["stages"]["verify"]["seconds"])
        theirs.append(timed([sys.executable, str(ROOT / "bench" / "handwritten_estimate.py"), str(args.out), shape]))
    o, v, t = statistics.median(ours), statistics.median(verify), statistics.median(theirs)
    print(f"{args.spec}, median of {args.repeats} runs (wall, including process start and imports)")
    print(f"qnnc build --from export --until estimate   {o:6.2f} s  (of which verify {v:.2f} s)")
    print(f"hand-written export + FINN estimate script  {t:6.2f} s")
    print(f"ratio {o / t:.2f}; without the verify stage {(o - v) / t:.2f} (target <= 1.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
