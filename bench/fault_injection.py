"""Faults against a real build, as a hostile user would inject them, and whether anything is lost.

    .venv/bin/python bench/fault_injection.py [--kills 5] [--spec specs/digits_mlp_w2a2.qnn]

Every scenario builds the spec to the estimate (`--epochs 6`) and compares the outcome with an
uninterrupted reference build: the trained model.pt byte for byte, the test accuracy, FINN's
estimate.
- kill -9 of the whole build (qnnc and its training) at a random moment, then the same command
  again;
- a full disk: the build on a tmpfs of several sizes (needs root), then the build directory moved
  to a roomy disk and the same command again;
- each state file corrupted (build.json, the checkpoint, the trained model, the export) after a
  kill or a finished build, then the same command again.
Per scenario: tried, exit codes as documented (0, or 1 with no traceback), recovered (the rerun
finished), identical to the reference, and temporary files left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "XILINX_VIVADO")}


def build(spec: Path, out: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qnnc", "build", str(spec), "--out", str(out), "--until",
                           "estimate", "--epochs", "6"], cwd=ROOT, capture_output=True, text=True, env=ENV,
                          timeout=timeout)


def outcome(out: Path) -> dict:
    record = json.loads((out / "build.json").read_text())["stages"]
    return {"model": (out / "model.pt").read_bytes(), "accuracy": record["train"]["outputs"]["test_accuracy"],
            "fps": record["estimate"]["outputs"]["fps"], "lut": record["estimate"]["outputs"]["resources"]["LUT"]}


def leftovers(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*.tmp*"))


def judge(name: str, first: subprocess.CompletedProcess | None, rerun: subprocess.CompletedProcess, out: Path,
          reference: dict) -> dict:
    said = (first.stdout + first.stderr) if first else ""
    row = {"scenario": name, "first_exit": first.returncode if first else None,
           "no_traceback": "Traceback (most recent call last)" not in said.split("step 'train' failed")[0]
           and "this is a bug in qnnc" not in said,
           "recovered": rerun.returncode == 0, "leftover_tmp": leftovers(out)}
    row["identical"] = row["recovered"] and outcome(out) == reference
    if not row["recovered"]:
        row["rerun_error"] = rerun.stderr.strip().splitlines()[-1:]
    return row


def kill_at_random(spec: Path, work: Path, reference: dict, rng: random.Random, reference_seconds: float) -> dict:
    out = work / f"kill{rng.randrange(1 << 30)}"
    proc = subprocess.Popen([sys.executable, "-m", "qnnc", "build", str(spec), "--out", str(out), "--until",
                             "estimate", "--epochs", "6"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=ENV, start_new_session=True)
    at = rng.uniform(0.5, reference_seconds)
    time.sleep(at)
    with_children = proc.poll() is None
    if with_children:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return judge(f"kill -9 at {at:.1f} s" + ("" if with_children else " (had finished)"), None, build(spec, out),
                 out, reference)


def disk_full(spec: Path, work: Path, reference: dict, size: str) -> dict | None:
    mount = Path(tempfile.mkdtemp(prefix="qnnc-disk-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)]).returncode:
        return None
    try:
        first = build(spec, mount / "b")
        out = work / f"disk-{size}"
        if (mount / "b").exists():
            shutil.copytree(mount / "b", out)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    row = judge(f"disk of {size}", first, build(spec, out), out, reference)
    row["first_said"] = (first.stderr.strip().splitlines() or [""])[-1][:160]
    return row


def corrupt(spec: Path, work: Path, reference_dir: Path, reference: dict, target: str, payload: bytes) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"corrupt-{target.replace('/', '-')}-", dir=work)) / "b"
    shutil.copytree(reference_dir, out)
    if target == "checkpoints/last.pt":  # a checkpoint exists only mid-training: rerun training from it
        record = json.loads((out / "build.json").read_text())
        record["stages"].pop("train")
        (out / "build.json").write_text(json.dumps(record))
        (out / "model.pt").unlink()
    (out / target).parent.mkdir(parents=True, exist_ok=True)
    (out / target).write_bytes(payload)
    rerun = build(spec, out)
    return judge(f"corrupt {target}", rerun, rerun, out, reference)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "digits_mlp_w2a2.qnn")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="qnnc-faults-"))
    start = time.perf_counter()
    assert build(args.spec, work / "reference").returncode == 0
    seconds = time.perf_counter() - start
    reference = outcome(work / "reference")
    rows = []

    def keep(row: dict | None) -> None:
        if row:
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items()}, default=str)[:300], flush=True)

    for _ in range(args.kills):
        keep(kill_at_random(args.spec, work, reference, rng, seconds))
    for size in ("60k", "200k", "1m", "8m"):
        keep(disk_full(args.spec, work, reference, size))
    for target, payload in (("build.json", b"{"), ("checkpoints/last.pt", b"garbage"), ("checkpoints/last.pt", b""),
                            ("model.pt", b"\x00" * 10), ("export/model.onnx", b"not onnx")):
        keep(corrupt(args.spec, work, work / "reference", reference, target, payload))
    print("| scenario | first exit | no traceback | recovered | identical | temporary files left |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['first_exit'] if r['first_exit'] is not None else '-'} | "
              f"{'yes' if r['no_traceback'] else 'NO'} | {'yes' if r['recovered'] else 'NO'} | "
              f"{'yes' if r['identical'] else 'NO'} | {len(r['leftover_tmp'])} |")
    lost = [r for r in rows if not (r["recovered"] and r["identical"] and r["no_traceback"]) or r["leftover_tmp"]]
    print(f"\n{len(rows)} tried, {len(rows) - len(lost)} recovered identically, {len(lost)} not")
    for r in lost:
        print("  ", json.dumps(r)[:400])
    shutil.rmtree(work, ignore_errors=True)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
