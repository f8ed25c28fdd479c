"""The build directory's record, build.json: which stages ran, on which inputs, how long."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qnnc.fsutil import file_digest, write_text_atomic


def sha256_text(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    return file_digest(path, "sha256")


class BuildRecord:
    """build.json: per stage, the hash of its inputs, its time and its outcome."""

    def __init__(self, root: Path):
        self.path = root / "build.json"
        self.data = json.loads(self.path.read_text()) if self.path.exists() else {"stages": {}}

    def is_current(self, stage: str, inputs_hash: str) -> bool:
        entry = self.data["stages"].get(stage)
        return bool(entry) and entry.get("status") == "done" and entry.get("inputs") == inputs_hash

    def record(self, stage: str, **entry) -> None:
        self.data["stages"][stage] = entry
        self.save()

    def invalidate_from(self, stages: list[str]) -> None:
        for name in stages:
            self.data["stages"].pop(name, None)
        self.save()

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")
