"""One build per build directory at a time: an advisory lock (``flock``) on ``<dir>/.lock``.

The kernel drops the lock when its holder dies, ``kill -9`` included, so a lock is never stale;
the file keeps the holder's pid and command only to say who holds it."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qnnc.errors import QnncError

LOCK = ".lock"


class BuildDirectoryBusyError(QnncError):
    """Another qnnc works in the same build directory."""


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    path = Path(root) / LOCK
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildDirectoryBusyError(f"{root} is in use by another qnnc ({_holder(path)}); wait for it to "
                                          "finish or stop it, or build into another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": sys.argv}) + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {holder['pid']}: {' '.join(holder['command'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
