"""The Python API as a notebook user meets it: the README's example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import qnnc
from conftest import ROOT


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("### Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_lint_returns_diagnostic_objects_and_load_takes_text():
    spec = qnnc.load(text=(ROOT / "specs" / "digits_mlp_w2a2.qnn").read_text().replace("epochs: 20", "epochs: 0"),
                     path="mine.qnn")
    found = qnnc.lint(spec)
    assert [d.code for d in found] == ["Q015"] and found[0].span.line > 1
    assert qnnc.lint(ROOT / "specs" / "tfc_w1a1.qnn") == []


def test_a_spec_with_errors_raises_before_any_work(tmp_path):
    spec = qnnc.load(text="network n {\n  flatten\n}\n", path="bad.qnn")
    with pytest.raises(qnnc.SpecError) as caught:
        qnnc.build(spec, out=tmp_path / "b")
    assert caught.value.diagnostics and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path):
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    done = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"test accuracy \d+\.\d+%, stages \['generate', 'train', 'export', 'verify'\]", done.stdout)
    assert re.search(r"[\d,]+ FPS, \d+\.\d% of the LUTs", done.stdout)
