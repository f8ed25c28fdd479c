"""Run a pipeline of stages in order: one schedule says which stages run and why (the dry run
prints it, the real run follows it), each stage is timed, everything is recorded in build.json."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from qnnc.compiler import Compilation
from qnnc.errors import QnncError
from qnnc.pipeline.lock import build_lock
from qnnc.pipeline.stages import STAGES, UNTRAINED, Context, Options, Stage, VivadoMissingError, continue_command
from qnnc.pipeline.state import BuildRecord, sha256_file
from qnnc.report.summary import summary_lines


def select(start: str | None, until: str | None, stages: tuple[Stage, ...] = STAGES) -> list[str]:
    names = [s.name for s in stages]
    first = names.index(start) if start else 0
    last = names.index(until) if until else len(names) - 1
    if first > last:
        raise QnncError(f"--from {start} comes after --until {until}")
    return names[first: last + 1]


@dataclass(frozen=True)
class Scheduled:
    """One stage in a schedule: whether it runs, and why (or "up to date")."""

    stage: Stage
    runs: bool
    why: str


def schedule(record: BuildRecord, ctx: Context, stages: tuple[Stage, ...], start: str | None,
               until: str | None) -> list[Scheduled]:
    """Which stages run: those from ``--from`` on, those whose inputs changed or whose files
    were damaged, and every stage after one that runs (its result makes theirs stale). Stages
    before ``--from`` still run if their results are stale."""
    forced = set(select(start, until, stages)) if start else set()
    entries, earlier = [], False
    for stage in (s for s in stages if s.name in select(None, until, stages)):
        if stage.name in forced:
            why = "--from"
        elif earlier:
            why = "an earlier stage runs"
        elif stage.name not in record.data["stages"]:
            why = "not run yet"
        elif not record.is_current(stage.name, stage.inputs(ctx)):
            why = "its inputs changed" if record.data["stages"][stage.name].get("status") == "done" else \
                f"last run {record.data['stages'][stage.name].get('status')}"
        elif not record.intact(stage.name):
            why = f"what it wrote ({', '.join(stage.produces)}) changed or is gone since"
        else:
            why = None
        entries.append(Scheduled(stage, why is not None, why or "up to date"))
        earlier = earlier or why is not None
    return entries


def dry_run(comp: Compilation, root: Path, *, start=None, until=None, options: Options | None = None,
            stages: tuple[Stage, ...] = STAGES, log=print) -> list[Scheduled]:
    """Show the plan of files and, stage by stage, what a run would do; run and write nothing."""
    plan = comp.plan
    log(f"build directory: {root}")
    log(f"plan (digest {plan.digest[:16]}):")
    for line in plan.describe():
        log(f"  {line}")
    entries = schedule(BuildRecord(root, readonly=True), _context(comp, root, options or Options(), start, until,
                                                                  stages, log), stages, start, until)
    running = [entry.stage.name for entry in entries if entry.runs]
    log("stages: " + (" -> ".join(running) if running else "none (everything is up to date)"))
    for entry in entries:
        log(f"  {entry.stage.name:<9} {'runs' if entry.runs else 'skipped'} ({entry.why}): {entry.stage.summary}")
    return entries


def default_root(spec_path: str) -> Path:
    return Path("build") / Path(spec_path).stem


def _context(comp: Compilation, root: Path, options: Options, start, until, stages, log) -> Context:
    if start:
        options = replace(options, fresh=frozenset(select(start, until, stages)))
    return Context(root=root, plan=comp.plan, spec=comp.spec, options=options, log=log, source=comp.source)


def run_build(comp: Compilation, root: Path, *, start=None, until=None, options: Options | None = None,
              stages: tuple[Stage, ...] = STAGES, log=print) -> dict:
    """Run the pipeline ``stages`` (the build's, by default) in ``root``; returns each stage's
    recorded result."""
    options = options or Options()
    comp.plan  # noqa: B018 - raises SpecError before any work when the spec is wrong
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root):
        return _run_stages(comp, root, stages, start, until, options, log)


def _run_stages(comp: Compilation, root: Path, stages: tuple[Stage, ...], start, until, options: Options,
                log) -> dict:
    record = BuildRecord(root)
    if record.note:
        log(f"note: {record.note}")
    ctx = _context(comp, root, options, start, until, stages, log)
    names = [s.name for s in stages]
    results = {}
    for entry in schedule(record, ctx, stages, start, until):
        stage = entry.stage
        if not entry.runs:
            log(f"[{stage.name}] up to date")
            results[stage.name] = record.data["stages"][stage.name]
            continue
        if entry.why.startswith("what it wrote"):
            log(f"[{stage.name}] {entry.why}: running it again")
        log(f"[{stage.name}] {stage.summary} ({entry.why})")
        record.invalidate_from(names[names.index(stage.name):])  # a rerun stage makes every later result stale
        inputs = stage.inputs(ctx)  # after the stages before it ran
        t0 = time.perf_counter()
        try:
            outputs = stage.run(ctx)
        except VivadoMissingError as exc:
            record.record(stage.name, status="needs-vivado", inputs=inputs, error=str(exc))
            log(f"[{stage.name}] stopped: {exc}.")
            log(f"Everything built so far is kept in {root}. On a machine with Vivado/Vitis, continue with:")
            log("  " + continue_command(comp.source.path, root, stage.name, options))
            break
        except QnncError as exc:
            _record_failure(record, stage.name, inputs, exc, time.perf_counter() - t0, log)
            raise
        seconds = round(time.perf_counter() - t0, 3)
        files = {rel: sha256_file(root / rel) for rel in stage.produces if (root / rel).is_file()}
        record.record(stage.name, status="done", inputs=inputs, seconds=seconds, outputs=outputs, files=files)
        log(f"[{stage.name}] done in {seconds:.1f} s")
        results[stage.name] = record.data["stages"][stage.name]
    for line in summary_lines(record.data, comp.spec, root):
        log(line)
    return results


def _record_failure(record: BuildRecord, stage: str, inputs: str, exc: Exception, seconds: float, log) -> None:
    """Note the failure in build.json; if even that fails (a full disk), say so and let the
    stage's own error through: recording a failure never hides it."""
    try:
        record.record(stage, status="failed", inputs=inputs, error=str(exc), seconds=round(seconds, 3))
    except OSError as err:
        log(f"note: the failure could not be recorded in {record.path} ({err.strerror})")


def estimate_untrained(comp: Compilation, root: Path, log=print) -> dict:
    """FINN's estimate of the spec's design with initial weights: the UNTRAINED pipeline
    (generate, init, export, estimate). A directory holding a trained model is refused: its
    model would be overwritten."""
    record = BuildRecord(root, readonly=True)
    if record.data["stages"].get("train", {}).get("status") == "done":
        raise QnncError(f"{root} holds a trained build (its model.pt would be replaced by initial weights): give "
                        "qnnc estimate another --out")
    results = run_build(comp, root, stages=UNTRAINED, log=log)
    return {**results["estimate"]["outputs"], "board": comp.spec.target.board,
            "clock_mhz": comp.spec.target.clock_mhz}
