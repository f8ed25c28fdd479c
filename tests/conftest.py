from __future__ import annotations

import os
from pathlib import Path

import pytest

from qnnc.compiler import Compilation
from qnnc.errors import Source

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.qnn"))
FAIL = sorted((ROOT / "tests" / "fail").glob("*.qnn"))
GOLDEN = ROOT / "tests" / "golden"

TFC = (ROOT / "specs" / "tfc_w1a1.qnn").read_text()

# C++ simulation's third-party sources: the snapshot beside the checkout (CI, the development
# machines) unless the environment names others; every test and the builds they start agree
THIRD_PARTY = ROOT.parent / "shared" / "third_party"
if THIRD_PARTY.is_dir():
    os.environ.setdefault("QNNC_THIRD_PARTY", str(THIRD_PARTY))


def diagnostics(text: str, path: str = "t.qnn"):
    return Compilation(Source(text, path)).diagnostics()


@pytest.fixture
def lint():
    return diagnostics
