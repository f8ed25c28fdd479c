"""Analysis passes over a validated spec, in one explicit order.

Each pass is a small pure function ``(spec, facts) -> (facts, diagnostics)``. It declares
which facts it needs and which it adds; ``test_passes`` checks that every pass runs after
the passes that provide what it needs. Passes never change the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qnnc.errors import Diagnostic
from qnnc.passes import dataset, fit, folding, quant, residual, shapes, sparsity, sweep
from qnnc.passes.facts import Facts
from qnnc.spec.model import Spec

PassFn = Callable[[Spec, Facts], tuple[Facts, list[Diagnostic]]]


@dataclass(frozen=True)
class Pass:
    name: str
    run: PassFn
    requires: frozenset[str] = frozenset()
    provides: frozenset[str] = frozenset()


PASSES: tuple[Pass, ...] = (
    Pass("shapes", shapes.infer_shapes, provides=frozenset({"shapes"})),
    Pass("dataset", dataset.check_dataset, requires=frozenset({"shapes"})),
    Pass("quant", quant.check_finn_mapping, requires=frozenset({"shapes"})),
    Pass("residual", residual.check_residuals, requires=frozenset({"shapes"})),
    Pass("sparsity", sparsity.check_sparsity, requires=frozenset({"shapes"})),
    Pass("folding", folding.check_folding, requires=frozenset({"shapes"}), provides=frozenset({"folding"})),
    Pass("fit", fit.check_fit, requires=frozenset({"shapes", "folding"})),
    Pass("sweep", sweep.check_sweep),
)


def analyze(spec: Spec, passes: tuple[Pass, ...] = PASSES) -> tuple[Facts, list[Diagnostic]]:
    """Run the passes in order. A pass whose required facts are missing (an earlier pass
    found errors) is skipped, so one mistake is not reported again as a cascade."""
    facts = Facts()
    diagnostics: list[Diagnostic] = []
    for p in passes:
        if not p.requires <= facts.known:
            continue
        facts, found = p.run(spec, facts)
        diagnostics.extend(found)
    return facts, diagnostics
