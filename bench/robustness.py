"""Does a legal spec build whatever weights training produces? Every example spec whose dataset
is installed, trained with seeds 1..N and a short recipe, through `qnnc build --until estimate`:
a table of seed x spec with test accuracy, verify and estimate outcome. Target: 0 failures.

    .venv/bin/python bench/robustness.py [--seeds 10] [--epochs 3] [--specs tfc_w1a1 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def installed_specs() -> list[str]:
    from qnnc.compiler import Compilation
    from qnnc.runtime.data import DatasetMissingError, check_available

    found = []
    for path in sorted((ROOT / "specs").glob("*.qnn")):
        try:
            check_available(Compilation.from_path(path).spec.train.dataset)
        except DatasetMissingError:
            continue
        found.append(path.stem)
    return found


def run(name: str, seed: int, epochs: int, out: Path) -> dict:
    text = (ROOT / "specs" / f"{name}.qnn").read_text()
    spec = out / f"{name}_seed{seed}.qnn"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(re.sub(r"(?m)^(\s*seed:\s*)\d+", rf"\g<1>{seed}", text))
    build = out / f"{name}_seed{seed}"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "XILINX_VIVADO")}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "qnnc", "build", str(spec), "--out", str(build), "--until",
                             "estimate", "--epochs", str(epochs)], cwd=ROOT, capture_output=True, text=True, env=env)
    row = {"spec": name, "seed": seed, "exit": result.returncode, "seconds": round(time.perf_counter() - start, 1)}
    record = build / "build.json"
    stages = json.loads(record.read_text())["stages"] if record.exists() else {}
    train = (stages.get("train") or {}).get("outputs") or {}
    row["accuracy"] = train.get("test_accuracy")
    verify = stages.get("verify") or {}
    row["verify"] = "bit-exact" if (verify.get("outputs") or {}).get("bit_exact") else verify.get("status", "-")
    estimate = stages.get("estimate") or {}
    row["estimate"] = estimate.get("status", "-")
    if estimate.get("status") == "done":
        row["fps"] = estimate["outputs"]["fps"]
    if result.returncode:
        row["error"] = result.stderr.strip().splitlines()[-1:] or ["(no message)"]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--specs", nargs="+")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "robustness")
    args = parser.parse_args()
    rows = []
    for name in args.specs or installed_specs():
        for seed in range(1, args.seeds + 1):
            rows.append(run(name, seed, args.epochs, args.out))
            print(json.dumps(rows[-1]), flush=True)
    (args.out / "robustness.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n| spec | seed | test accuracy | verify | estimate | FPS |\n|---|---|---|---|---|---|")
    for r in rows:
        acc = f"{r['accuracy'] * 100:.2f} %" if r["accuracy"] is not None else "-"
        fps = f"{r['fps']:,.0f}" if "fps" in r else "-"
        print(f"| {r['spec']} | {r['seed']} | {acc} | {r['verify']} | {r['estimate']} | {fps} |")
    failed = [r for r in rows if r["exit"]]
    print(f"\n{len(rows)} builds, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
