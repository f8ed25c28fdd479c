"""Write the golden snapshots from the current compiler. Run on purpose, then review the diff:
    python tests/update_golden.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qnnc.compiler import Compilation  # noqa: E402


def main() -> None:
    out = ROOT / "tests" / "golden" / "spec"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "specs").glob("*.qnn")):
        comp = Compilation.from_path(path)
        data = json.loads(comp.spec.model_dump_json())
        (out / f"{path.stem}.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        print("wrote", out / f"{path.stem}.json")
        for rel, text in comp.plan.files.items():
            target = ROOT / "tests" / "golden" / "codegen" / path.stem / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print("wrote", target)


if __name__ == "__main__":
    main()
