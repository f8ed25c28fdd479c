"""Files qnnc ships beside its code: the grammar and the templates. In a wheel they live in
the package (qnnc/_grammar, qnnc/_templates); in a source checkout at the top level. And the
cache qnnc keeps between runs ($QNNC_CACHE_DIR, default ~/.cache/qnnc)."""

from __future__ import annotations

import os
from pathlib import Path

from qnnc.errors import InternalError

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """``grammar`` or ``templates``."""
    for folder in (_PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if folder.is_dir():
            return folder
    raise InternalError(f"the {name} folder is missing next to the qnnc package")


def cache_dir(name: str) -> Path:
    """``$QNNC_CACHE_DIR/name``: ``datasets``, ``third_party``, ``grammar``."""
    return Path(os.environ.get("QNNC_CACHE_DIR", Path.home() / ".cache" / "qnnc")) / name
