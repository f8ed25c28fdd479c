"""One compilation of one spec. Each phase is a cached property backed by a pure function,
so a caller asks for what it needs (``lint`` asks for ``analysis``) and nothing more runs.

This module imports nothing heavy: no torch, brevitas, onnx or finn.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from qnnc.errors import Diagnostic, Source, SpecError
from qnnc.passes import analyze
from qnnc.passes.facts import Facts
from qnnc.spec.build import validate
from qnnc.spec.model import Spec
from qnnc.syntax import ast
from qnnc.syntax.parser import parse


@contextmanager
def _no_cycle_collection():
    """Parsing and checking make many small objects and free none of them until the spec is
    dropped, so the cyclic collector would only re-scan them: a third of a 10,000-layer lint."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Compilation:
    def __init__(self, source: Source):
        self.source = source

    @classmethod
    def from_path(cls, path: str | Path) -> Compilation:
        text = Path(path).read_text(encoding="utf-8")
        return cls(Source(text, str(path)))

    @cached_property
    def module(self) -> ast.Module:
        with _no_cycle_collection():
            return parse(self.source.text, self.source.path)

    @cached_property
    def _validated(self) -> tuple[Spec, list[Diagnostic]]:
        module = self.module
        with _no_cycle_collection():
            return validate(module, self.source)

    @property
    def spec(self) -> Spec:
        return self._validated[0]

    @cached_property
    def _analysis(self) -> tuple[Facts, list[Diagnostic]]:
        spec = self.spec
        with _no_cycle_collection():
            facts, found = analyze(spec)
        return facts, [*self._validated[1], *found]

    @property
    def facts(self) -> Facts:
        """Facts from every pass; raises ``SpecError`` if any pass found an error."""
        facts, diagnostics = self._analysis
        if any(d.is_error for d in diagnostics):
            raise SpecError(diagnostics, self.source)
        return facts

    @cached_property
    def plan(self):
        """The generated files (``qnnc.codegen.Plan``); needs a spec without errors."""
        from qnnc.codegen import generate

        return generate(self.spec, self.facts, Path(self.source.path).name)

    def diagnostics(self) -> list[Diagnostic]:
        """Every diagnostic for this spec, errors and warnings, sorted by position."""
        try:
            _, diagnostics = self._analysis
        except SpecError as exc:
            return exc.diagnostics
        return sorted(diagnostics, key=lambda d: (d.span, d.code))
