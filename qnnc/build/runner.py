"""Run the build stages in order: skip those whose inputs are unchanged, time each, record
everything in build.json."""

from __future__ import annotations

import shlex
import time
from dataclasses import replace
from pathlib import Path

from qnnc.build.lock import build_lock
from qnnc.build.stages import STAGE_NAMES, STAGES, Context, Options, VivadoMissingError
from qnnc.build.state import BuildRecord, sha256_file
from qnnc.compiler import Compilation
from qnnc.errors import QnncError


def select(start: str | None, until: str | None) -> list[str]:
    names = list(STAGE_NAMES)
    first = names.index(start) if start else 0
    last = names.index(until) if until else len(names) - 1
    if first > last:
        raise QnncError(f"--from {start} comes after --until {until}")
    return names[first: last + 1]


def dry_run(comp: Compilation, root: Path, *, start=None, until=None, log=print) -> None:
    """Show the plan of files and the stages that would run, running nothing."""
    plan = comp.plan
    log(f"build directory: {root}")
    log(f"plan (digest {plan.digest[:16]}):")
    for line in plan.describe():
        log(f"  {line}")
    stages = {s.name: s for s in STAGES}
    log("stages: " + " -> ".join(f"{n} ({stages[n].summary})" for n in select(start, until)))


def default_root(spec_path: str) -> Path:
    return Path("build") / Path(spec_path).stem


def run_build(comp: Compilation, root: Path, *, start=None, until=None, options: Options | None = None,
              log=print) -> dict:
    options = options or Options()
    plan = comp.plan  # raises SpecError before any work when the spec is wrong
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root):
        return _run_stages(comp, root, plan, start, until, options, log)


def _run_stages(comp: Compilation, root: Path, plan, start, until, options: Options, log) -> dict:
    record = BuildRecord(root)
    if record.note:
        log(f"note: {record.note}")
    if start:
        options = replace(options, fresh=frozenset(select(start, until)))
    ctx = Context(root=root, plan=plan, spec=comp.spec, options=options, log=log, source=comp.source)
    forced = options.fresh
    chosen = select(None, until)  # stages before --from still run if their results are stale
    results = {}
    for stage in STAGES:
        if stage.name not in chosen:
            continue
        inputs = stage.inputs(ctx)
        current = record.is_current(stage.name, inputs)
        if current and not record.intact(stage.name):
            wrote = ", ".join(stage.produces)
            log(f"[{stage.name}] what it wrote ({wrote}) changed or is gone since: running it again")
            current = False
        if current and stage.name not in forced:
            log(f"[{stage.name}] up to date")
            results[stage.name] = record.data["stages"][stage.name]
            continue
        log(f"[{stage.name}] {stage.summary}")
        later = list(STAGE_NAMES[STAGE_NAMES.index(stage.name):])
        record.invalidate_from(later)  # a rerun stage makes every later result stale
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
    log_summary(record, comp, root, log)
    return results


def continue_command(spec_path: str, root: Path, stage: str, options: Options) -> str:
    """The command that continues this build directory from ``stage`` with the options it ran
    with (so the Vivado machine does not retrain another recipe), quoted for a POSIX shell."""
    args = ["qnnc", "build", spec_path, "--out", str(root), "--from", stage, *options.train_args()]
    return shlex.join(args)


def _record_failure(record: BuildRecord, stage: str, inputs: str, exc: Exception, seconds: float, log) -> None:
    """Note the failure in build.json; if even that fails (a full disk), say so and let the
    stage's own error through: recording a failure never hides it."""
    try:
        record.record(stage, status="failed", inputs=inputs, error=str(exc), seconds=round(seconds, 3))
    except OSError as err:
        log(f"note: the failure could not be recorded in {record.path} ({err.strerror})")


def log_summary(record: BuildRecord, comp: Compilation, root: Path, log) -> None:
    stages = record.data["stages"]
    lines = [f"summary of {root}:"]
    train = stages.get("train", {}).get("outputs")
    if train:
        lines.append(f"  test accuracy   {train['test_accuracy'] * 100:.2f} %  (metrics.json, model.pt)")
    est = stages.get("estimate", {}).get("outputs")
    if est and stages["estimate"].get("status") == "done":
        lines.append(f"  throughput      {est['fps']:,.0f} FPS at {comp.spec.target.clock_mhz:g} MHz, "
                     f"latency {est['latency_ns'] / 1000:.2f} us, bottleneck {est['bottleneck']}")
        if est.get("io_cycles"):
            lines.append(f"  I/O             {_io_text(est, comp.spec.target.clock_mhz)}")
        for key in ("LUT", "BRAM_18K", "DSP"):
            lines.append(f"  {key:<15} {est['resources'][key]:>8,.0f} of {est['capacity'][key]:,} "
                         f"({est['utilization'][key] * 100:.1f} %) on {comp.spec.target.board}")
        if "power" in est:
            power = est["power"]
            lines.append(f"  energy          {power['energy_per_inference_uj']:.4f} uJ per inference at "
                         f"{power['total_w']:.3f} W ({_power_source(power)})")
            lines.append(f"  folding         {est['folding']['mode']}: finn/folding_config.json, plot estimate.png")
        lines.append("  FINN reports    finn/report/, models per step in finn/intermediate_models/")
    if len(lines) > 1:
        for line in lines:
            log(line)


