"""One schedule: what `--dry-run` says runs is what a run runs, for every `--from`/`--until`
and every state of the build directory. The runner is driven with a pipeline of quick stages
that read the file of the stage before them, as the real stages do."""

from __future__ import annotations

import itertools
import shutil

import pytest

from conftest import ROOT
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.fsutil import write_text_atomic
from qnnc.pipeline.runner import dry_run, run_build
from qnnc.pipeline.stages import Stage, _file_inputs
from qnnc.pipeline.state import sha256_file

NAMES = ("a", "b", "c", "d")


def _stage(i: int, name: str) -> Stage:
    before = f"{NAMES[i - 1]}.out" if i else "seed.txt"

    def run(ctx):
        write_text_atomic(ctx.root / f"{name}.out", sha256_file(ctx.root / before))
        return {}

    return Stage(name, f"stage {name}", _file_inputs(before, sections=("network",)), run, (f"{name}.out",))


PIPELINE = tuple(_stage(i, n) for i, n in enumerate(NAMES))
COMP = Compilation(Source((ROOT / "specs" / "digits_mlp_w2a2.qnn").read_text(), "digits_mlp_w2a2.qnn"))


def _built(root):
    root.mkdir()
    (root / "seed.txt").write_text("1")
    run_build(COMP, root, stages=PIPELINE, log=lambda _: None)
    return root


STATES = {
    "empty": lambda root: root.mkdir(),
    "built": _built,
    "seed changed": lambda root: (_built(root), (root / "seed.txt").write_text("2")),
    "output damaged": lambda root: (_built(root), (root / "b.out").write_text("x")),
    "output gone": lambda root: (_built(root), (root / "c.out").unlink()),
}
BOUNDS = [(start, until) for start, until in itertools.product((None, *NAMES), repeat=2)
          if start is None or until is None or NAMES.index(start) <= NAMES.index(until)]


@pytest.mark.parametrize("state", STATES)
def test_dry_run_says_what_the_run_runs(tmp_path, state):
    template = tmp_path / "template"
    STATES[state](template)
    for start, until in BOUNDS:
        root = tmp_path / "run"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(template, root)
        if not (root / "seed.txt").exists():
            (root / "seed.txt").write_text("1")
        said = [s.stage.name for s in dry_run(COMP, root, start=start, until=until, stages=PIPELINE,
                                              log=lambda _: None) if s.runs]
        lines: list[str] = []
        run_build(COMP, root, start=start, until=until, stages=PIPELINE, log=lines.append)
        ran = [n for n in NAMES if any(line.startswith(f"[{n}] stage {n}") for line in lines)]
        assert said == ran, (state, start, until, lines)
        if until is None:  # after any run, nothing is left to do
            assert not [s for s in dry_run(COMP, root, stages=PIPELINE, log=lambda _: None) if s.runs]


def test_dry_run_writes_nothing_even_with_an_unreadable_record(tmp_path):
    root = _built(tmp_path / "b")
    (root / "build.json").write_text("{not json")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    steps = dry_run(COMP, root, stages=PIPELINE, log=lambda _: None)
    assert all(s.runs for s in steps)
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before
