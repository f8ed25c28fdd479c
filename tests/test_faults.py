"""Faults and bad state lose nothing and are said plainly: a full disk, an --out that is a file,
a corrupt build record: exit 1 with the file and what to do, never "a bug in qnnc", no
temporary files left, and what was built before is kept."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import ROOT

MLP = ROOT / "specs" / "digits_mlp_w2a2.qnn"


def qnnc(*args):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return subprocess.run([sys.executable, "-m", "qnnc", *args], cwd=ROOT, capture_output=True, text=True, env=env)


@pytest.fixture
def small_disk(tmp_path):
    """A 100 KB filesystem (a tmpfs; needs root, as CI and the development machines have)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_an_environment_error_naming_the_file(small_disk):
    result = qnnc("build", str(MLP), "--out", str(small_disk / "b"), "--until", "train", "--epochs", "2")
    assert result.returncode == 1, result.stderr
    assert "no space left" in result.stderr.lower() and "this is a bug" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not [p for p in (small_disk / "b").rglob(".*tmp*")], "temporary files left behind"
    assert (small_disk / "b" / "model.py").exists()  # what generate wrote is kept


def test_an_out_that_is_a_file_is_an_environment_error(tmp_path):
    (tmp_path / "f").write_text("mine")
    result = qnnc("build", str(MLP), "--out", str(tmp_path / "f"), "--until", "generate")
    assert result.returncode == 1
    assert f"{tmp_path / 'f'}" in result.stderr and "choose another --out" in result.stderr
    assert (tmp_path / "f").read_text() == "mine"


@pytest.mark.parametrize("damage", ["", "{", "[1, 2]", '{"stages": {"train": 3}}'])
def test_a_corrupt_build_record_is_set_aside_and_the_build_goes_on(tmp_path, damage):
    out = tmp_path / "b"
    assert qnnc("build", str(MLP), "--out", str(out), "--until", "generate").returncode == 0
    (out / "build.json").write_text(damage)
    result = qnnc("build", str(MLP), "--out", str(out), "--until", "generate")
    assert result.returncode == 0, result.stderr
    assert "build.json could not be read" in result.stdout and "moved to build.json.unreadable" in result.stdout
    assert (out / "build.json.unreadable").read_text() == damage
    assert json.loads((out / "build.json").read_text())["stages"]["generate"]["status"] == "done"


def test_temporary_files_are_removed_when_a_write_fails(tmp_path, monkeypatch):
    from qnnc import fsutil

    target = tmp_path / "x.json"
    target.write_text("old")

    def boom(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        fsutil.write_text_atomic(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and sorted(p.name for p in Path(tmp_path).iterdir()) == ["x.json"]


def test_a_corrupt_sweep_study_names_the_file_and_the_way_out(tmp_path):
    from test_sweep_e2e import SPEC

    spec = tmp_path / "s.qnn"
    spec.write_text(SPEC)
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "study.db").write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)  # a header, then garbage
    result = qnnc("sweep", str(spec), "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{out / 'study.db'} cannot be read" in result.stderr and "mv " in result.stderr
    assert "this is a bug" not in result.stderr


def test_a_read_only_directory_is_an_environment_error(tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode:
        pytest.skip(f"cannot mount a read-only tmpfs here: {made.stderr.decode().strip()}")
    try:
        result = qnnc("build", str(MLP), "--out", str(mount / "b"), "--until", "generate")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    assert result.returncode == 1, result.stderr
    assert "Read-only file system" in result.stderr and "must be writable" in result.stderr


def test_a_damaged_trained_model_is_rebuilt_from_its_checkpoint(tmp_path):
    out = tmp_path / "b"
    assert qnnc("build", str(MLP), "--out", str(out), "--until", "train", "--epochs", "2").returncode == 0
    good = (out / "model.pt").read_bytes()
    (out / "model.pt").write_bytes(b"\0" * 10)
    result = qnnc("build", str(MLP), "--out", str(out), "--until", "train", "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert "[train] what it wrote (model.pt) changed or is gone since: running it again" in result.stdout
    assert "resuming from checkpoints/last.pt: 2 of 2 epochs done" in result.stdout  # nothing retrained
    assert (out / "model.pt").read_bytes() == good


@pytest.mark.parametrize("damage", ["garbage", "truncated", "a directory", "no cache folder"])
def test_a_damaged_grammar_cache_is_rebuilt_and_lint_says_the_same(tmp_path, damage):
    """Lark's parse tables are kept in qnnc's cache between runs; whatever state that file is in,
    lint's answer (positions included) is the one a fresh parse gives."""
    spec = ROOT / "specs" / "tfc_w1a1.qnn"
    broken = tmp_path / "broken.qnn"
    broken.write_text(spec.read_text().replace("epochs: 30", "epochs: 30 bits", 1))  # an error with a position

    def lint(cache):
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        return subprocess.run([sys.executable, "-m", "qnnc", "lint", "--format", "json", str(spec), str(broken)],
                              cwd=ROOT, capture_output=True, text=True, env={**env, "QNNC_CACHE_DIR": str(cache)})

    fresh = lint(tmp_path / "fresh")
    tables = tmp_path / "fresh" / "grammar" / "qnn.lark.tables"
    assert tables.is_file() and fresh.returncode == 1 and json.loads(fresh.stdout)
    cache = tmp_path / "damaged"
    (cache / "grammar").mkdir(parents=True)
    if damage == "garbage":
        (cache / "grammar" / tables.name).write_bytes(b"\x00not a pickle\n" * 100)
    elif damage == "truncated":
        (cache / "grammar" / tables.name).write_bytes(tables.read_bytes()[: tables.stat().st_size // 2])
    elif damage == "a directory":
        (cache / "grammar" / tables.name).mkdir()
    else:
        (cache / "grammar").rmdir()
        cache.rmdir()
        cache.write_text("a file where the cache folder belongs")
    again = lint(cache)
    assert (again.returncode, again.stdout, again.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    if damage in ("garbage", "truncated"):  # rewritten whole (its first line: the hash it was built for)
        rewritten = (cache / "grammar" / tables.name).read_bytes()
        assert re.fullmatch(rb"[0-9a-f]{64}\n", rewritten[:65]) and rewritten.endswith(b".")  # pickle's STOP
        assert abs(len(rewritten) - tables.stat().st_size) < 100  # the tables hold the cache's own path
        assert lint(cache).stdout == fresh.stdout
