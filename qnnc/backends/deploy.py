"""The package stage: the deployment folder a PYNQ board runs, complete but for the bitfile.

    deploy/driver/settings.json   FINN's driver settings of the design (hwgen's; the hardware
                                  stage puts FINN's own in their place after its FIFO sizing)
    deploy/test_data.npz          the test set as the accelerator takes it, its labels, and the
                                  trained PyTorch model's answers
    deploy/validate.py            runs the test set through the accelerator on the board
    deploy/README.md              how to run it, and what is missing
    deploy/bitfile/               finn-accel.bit and .hwh: only the hardware stage (Vivado) writes them

The board runs FINN's driver, the ``finn-plus-driver`` package (its own environment on the
board: it needs numpy < 2), at the version of the finn-plus that built the design.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from qnnc.backends import hwgen
from qnnc.fsutil import write_text_atomic
from qnnc.resources import resource_dir
from qnnc.spec import model as m

if TYPE_CHECKING:
    import numpy as np

DEPLOY_DIR = "deploy"
TEST_DATA = f"{DEPLOY_DIR}/test_data.npz"
BITFILE_DIR = f"{DEPLOY_DIR}/bitfile"
BITFILES = ("finn-accel.bit", "finn-accel.hwh")


def driver_version() -> str:
    """finn-plus-driver is released with finn-plus, at the same version."""
    return version("finn-plus").split("+")[0]


def write_package(root: Path, spec: m.Spec, continue_command: str) -> dict:
    """The package stage's work in the build directory ``root``; ``continue_command`` is the
    command that completes the folder on a machine with Vivado."""
    import numpy as np

    root = Path(root).resolve()  # its tools run in folders of their own: no path may be relative
    deploy = root / DEPLOY_DIR
    shutil.copytree(root / hwgen.DRIVER, deploy / "driver", dirs_exist_ok=True)
    np.savez_compressed(root / TEST_DATA, **test_data(root, spec))
    shutil.copyfile(resource_dir("templates") / "deploy" / "validate.py", deploy / "validate.py")
    return write_readme(root, spec, continue_command)


def write_readme(root: Path, spec: m.Spec, continue_command: str) -> dict:
    """The folder's README: how to run it on the board, and what is still missing."""
    import numpy as np

    from qnnc.codegen.plan import environment

    root = Path(root).resolve()  # its tools run in folders of their own: no path may be relative
    x = np.load(root / TEST_DATA)["x"]
    missing = [f"{BITFILE_DIR}/{name}" for name in BITFILES if not (root / BITFILE_DIR / name).is_file()]
    readme = environment().get_template("deploy/README.md.j2").render(
        network=spec.network.name, board=spec.target.board, driver_version=driver_version(), samples=len(x),
        layout=f"{x.dtype}, shape {list(x.shape)}", complete=not missing, continue_command=continue_command)
    write_text_atomic(root / DEPLOY_DIR / "README.md", readme)
    return {"folder": DEPLOY_DIR, "samples": len(x), "complete": not missing, "missing": missing}


def test_data(root: Path, spec: m.Spec) -> dict[str, np.ndarray]:
    """The whole test set in the accelerator's layout and input type, with the labels and the
    trained model's answers (``verify.reference``: the top labels, and which samples tie)."""
    import numpy as np

    from qnnc.backends import host
    from qnnc.backends.verify import reference
    from qnnc.runtime.data import load

    _, _, x_test, y_test = load(spec.dataset_value, spec.folder)
    ref = reference(root, spec, x_test.astype(np.float32))
    x = host.to_accelerator(hwgen.host_model(root), ref.x)
    return {"x": x.astype(input_dtype(host.io_shapes(root / hwgen.SETTINGS))), "labels": y_test,
            "expected": ref.outputs.reshape(len(x), -1), "tied": ref.ambiguous,
            "kind": np.array(spec.network.output.kind)}


def input_dtype(io: dict) -> np.dtype:
    """The narrowest NumPy integer type that holds the accelerator's input type."""
    import numpy as np

    from qnnc.backends import host

    datatype = host.datatype(io["idt"][0])
    for candidate in (np.uint8, np.int8, np.uint16, np.int16, np.int32):
        info = np.iinfo(candidate)
        if datatype.is_integer() and info.min <= datatype.min() and datatype.max() <= info.max:
            return np.dtype(candidate)
    return np.dtype(np.float32)


def complete_with(root: Path, bitfile_dir: Path, driver_dir: Path) -> list[str]:
    """After the hardware stage: FINN's bitfile and hwh, and the driver settings FINN wrote for
    the design it synthesized, into the deployment folder. Returns what was copied."""
    root = Path(root).resolve()  # its tools run in folders of their own: no path may be relative
    copied = []
    (root / BITFILE_DIR).mkdir(parents=True, exist_ok=True)
    for name in BITFILES:
        shutil.copyfile(Path(bitfile_dir) / name, root / BITFILE_DIR / name)
        copied.append(f"{BITFILE_DIR}/{name}")
    settings = Path(driver_dir) / "settings.json"
    if settings.is_file():
        shutil.copyfile(settings, root / DEPLOY_DIR / "driver" / "settings.json")
        copied.append(f"{DEPLOY_DIR}/driver/settings.json")
    return copied
