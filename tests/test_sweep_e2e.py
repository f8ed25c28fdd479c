"""`qnnc sweep` as a user runs it, on real data (scikit-learn digits, 1 epoch): a tiny sweep with
one design that cannot fit, resumed without retraining; and the distributed path for real: a
PostgreSQL server and a local Ray cluster started here, workers sharing one study."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
# the tests that share a module fixture run on one worker, which makes it once (pytest-xdist
# --dist loadgroup); the others go wherever a worker is free
SWEPT, POSTGRES = pytest.mark.xdist_group("swept"), pytest.mark.xdist_group("postgres")
SPEC = """\
network digits_sweep {
  input uint8[1, 8, 8] scale 1/16
  defaults { weights: 2 bit, acts: 2 bit }
  flatten
  linear fc0 (32) + batchnorm + act relu
  linear out (10) -> label
}
train { dataset: digits, epochs: 1, batch: 64, optimizer: adam(lr=0.01), seed: 1 }
target pynq-z2 { clock: 200 MHz, fps: 2e7 }  # 100 MHz: the 64-byte input alone takes 8 cycles
sweep {
  weights: [1, 2]
  width: [1, 8]
  min_accuracy: 20%
}
"""


def qnnc(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "qnnc", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def study_rows(root: Path) -> list[dict]:
    return json.loads((root / "summary.json").read_text())["trials"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    spec = tmp / "digits_sweep.qnn"
    spec.write_text(SPEC)
    return spec, tmp / "out", qnnc("sweep", str(spec), "--out", str(tmp / "out"))


@SWEPT
def test_a_tiny_sweep_end_to_end(swept):
    spec, out, result = swept
    assert result.returncode == 0, result.stdout + result.stderr
    rows = study_rows(out)
    assert len(rows) == 4
    failed = [r for r in rows if r["state"] == "FAIL"]
    assert {r["params"]["width"] for r in failed} == {8}  # 256-wide layers cannot run at 2e7 FPS on the board
    assert all("Q070" in r["error"] or "Q071" in r["error"] for r in failed)
    assert "Traceback" not in result.stdout + result.stderr  # a refused design is a line, not a stack
    done = [r for r in rows if r["state"] == "COMPLETE"]
    assert {r["params"]["weights"] for r in done} == {1, 2}
    assert all(r["bit_exact"] and r["fps"] >= 2e7 and r["energy_uj"] > 0 for r in done)
    summary = json.loads((out / "summary.json").read_text())
    best = next(r for r in rows if r["number"] == summary["recommended"])
    assert best["energy_uj"] == min(r["energy_uj"] for r in done if r["val_accuracy"] >= 0.2)
    for r in done:  # chosen on the held-out samples; the test set's score is only reported
        metrics = json.loads((Path(r["dir"]) / "build" / "metrics.json").read_text())
        assert (r["val_accuracy"], r["test_accuracy"]) == (metrics["validation_accuracy"], metrics["test_accuracy"])
        assert metrics["validation_samples"] > 0
    winner = qnnc("lint", str(out / "best.qnn"))
    assert winner.returncode == 0, winner.stdout
    text = (out / "best.qnn").read_text()
    assert f"weights {best['params']['weights']} bit" in text and "\nsweep {" not in text
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    assert "recommended: trial" in result.stdout


@SWEPT
def test_a_rerun_continues_and_never_retrains(swept):
    spec, out, _ = swept
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("trials/*/build/model.pt")}
    again = qnnc("sweep", str(spec), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "4 finished, 0 to run" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in out.glob("trials/*/build/model.pt")} == stamps
    assert len(study_rows(out)) == 4


def test_hopeless_trials_are_stopped_early_and_never_rerun(tmp_path):
    """A learning rate of 1e-9 leaves the network at chance: the plateau pruner stops each trial
    once its validation accuracy (below 90 %) has not improved for 2 epochs, long before 8."""
    spec = tmp_path / "hopeless.qnn"
    spec.write_text(SPEC.replace("epochs: 1", "epochs: 8").replace("lr=0.01", "lr=1e-9")
                    .replace("width: [1, 8]", "patience: 2").replace("min_accuracy: 20%", "min_accuracy: 90%"))
    out = tmp_path / "out"
    result = qnnc("sweep", str(spec), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = study_rows(out)
    assert [r["state"] for r in rows] == ["PRUNED", "PRUNED"]
    for row in rows:
        stopped_at = int(row["stopped_early"].split("epoch ")[1].split(":")[0])
        assert 3 <= stopped_at < 8 and "below min_accuracy and no longer improving" in row["stopped_early"]
        build = Path(row["dir"]) / "build"
        curve = json.loads((build / "curve.json").read_text())
        assert len(curve) == stopped_at and all("val_accuracy" in r for r in curve)  # killed at once
        assert "estimate" not in json.loads((build / "build.json").read_text())["stages"]
        assert f"qnnc sweep: {row['stopped_early']}" in (build.parent / "build.log").read_text()
    assert "no trial reached the accuracy asked for" in result.stdout
    again = qnnc("sweep", str(spec), "--out", str(out))
    assert "2 finished, 0 to run" in again.stdout
    import optuna

    curves = optuna.load_study(study_name="digits_sweep-curves", storage=f"sqlite:///{out / 'study.db'}")
    assert sorted(t.user_attrs["sweep_trial"] for t in curves.trials) == [0, 1]
    assert {t.state.name for t in curves.trials} == {"PRUNED"}


def test_a_dead_workers_trial_is_retried_by_a_later_worker(tmp_path):
    """A worker killed together with its build (its machine gone) leaves a trial running; the
    trial stops heartbeating, and a worker started later fails it after three silent heartbeats
    and runs that configuration again."""
    spec = tmp_path / "digits_sweep.qnn"
    spec.write_text(SPEC.replace("width: [1, 8]", "early_stop: none").replace("epochs: 1", "epochs: 200")
                    .replace("weights: [1, 2]", "weights: [2]"))  # one configuration: the dead trial's
    out = tmp_path / "out"
    args = [sys.executable, "-m", "qnnc", "sweep", str(spec), "--out", str(out), "--heartbeat", "1"]
    doomed = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.time() + 120
    while not list(out.glob("trials/*/build/checkpoints/last.pt")) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    import optuna

    storage = f"sqlite:///{out / 'study.db'}"
    assert [t.state.name for t in optuna.load_study(study_name="digits_sweep", storage=storage).trials] == ["RUNNING"]
    result = qnnc(*args[3:-2], "--heartbeat", "1", "--epochs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    trials = optuna.load_study(study_name="digits_sweep", storage=storage).trials
    assert [t.state.name for t in trials][0] == "FAIL" and trials[0].params in [t.params for t in trials[1:]]
    rows = study_rows(out)
    assert [r["params"]["weights"] for r in rows] == [2] and {r["state"] for r in rows} == {"COMPLETE"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; the Debian package's 'postgres' user runs it then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    bindir = Path("/usr/lib/postgresql/15/bin")
    if not (bindir / "initdb").exists():
        pytest.skip("PostgreSQL server not installed (Debian package postgresql)")
    home = Path(tempfile.mkdtemp(prefix="qnnc-pg-"))  # not under pytest's 0700 temp: postgres must reach it
    os.chmod(home, 0o755)
    data = home / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]),
                   check=True, capture_output=True)
    subprocess.run(as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-o",
                                f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "-w", "start"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # the server keeps no pipe
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    subprocess.run(as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


@POSTGRES
def test_two_workers_share_one_study_in_postgresql(postgres, tmp_path):
    spec = tmp_path / "digits_sweep.qnn"
    spec.write_text(SPEC.replace("width: [1, 8]", "acts: [1, 2]"))
    args = [sys.executable, "-m", "qnnc", "sweep", str(spec), "--out", str(tmp_path / "out"), "--storage", postgres,
            "--study", "shared"]
    workers = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    import optuna

    study = optuna.load_study(study_name="shared", storage=postgres)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted((t.params["weights"], t.params["acts"]) for t in complete) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    ran = [t for t in study.trials if "duplicate_of" not in t.user_attrs]
    assert len(ran) == 4  # the grid was split between the workers; a point drawn twice ran once


@POSTGRES
def test_trials_run_as_ray_tasks_on_a_local_cluster(postgres, tmp_path):
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    port = free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths must fit in 107 bytes
    subprocess.run([ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                    "--node-ip-address=127.0.0.1", f"--temp-dir={temp}"], check=True, capture_output=True, env=env)
    try:
        spec = tmp_path / "digits_sweep.qnn"
        spec.write_text(SPEC.replace("width: [1, 8]", "acts: [2, 4]").replace("weights: [1, 2]", "weights: [1]"))
        start = time.perf_counter()
        result = qnnc("sweep", str(spec), "--out", str(tmp_path / "out"), "--storage", postgres, "--study", "ray",
                      "--ray", f"127.0.0.1:{port}", "--workers", "2", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"ray 127.0.0.1:{port}: 2 workers on 2 trials" in result.stdout
        rows = study_rows(tmp_path / "out")
        assert sorted((r["params"]["weights"], r["params"]["acts"]) for r in rows if r["state"] == "COMPLETE") == [
            (1, 2), (1, 4)]
        assert time.perf_counter() - start < 600
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, env=env)
        shutil.rmtree(temp, ignore_errors=True)
