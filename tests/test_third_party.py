"""Simulation's third-party sources: fetched by git at a pinned commit into the cache, or named
by $QNNC_THIRD_PARTY; what is missing is said, never guessed."""

from __future__ import annotations

import subprocess

import pytest

from qnnc.backends import third_party
from qnnc.backends.cppsim import SimulationUnavailableError
from qnnc.backends.cppsim import third_party as located


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def upstream(tmp_path, name, path):
    """A local repository standing in for GitHub, with two commits; the first one's hash."""
    repo = tmp_path / "upstream" / name
    (repo / path).parent.mkdir(parents=True)
    git("init", "-q", cwd=repo)
    (repo / path).write_text("// first\n")
    git("add", ".", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo)
    (repo / path).write_text("// second\n")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "second", cwd=repo)
    return str(repo), first


def test_fetch_checks_out_the_pinned_commit_and_the_cache_is_used(tmp_path, monkeypatch):
    hlslib = upstream(tmp_path, "finn-hlslib", "bnn-library.h")
    apint = upstream(tmp_path, "ap", "include/ap_int.h")
    cache = tmp_path / "cache" / "third_party"
    assert third_party.fetch(cache, [("finn-hlslib", *hlslib), ("HLS_arbitrary_Precision_Types", *apint)]) == []
    assert (cache / "finn-hlslib" / "bnn-library.h").read_text() == "// first\n"  # the pin, not the newest
    monkeypatch.delenv("QNNC_THIRD_PARTY", raising=False)
    monkeypatch.setenv("QNNC_CACHE_DIR", str(tmp_path / "cache"))
    assert located() == cache


def test_an_unreachable_source_is_a_line_that_names_it(tmp_path):
    problems = third_party.fetch(tmp_path, [("finn-hlslib", str(tmp_path / "nowhere"), "0" * 40)])
    assert len(problems) == 1 and problems[0].startswith(f"finn-hlslib from {tmp_path / 'nowhere'} at 000000000000")


def test_a_folder_without_the_sources_says_what_it_lacks(tmp_path, monkeypatch):
    monkeypatch.setenv("QNNC_THIRD_PARTY", str(tmp_path))
    with pytest.raises(SimulationUnavailableError, match="lacks finn-hlslib/bnn-library.h"):
        located()


def test_finn_plus_pins_the_finn_hlslib_commit():
    url, commit = third_party.finn_hlslib_pin()
    assert url.endswith("finn-hlslib.git") and len(commit) == 40
