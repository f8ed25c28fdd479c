"""Accuracy of the MNIST examples after `qnnc build --until train`, over several seeds, against
the accuracy Brevitas publishes for the same networks (bnn_pynq), with the CPU time taken.

    .venv/bin/python bench/train_accuracy.py [--specs tfc_w1a1 sfc_w1a1] [--seeds 1 2 3] [--out bench-out]

Each seed is the example's spec with its `seed` replaced, built in its own directory with the
spec's recipe on the full MNIST. Prints one row per spec: the mean test accuracy over the seeds
and its spread (min..max), the validation accuracy of the models kept, the reference, and the
CPU minutes of one training (mean). Target: every mean at or above its reference.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Brevitas bnn_pynq's published test accuracy (%) for the same networks and bits
REFERENCE = {"tfc_w1a1": 93.17, "tfc_w1a2": 94.79, "tfc_w2a2": 96.60, "sfc_w1a1": 97.81, "lfc_w1a1": 98.88}


def with_seed(text: str, seed: int) -> str:
    train = re.search(r"^train \{.*?^\}", text, flags=re.S | re.M)
    block = train.group(0)
    seeded = (re.sub(r"^(\s*)seed: \d+", rf"\g<1>seed: {seed}", block, flags=re.M) if re.search(r"^\s*seed:", block,
              flags=re.M) else block.replace("train {", f"train {{\n  seed: {seed}", 1))
    return text[: train.start()] + seeded + text[train.end():]


def train_once(qnnc: str, name: str, seed: int, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    spec = out / f"{name}.qnn"
    spec.write_text(with_seed((ROOT / "specs" / f"{name}.qnn").read_text(), seed))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([qnnc, "build", str(spec), "--until", "train", "--out", str(out / "build")], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    metrics = json.loads((out / "build" / "metrics.json").read_text())
    return {"test": metrics["test_accuracy"] * 100, "val": (metrics.get("validation_accuracy") or 0) * 100,
            "epochs": metrics["epochs"], "wall": wall,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=list(REFERENCE))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "train_accuracy")
    args = parser.parse_args()
    qnnc = str(Path(sys.executable).with_name("qnnc"))
    lines = ["| spec | epochs | seeds | test accuracy, mean (min..max) | validation (mean) | Brevitas | "
             "CPU min per training | |", "|---|---|---|---|---|---|---|---|"]
    for name in args.specs:
        runs = [train_once(qnnc, name, seed, args.out / name / f"seed{seed}") for seed in args.seeds]
        tests = [r["test"] for r in runs]
        mean, ref = statistics.mean(tests), REFERENCE.get(name)
        verdict = "" if ref is None else ("reached" if mean >= ref else "below")
        spread = f"{mean:.2f} % ({min(tests):.2f}..{max(tests):.2f})"
        val = statistics.mean(r["val"] for r in runs)
        cpu = statistics.mean(r["cpu"] for r in runs) / 60
        lines.append(f"| {name} | {runs[0]['epochs']} | {len(runs)} | {spread} | {val:.2f} % | "
                     f"{f'{ref:.2f} %' if ref else '-'} | {cpu:.1f} | {verdict} |")
        print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
