"""The qnnc command as a user runs it: exit codes, output formats, no tracebacks, no heavy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import FAIL, ROOT, SPECS

HEAVY = ("torch", "brevitas", "onnx", "finn", "qonnx", "onnxruntime")


def qnnc(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qnnc", *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "QNNC_DEBUG": ""},
    )


def test_lint_examples_exit_zero():
    result = qnnc("lint", *map(str, SPECS))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == f"0 errors, 0 warnings in {len(SPECS)} files"


def test_lint_errors_exit_one_with_compiler_style_output():
    path = ROOT / "tests" / "fail" / "simd_not_divisor.qnn"
    result = qnnc("lint", str(path))
    assert result.returncode == 1
    assert f"{path}:11:22: error[Q031]: SIMD 48 does not divide the layer's input width 784" in result.stdout
    assert "   = help: divisors of 784 near 48: 49, 56, 28" in result.stdout
    assert result.stdout.rstrip().endswith("1 error, 0 warnings in 1 file")


def test_lint_json_has_the_same_fields():
    path = ROOT / "tests" / "fail" / "several_errors.qnn"
    result = qnnc("lint", "--format", "json", str(path))
    assert result.returncode == 1
    rows = json.loads(result.stdout)["diagnostics"]
    assert [(r["code"], r["line"], r["col"]) for r in rows] == [("Q017", 8, 9), ("Q014", 8, 25), ("Q017", 9, 8)]
    assert set(rows[0]) == {"file", "line", "col", "end_line", "end_col", "severity", "code", "message", "help"}
    assert rows[0]["help"] == "did you mean 'mnist'?"


def test_warnings_alone_exit_zero(tmp_path):
    text = (ROOT / "specs" / "tfc_w1a1.qnn").read_text().replace(
        "linear fc1 (64) + batchnorm + act bipolar",
        "linear fc1 (64) + batchnorm + act bipolar sparsity 50% unstructured",
    )
    spec = tmp_path / "w.qnn"
    spec.write_text(text)
    result = qnnc("lint", str(spec))
    assert result.returncode == 0
    assert "warning[Q060]" in result.stdout


@pytest.mark.parametrize("args", [("lint",), ("lint", "--format", "xml", "x.qnn"), ("frobnicate",)])
def test_usage_errors_exit_two(args):
    assert qnnc(*args).returncode == 2


def test_missing_file_is_a_usage_error_without_traceback():
    result = qnnc("lint", "no/such/spec.qnn")
    assert result.returncode == 2
    assert result.stderr.startswith("qnnc: error: cannot read no/such/spec.qnn")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("path", FAIL, ids=lambda p: p.stem)
def test_no_traceback_for_any_user_mistake(path):
    result = qnnc("lint", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal compiler error" not in result.stdout + result.stderr


def test_lint_and_fmt_import_no_heavy_package():
    code = (
        "import sys, io, contextlib\n"
        "from qnnc.cli import main\n"
        f"specs = {[str(p) for p in SPECS]!r}\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['lint', *specs]); main(['fmt', '--check', *specs])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_fmt_check_reports_and_fmt_rewrites(tmp_path):
    spec = tmp_path / "messy.qnn"
    spec.write_text((ROOT / "tests" / "golden" / "fmt" / "messy.qnn").read_text())
    check = qnnc("fmt", "--check", str(spec))
    assert check.returncode == 1 and check.stdout.strip() == f"would reformat {spec}"
    assert qnnc("fmt", str(spec)).returncode == 0
    assert spec.read_text() == (ROOT / "tests" / "golden" / "fmt" / "messy.expected.qnn").read_text()
    assert qnnc("fmt", "--check", str(spec)).returncode == 0


def test_fmt_stdin_to_stdout():
    text = (ROOT / "tests" / "golden" / "fmt" / "messy.qnn").read_text()
    result = qnnc("fmt", "-", stdin=text)
    assert result.returncode == 0
    assert result.stdout == (ROOT / "tests" / "golden" / "fmt" / "messy.expected.qnn").read_text()


def test_fmt_refuses_a_spec_with_syntax_errors_and_keeps_it(tmp_path):
    spec = tmp_path / "bad.qnn"
    spec.write_text("network n {\n  flatten (:)\n}\n")
    result = qnnc("fmt", str(spec))
    assert result.returncode == 1 and "error[Q001]" in result.stdout
    assert spec.read_text() == "network n {\n  flatten (:)\n}\n"


def test_doctor_lists_versions_and_what_can_run_here():
    result = subprocess.run([sys.executable, "-m", "qnnc", "doctor"], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "XILINX_VIVADO": ""})
    assert result.returncode == 0, result.stdout
    assert "finn-plus     1.6.1  ok" in result.stdout
    assert "stages: generate, train, export, verify, estimate: can run" in result.stdout
    assert "needs Vivado/Vitis, not found here" in result.stdout
