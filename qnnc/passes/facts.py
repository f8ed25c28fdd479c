"""What the passes learn about a spec, accumulated immutably."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property


@dataclass(frozen=True)
class LayerShape:
    """Per-sample tensor shapes around one layer; widths are after structured pruning."""

    name: str
    kind: str
    inp: tuple[int, ...]
    out: tuple[int, ...]


@dataclass(frozen=True)
class Facts:
    shapes: tuple[LayerShape, ...] | None = None
    folding: dict | None = field(default=None, compare=False)  # layer -> its fold line's unit settings (FINN names)

    @property
    def known(self) -> frozenset[str]:
        return frozenset(k for k in ("shapes", "folding") if getattr(self, k) is not None)

    def shape_of(self, name: str) -> LayerShape:
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, LayerShape]:
        return {s.name: s for s in self.shapes or ()}

    def with_(self, **changes) -> Facts:
        return replace(self, **changes)
