"""qnnc's Python API: what the command line does, as functions returning results.

    import qnnc

    spec = qnnc.load("specs/digits_mlp_w2a2.qnn")      # or qnnc.load(text="network ... ")
    for d in qnnc.lint(spec):                           # Diagnostic objects: code, message, span, hint
        print(d.code, d.span.line, d.message)
    est = qnnc.estimate(spec, out="build/est")          # FINN's estimate with initial weights
    run = qnnc.build(spec, out="build/mlp", until="estimate", epochs=2)
    print(run.test_accuracy, run.estimate["fps"])

Every function takes a spec as a path, or as what ``load`` returned. A spec with errors raises
``SpecError`` (its ``diagnostics`` say what and where); a tool that fails raises
``ToolchainError`` naming its log. The command line is a thin layer over these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qnnc.compiler import Compilation
from qnnc.errors import Diagnostic, QnncError, Source


def load(path: str | Path | None = None, *, text: str | None = None) -> Compilation:
    """A spec from a file, or from ``text`` (``path``, if given, names it in diagnostics)."""
    if text is not None:
        return Compilation(Source(text, str(path) if path is not None else "<spec>"))
    if path is None:
        raise TypeError("load() needs a path or text=")
    return Compilation.from_path(path)


def _compiled(spec: str | Path | Compilation) -> Compilation:
    return spec if isinstance(spec, Compilation) else load(spec)


def lint(spec: str | Path | Compilation) -> list[Diagnostic]:
    """Every diagnostic, errors and warnings, sorted by position; nothing is run or written."""
    return _compiled(spec).diagnostics()


@dataclass(frozen=True)
class BuildResult:
    """What a build recorded: per stage, its status, inputs, time and outputs (build.json)."""

    root: Path
    stages: dict[str, dict] = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float | None:
        return self.stages.get("train", {}).get("outputs", {}).get("test_accuracy")

    @property
    def estimate(self) -> dict | None:
        """FINN's estimate (throughput, resources, power, folding), if the estimate stage ran."""
        return self.stages.get("estimate", {}).get("outputs")


def _root(comp: Compilation, out: str | Path | None, below: str = "") -> Path:
    from qnnc.pipeline.runner import default_root

    return Path(out) if out is not None else default_root(comp.source.path) / below


def build(spec: str | Path | Compilation, out: str | Path | None = None, *, start: str | None = None,
          until: str | None = None, epochs: int | None = None, samples: int | None = None,
          test_samples: int | None = None, validation: float | None = None, dry_run: bool = False,
          log=print) -> BuildResult | list:
    """Build into ``out`` (default ``build/<spec name>``) from ``start`` to ``until`` (stage
    names); stages whose inputs are unchanged are skipped. ``dry_run`` returns the schedule
    (which stages run and why) and runs nothing."""
    from qnnc.pipeline import runner
    from qnnc.pipeline.stages import Options

    comp = _compiled(spec)
    root = _root(comp, out)
    options = Options(epochs=epochs, samples=samples, test_samples=test_samples, validation=validation)
    if dry_run:
        return runner.dry_run(comp, root, start=start, until=until, options=options, log=log)
    return BuildResult(root, runner.run_build(comp, root, start=start, until=until, options=options, log=log))


def estimate(spec: str | Path | Compilation, out: str | Path | None = None, *, log=print) -> dict:
    """FINN's estimate of the spec's design with initial weights (no training): throughput,
    latency, resources per unit, power and energy, the folding chosen. Written to ``out``
    (default ``build/<spec name>/untrained``)."""
    from qnnc.pipeline.runner import estimate_untrained

    comp = _compiled(spec)
    return estimate_untrained(comp, _root(comp, out, "untrained"), log=log)


def sweep(spec: str | Path | Compilation, out: str | Path | None = None, *, epochs: int | None = None,
          samples: int | None = None, test_samples: int | None = None, jobs: int = 1, storage: str | None = None,
          study: str | None = None, ray_address: str | None = None, workers: int = 1, heartbeat_s: int = 20,
          log=print) -> dict:
    """Run the spec's sweep block: every trial a build, then the Pareto front and the
    recommended design (``summary.json``, ``best.qnn``); returns the summary."""
    from qnnc.study.engine import SweepConfig, default_storage
    from qnnc.study.run import run_sweep

    comp = _compiled(spec)
    comp.facts  # noqa: B018 - raises SpecError with every diagnostic before any trial runs
    if comp.spec.sweep is None:
        raise QnncError(f"{comp.source.path} has no sweep block: add e.g. "
                        "'sweep { weights: [1, 2, 4], acts: [1, 2, 4] }'")
    root = _root(comp, out, "sweep")
    config = SweepConfig(spec_path=comp.source.path, root=str(root.resolve()),
                         storage=storage or default_storage(root), study=study or comp.spec.network.name,
                         epochs=epochs, samples=samples, test_samples=test_samples, jobs=jobs,
                         heartbeat_s=heartbeat_s)
    return run_sweep(config, comp, ray_address=ray_address, workers=workers, log=log)