def estimate_untrained(comp: Compilation, root: Path, log=print) -> dict:
    """generate -> initial weights -> export -> FINN estimate (with qnnc's folding)."""
    plan = comp.plan
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root):
        return _estimate_untrained(comp, root, plan, log)


def _estimate_untrained(comp: Compilation, root: Path, plan, log) -> dict:
    from qnnc.backends.export import export
    from qnnc.backends.finn import estimate
    from qnnc.backends.untrained import write_untrained
    from qnnc.build.stages import generate_files, run_backend

    ctx = Context(root=root, plan=plan, spec=comp.spec, options=Options(), log=log, source=comp.source)
    generate_files(ctx)
    for name, fn in (("init", write_untrained), ("export", export), ("estimate", estimate)):
        t0 = time.perf_counter()
        summary = run_backend(name, fn, ctx)
        log(f"[{name}] done in {time.perf_counter() - t0:.1f} s")
    summary["board"] = comp.spec.target.board
    summary["clock_mhz"] = comp.spec.target.clock_mhz
    return summary


def folding_text(attrs: dict) -> str:
    short = {"PE": "pe", "SIMD": "simd", "ram_style": "ram", "parallel_window": "pw"}
    return " ".join(f"{short.get(k, k)} {v}" for k, v in attrs.items() if k in short and v != "auto")


def format_estimate(summary: dict) -> str:
    rows = [f"{'FINN unit':<32} {'spec layer':<10} {'folding':<26} {'cycles':>8} {'LUT':>7} {'BRAM18':>6} {'DSP':>4}"]
    for row in summary["per_layer"]:
        rows.append(f"{row['node']:<32} {row['layer'] or '-':<10} {folding_text(row['folding']):<26} "
                    f"{row['cycles']:>8} {row['LUT']:>7.0f} {row['BRAM_18K']:>6} {row['DSP']:>4}")
    util, folding, power = summary["utilization"], summary["folding"], summary["power"]
    caps = {k: folding["budget"][k] / folding["capacity"][k] for k in util}
    rows += [
        "",
        f"folding        {folding['mode']} (qnnc; FINN's cost models), written to finn/folding_config.json",
        f"throughput     {summary['fps']:,.0f} FPS at {summary['clock_mhz']:g} MHz, latency "
        f"{summary['latency_ns'] / 1000:.2f} us, bottleneck {summary['bottleneck']}",
        f"I/O            {_io_text(summary, summary['clock_mhz'])}",
        f"{summary['board']:<14} " + ", ".join(f"{k} {util[k] * 100:.1f} % (cap {caps[k] * 100:.0f} %)" for k in util),
        f"power          {power['total_w']:.3f} W ({power['static_w']:.3f} static + {power['dynamic_w']:.3f} dynamic), "
        f"{_power_source(power)}",
        f"               {power['system_w']:.3f} W with the processing system ({power['ps_w']:.3f} W, not the "
        "accelerator's: left out of the energy)",
        f"energy         {power['energy_per_inference_uj']:.4f} uJ per inference (accelerator power / FPS)",
        f"plot           {summary.get('plot')}",
    ]
    return "\n".join(rows)


def _io_text(summary: dict, clock_mhz: float) -> str:
    """The board's I/O ceiling and whether it bounds the design."""
    dma = summary.get("io_cycles") or {}
    if not dma:
        return "not modelled"
    parts = ", ".join(f"{name} {cycles} cycles" for name, cycles in sorted(dma.items()))
    bound = "bounds the design" if summary.get("bound_by") == "I/O" else \
        f"the layers alone would give {summary['fps_layers']:,.0f} FPS"
    return f"{parts} per frame: at most {summary['fps_io']:,.0f} FPS at {clock_mhz:g} MHz; {bound}"


def _power_source(power: dict) -> str:
    if power["source"] == "estimate" and power.get("calibrated", True):
        return "an estimate from resources and clock, calibrated on published Vivado reports (qnnc/hw/power.py)"
    if power["source"] == "estimate":
        return f"an estimate from resources and clock, {power['basis']}"
    return f"from Vivado's report_power ({power['basis']})"
