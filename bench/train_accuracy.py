"""Accuracy of the MNIST examples after `qnnc build --until train`, over several seeds, against
the accuracy Brevitas publishes for the same networks (bnn_pynq), with the CPU time taken.

    .venv/bin/python bench/train_accuracy.py [--specs lfc_w1a1 sfc_w1a1] [--seeds 1 2 3] [--jobs 2]
        [--set 'teacher: none' ...] [--out DIR]

Each seed is the example's spec with its `seed` replaced (and each --set line of its train
block changed), built in its own directory with the spec's recipe on the full MNIST. Prints one
row per spec: the mean test accuracy over the seeds and its spread (min..max), the validation
accuracy of the models kept, the reference, and the CPU minutes of one training (mean). Target:
every mean at or above its reference.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Brevitas bnn_pynq's published test accuracy (%) for the same networks and bits
REFERENCE = {"tfc_w1a1": 93.17, "tfc_w1a2": 94.79, "tfc_w2a2": 96.60, "sfc_w1a1": 97.81, "lfc_w1a1": 98.88}


def with_setting(text: str, setting: str) -> str:
    """The spec with one line of its train block ("key: value") set: replaced, or added first."""
    key = setting.split(":", 1)[0].strip()
    train = re.search(r"^train \{.*?^\}", text, flags=re.S | re.M)
    block = train.group(0)
    line = re.compile(rf"^(\s*){re.escape(key)}:.*$", flags=re.M)
    changed = (line.sub(lambda found: found.group(1) + setting, block, count=1) if line.search(block)
               else block.replace("train {", "train {\n  " + setting, 1))
    return text[: train.start()] + changed + text[train.end():]


def train_once(qnnc: str, name: str, seed: int, out: Path, threads: int | None, settings: list[str]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    spec = out / f"{name}.qnn"
    text = (ROOT / "specs" / f"{name}.qnn").read_text()
    for setting in [*settings, f"seed: {seed}"]:
        text = with_setting(text, setting)
    spec.write_text(text)
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    start = time.perf_counter()
    proc = subprocess.Popen([qnnc, "build", str(spec), "--until", "train", "--out", str(out / "build")], env=env,
                            stdout=(out / "build.log").open("w"), stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)  # this training's own CPU time, whatever runs beside it
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{name} seed {seed} failed ({proc.returncode}): see {out / 'build.log'}")
    wall = time.perf_counter() - start
    metrics = json.loads((out / "build" / "metrics.json").read_text())
    teacher = (metrics.get("teacher") or {}).get("epochs")
    epochs = metrics["epochs"] - (teacher or 0)
    return {"test": metrics["test_accuracy"] * 100, "val": (metrics.get("validation_accuracy") or 0) * 100,
            "epochs": f"{epochs} + {teacher} of its teacher" if teacher else str(epochs), "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=list(REFERENCE))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=1, help="trainings side by side (one thread each when more "
                        "than one); longest specs first")
    parser.add_argument("--set", action="append", default=[], metavar="'KEY: VALUE'",
                        help="change one setting of every spec's train block, e.g. --set 'epochs: 40' --set "
                        "'teacher: none' (a recipe to compare)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "train_accuracy")
    args = parser.parse_args()
    qnnc = str(Path(sys.executable).with_name("qnnc"))
    threads = 1 if args.jobs > 1 else None  # side by side, one thread each: more trainings per CPU second
    runs: dict[str, list[dict]] = {name: [] for name in args.specs}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(train_once, qnnc, name, seed, args.out / name / f"seed{seed}", threads, args.set): name
                   for name in args.specs for seed in args.seeds}
        for future in as_completed(futures):
            runs[futures[future]].append(future.result())
    lines = ["| spec | epochs | seeds | test accuracy, mean (min..max) | validation (mean) | Brevitas | "
             "CPU min per training | |", "|---|---|---|---|---|---|---|---|"]
    for name, done in runs.items():
        tests = [r["test"] for r in done]
        mean, ref = statistics.mean(tests), REFERENCE.get(name)
        verdict = "" if ref is None else ("reached" if mean >= ref else "below")
        spread = f"{mean:.2f} % ({min(tests):.2f}..{max(tests):.2f})"
        val = statistics.mean(r["val"] for r in done)
        cpu = statistics.mean(r["cpu"] for r in done) / 60
        lines.append(f"| {name} | {done[0]['epochs']} | {len(done)} | {spread} | {val:.2f} % | "
                     f"{f'{ref:.2f} %' if ref else '-'} | {cpu:.1f} | {verdict} |")
    print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
