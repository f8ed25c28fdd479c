from __future__ import annotations

from pathlib import Path

import pytest

from qnnc.compiler import Compilation
from qnnc.errors import Source

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.qnn"))
FAIL = sorted((ROOT / "tests" / "fail").glob("*.qnn"))
GOLDEN = ROOT / "tests" / "golden"

TFC = (ROOT / "specs" / "tfc_w1a1.qnn").read_text()


def diagnostics(text: str, path: str = "t.qnn"):
    return Compilation(Source(text, path)).diagnostics()


@pytest.fixture
def lint():
    return diagnostics
