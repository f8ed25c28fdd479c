from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qnnc.compiler import Compilation
from qnnc.errors import Source

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.qnn"))
FAIL = sorted((ROOT / "tests" / "fail").glob("*.qnn"))
GOLDEN = ROOT / "tests" / "golden"

TFC = (ROOT / "specs" / "tfc_w1a1.qnn").read_text()
MLP = ROOT / "specs" / "digits_mlp_w2a2.qnn"

# C++ simulation's third-party sources: the snapshot beside the checkout (CI, the development
# machines) unless the environment names others; every test and the builds they start agree
THIRD_PARTY = ROOT.parent / "shared" / "third_party"
if THIRD_PARTY.is_dir():
    os.environ.setdefault("QNNC_THIRD_PARTY", str(THIRD_PARTY))


@pytest.fixture(scope="session")
def simulation_sources():
    """finn-hlslib and the ap_int headers, which C++ simulation needs: a machine without them
    (no ../shared beside the checkout, no $QNNC_THIRD_PARTY, GitHub unreachable at install)
    skips the tests that simulate, saying so; under CI, which always has them, that is a failure."""
    from qnnc.backends import third_party

    folder, source = third_party.folder()
    lacking = third_party.missing(folder)
    if lacking:
        why = (f"C++ simulation's sources are missing ({source}, {folder}, lacks {', '.join(lacking)}): "
               "set QNNC_THIRD_PARTY or run 'python -m qnnc.backends.third_party'")
        pytest.fail(why) if os.environ.get("CI") else pytest.skip(why)
    return folder


def diagnostics(text: str, path: str = "t.qnn"):
    return Compilation(Source(text, path)).diagnostics()


@pytest.fixture
def lint():
    return diagnostics


def bit_exact_untrained(comp: Compilation, root: Path, samples: int = 32):
    """FINN's estimate of a spec with its initial weights in ``root``, checked bit-exact
    (PyTorch, QONNX, FINN's streamlined and hardware-layer models on held-out samples); the
    folded dataflow graph and which spec layer each of its nodes implements."""
    from qnnc.backends.cppsim import dataflow_model
    from qnnc.backends.finn_units import match_units
    from qnnc.backends.verify import held_out, verify
    from qnnc.pipeline.runner import estimate_untrained

    estimate_untrained(comp, root, log=lambda _line: None)
    assert verify(root, comp.spec, held_out(comp.spec, samples))["bit_exact"]
    model = dataflow_model(root)
    return model, match_units(model.graph.node, comp.spec)


def run_qnnc(*args, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    """qnnc's command line, as a user runs it (from the checkout, unless ``cwd``)."""
    return subprocess.run([sys.executable, "-m", "qnnc", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def built_mlp(tmp_path_factory):
    """The CI end-to-end path, built once: train the digits MLP on real data, export, verify,
    estimate, generate and simulate the hardware, package it (no Vivado). The build directory
    is given relative to where qnnc runs, as the README's commands give it."""
    here = tmp_path_factory.mktemp("e2e")
    result = run_qnnc("build", str(MLP), "--out", "b", "--epochs", "2", env={"XILINX_VIVADO": ""}, cwd=here)
    return here / "b", result



def synthetic_iq(samples: int, length: int = 128, classes: int = 24, seed: int = 0) -> tuple:
    """RadioML-like frames (int8 [N, 2, length] I/Q) for the user-data format tests: a tone per
    class (eight frequencies) under one of three amplitude modulations (none, on-off keying, a
    slow sinusoid), at a random phase, with Gaussian noise; labels int64."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, samples)
    t = np.arange(length)
    freq, modulation = (y % 8 + 1) / 32.0, y // 8 % 3
    phase = rng.uniform(0, 2 * np.pi, samples)[:, None]
    angle = 2 * np.pi * freq[:, None] * t + phase
    envelope = np.select([modulation[:, None] == 1, modulation[:, None] == 2],
                         [0.5 + 0.5 * np.sign(np.sin(2 * np.pi * t / 16)), 0.6 + 0.4 * np.cos(2 * np.pi * t / 32)],
                         1.0)
    x = np.stack([np.cos(angle), np.sin(angle)], 1) * envelope[:, None] + rng.normal(0, 0.2, (samples, 2, length))
    return np.clip(np.round(x * 64), -128, 127).astype(np.int8), y.astype(np.int64)


def write_iq_npz(path: Path, train: int, test: int, length: int = 128) -> Path:
    """An .npz of synthetic I/Q frames (``synthetic_iq``) with the four arrays user data has."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    x_train, y_train = synthetic_iq(train, length, seed=1)
    x_test, y_test = synthetic_iq(test, length, seed=2)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path
