"""Helpers for tests of generated code: write a spec's plan to a folder and import it."""

from __future__ import annotations

from pathlib import Path

from qnnc.backends.export import import_generated
from qnnc.compiler import Compilation
from qnnc.errors import Source


def plan_for(text: str, name: str = "t.qnn"):
    comp = Compilation(Source(text, name))
    return comp, comp.plan


def write_plan(plan, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in plan.files.items():
        (folder / rel).write_text(text)
    return folder


def import_model(folder: Path):
    return import_generated(folder)
