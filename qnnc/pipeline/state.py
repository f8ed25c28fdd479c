"""The build directory's record, build.json: which stages ran, on which inputs, how long."""

from __future__ import annotations

import hashlib
import json
import zipfile
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

    def __init__(self, root: Path, readonly: bool = False):
        self.path = root / "build.json"
        self.readonly = readonly  # a dry run reads the record and changes nothing
        self.note: str | None = None  # what was done about a record that could not be read
        self.data = self._load()

    def _load(self) -> dict:
        if not self.path.exists():
            return {"stages": {}}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not (isinstance(data, dict) and isinstance(data.get("stages"), dict)
                    and all(isinstance(e, dict) for e in data["stages"].values())):
                raise ValueError("not a build record")
        except (ValueError, UnicodeDecodeError) as exc:
            aside = self.path.with_name("build.json.unreadable")
            if self.readonly:
                self.note = f"{self.path} could not be read ({exc}); a build would move it to {aside.name}"
                return {"stages": {}}
            self.path.replace(aside)
            self.note = (f"{self.path} could not be read ({exc}); moved to {aside.name}: every stage is checked "
                         "again (finished training resumes from its checkpoint)")
            return {"stages": {}}
        return data

    def is_current(self, stage: str, inputs_hash: str) -> bool:
        entry = self.data["stages"].get(stage)
        return bool(entry) and entry.get("status") == "done" and entry.get("inputs") == inputs_hash

    def intact(self, stage: str) -> bool:
        """The files the stage recorded are there and whole. A trained model (``.pt``, a zip
        archive) may be replaced on purpose by another one (the later stages hash it), so it
        needs only to be a whole archive; other files must be as the stage wrote them."""
        files, root = self.data["stages"].get(stage, {}).get("files", {}), self.path.parent
        return all((root / rel).is_file() and (zipfile.is_zipfile(root / rel) if rel.endswith(".pt")
                                              else sha256_file(root / rel) == digest) for rel, digest in files.items())

    def record(self, stage: str, **entry) -> None:
        self.data["stages"][stage] = entry
        self.save()

    def invalidate_from(self, stages: list[str]) -> None:
        for name in stages:
            self.data["stages"].pop(name, None)
        self.save()

    def save(self) -> None:
        assert not self.readonly, "a read-only build record is never saved"
        write_text_atomic(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")
