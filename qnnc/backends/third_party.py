"""Where C++ simulation's third-party sources come from: finn-hlslib (at the commit finn-plus
pins) and Xilinx's open-source ap_int headers.

``$QNNC_THIRD_PARTY`` names a folder holding ``finn-hlslib/`` and
``HLS_arbitrary_Precision_Types/`` (how CI and machines without internet get them); otherwise
the cache (``$QNNC_CACHE_DIR/third_party``, default ``~/.cache/qnnc/third_party``), which
``install.sh`` fills by git when the machine can reach GitHub:

    python -m qnnc.backends.third_party        # fetch into the cache, or say why not
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from qnnc import resources

ENV = "QNNC_THIRD_PARTY"
AP_INT = ("HLS_arbitrary_Precision_Types", "https://github.com/Xilinx/HLS_arbitrary_Precision_Types.git",
          "200a9aecaadf471592558540dc5a88256cbf880f")
FINN_HLSLIB = "finn-hlslib"
NEEDED = ("finn-hlslib/bnn-library.h", "HLS_arbitrary_Precision_Types/include/ap_int.h")
GIT_TIMEOUT_S = 300


def cache() -> Path:
    return resources.cache_dir("third_party")


def folder() -> tuple[Path, str]:
    """The folder to use and where its name came from (the variable or the cache)."""
    where = os.environ.get(ENV)
    return (Path(where), f"${ENV}") if where else (cache(), "the cache")


def missing(root: Path) -> list[str]:
    return [needed for needed in NEEDED if not (root / needed).is_file()]


def finn_hlslib_pin() -> tuple[str, str]:
    """finn-hlslib's URL and commit, as the installed finn-plus pins them."""
    import finn
    import yaml

    deps = yaml.safe_load((Path(finn.__file__).parent / "interface" / "external_dependencies.yaml").read_text())
    entry = deps["git_deps"][FINN_HLSLIB]
    return entry["url"], entry["commit"]


def clone(url: str, commit: str, into: Path) -> None:
    """``into`` at ``commit`` of ``url``; an error (offline, unknown commit) raises CalledProcessError."""
    if not (into / ".git").is_dir():
        subprocess.run(["git", "clone", "--quiet", url, str(into)], check=True, capture_output=True,
                       timeout=GIT_TIMEOUT_S)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", commit], check=True, capture_output=True,
                   timeout=GIT_TIMEOUT_S)


def fetch(root: Path, sources: list[tuple[str, str, str]]) -> list[str]:
    """Clone each (name, url, commit) into ``root/name``; the problems, one line each."""
    problems = []
    for name, url, commit in sources:
        try:
            clone(url, commit, root / name)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            text = detail.decode(errors="replace").strip().splitlines() if isinstance(detail, bytes) else []
            problems.append(f"{name} from {url} at {commit[:12]}: {text[-1] if text else exc}")
    return problems


def main() -> int:
    root, source = folder()
    if not missing(root):
        print(f"qnnc install: simulation sources ready in {root} ({source})")
        return 0
    if source != "the cache":
        print(f"qnnc install: ${ENV}={root} lacks {', '.join(missing(root))}; C++ simulation will say so")
        return 0
    try:
        pin = finn_hlslib_pin()
    except (ImportError, OSError, KeyError, TypeError) as exc:
        print(f"qnnc install: finn-plus's finn-hlslib pin could not be read ({exc!r}); C++ simulation's sources "
              f"were not fetched: set ${ENV}")
        return 0
    problems = fetch(root, [(FINN_HLSLIB, *pin), AP_INT])
    if problems:
        print("qnnc install: could not fetch C++ simulation's sources (the simulate stage will say it did not run; "
              f"set ${ENV} to a folder holding finn-hlslib/ and HLS_arbitrary_Precision_Types/):")
        for line in problems:
            print(f"  {line}")
        return 0
    print(f"qnnc install: simulation sources fetched into {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
