"""The package's layers, read from every import in every module (function-level imports too):
the language (syntax, spec, passes, pure hardware models, codegen) imports no toolchain and no
layer above it; backends own everything that touches Brevitas, qonnx and FINN; reporting reads
results and runs no stage; no package imports a package that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "qnnc"
LANGUAGE = ("syntax", "spec", "passes", "hw", "codegen", "errors", "diagnostics", "compiler", "resources", "fsutil",
            "datasets_info")
# the layers, lowest first: a module may import from its own layer and the ones below
ORDER = (LANGUAGE, ("backends", "runtime"), ("report",), ("pipeline",), ("study",), ("api", "doctor", "cli",
                                                                                 "__init__", "__main__"))
TOOLCHAIN = {"torch", "brevitas", "finn", "qonnx", "onnx", "onnxruntime", "matplotlib", "optuna", "ray"}


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path, name: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = name.split(".")[: -node.level]
                found.add(".".join([*base, node.module] if node.module else base))
            else:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def part(module: str) -> str:
    """The top-level part of qnnc a module belongs to ('qnnc.hw.solver' -> 'hw')."""
    return module.split(".")[1] if module.count(".") else "__init__"


def rank(module: str) -> int:
    return next(i for i, layer in enumerate(ORDER) if part(module) in layer)


ALL = modules()


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_module_imports_only_its_layer_and_below(name):
    own = rank(name)
    above = sorted(m for m in imports(ALL[name], name) if m.startswith("qnnc.") and m in ALL and rank(m) > own)
    assert not above, f"{name} (layer {own}) imports {above}"


@pytest.mark.parametrize("name", sorted(m for m in ALL if part(m) in LANGUAGE))
def test_the_language_imports_no_toolchain(name):
    heavy = sorted(m for m in imports(ALL[name], name) if m.split(".")[0] in TOOLCHAIN)
    assert not heavy, f"{name} imports {heavy}"


@pytest.mark.parametrize("name", sorted(m for m in ALL if part(m) == "report"))
def test_reporting_runs_no_stage(name):
    assert not [m for m in imports(ALL[name], name) if part(m) in ("pipeline", "backends", "runtime", "study")
                and m.startswith("qnnc.")]


def test_no_two_parts_import_each_other():
    edges = {(part(name), part(m)) for name, path in ALL.items() for m in imports(path, name)
             if m.startswith("qnnc.") and m in ALL and part(m) != part(name)}
    assert not sorted((a, b) for a, b in edges if (b, a) in edges)


def test_every_part_has_a_layer():
    assert {part(name) for name in ALL} <= {p for layer in ORDER for p in layer}
