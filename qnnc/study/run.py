"""Drive a sweep: the trials still to run, here (with a live line per running trial and an
overall bar) or as Ray tasks on a Ray cluster; then the report."""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

from qnnc.report import sweep as report
from qnnc.study import engine


class Progress:
    """One live line per running trial (its latest build stage), and an overall bar."""

    def __init__(self, total: int, done: int):
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self.overall = self.bar.add_task("sweep", total=total, completed=done)
        self.lines: dict[int, int] = {}
        self.lock = threading.Lock()

    def line(self, number: int, text: str) -> None:
        with self.lock:
            if number not in self.lines:
                self.lines[number] = self.bar.add_task(f"  trial {number}", total=None)
            self.bar.update(self.lines[number], description=f"  trial {number}: {text[:90]}")

    def finished(self, study, trial) -> None:
        with self.lock:
            task = self.lines.pop(trial.number, None)
            if task is not None:
                self.bar.remove_task(task)
            if "duplicate_of" in trial.user_attrs:  # another trial runs this configuration
                return
            self.bar.advance(self.overall)
            result = trial.user_attrs.get("result")
            why = trial.user_attrs.get("error") or trial.user_attrs.get("stopped_early", trial.state.name.lower())
            state = (f"validation accuracy {result['val_accuracy'] * 100:.2f} % "
                     f"(test {result['test_accuracy'] * 100:.2f} %), {result['energy_uj']:.4f} uJ" if result else why)
            self.bar.console.print(f"trial {trial.number} {report.format_params(trial.params)}: {state}")


def run_sweep(config: engine.SweepConfig, comp, *, ray_address: str | None = None, workers: int = 1,
              log=print) -> dict:
    spec = comp.spec
    root = Path(config.root)
    root.mkdir(parents=True, exist_ok=True)
    study = engine.open_study(config, spec)
    total = engine.planned_trials(spec)
    remaining = max(0, total - engine.finished(study))
    log(f"sweep {config.study}: {total} trials planned, {total - remaining} finished, {remaining} to run "
        f"(storage {config.storage})")
    if remaining and ray_address:
        run_on_ray(config, comp, total, remaining, ray_address, workers, log)
    elif remaining:
        progress = Progress(total, total - remaining)
        with progress.bar:
            engine.work(config, comp, total, on_line=progress.line, callbacks=[progress.finished])
    summary = report.summarize(engine.reported_trials(engine.open_study(config, spec)), spec, root)
    log(report.format_table(summary))
    best = summary["recommended"]
    log(f"recommended: trial {best}, written to {root / 'best.qnn'}; plot {root / 'pareto.png'}" if best is not None
        else "no trial reached the accuracy asked for; see the table")
    return summary


def run_on_ray(config: engine.SweepConfig, comp, total: int, remaining: int, address: str, workers: int,
               log) -> None:
    """Ray tasks, each an Optuna worker on the shared study until all configurations are done
    (the storage must be reachable from every node: PostgreSQL, or SQLite on one machine)."""
    import ray

    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    workers = min(workers, remaining)
    remote = ray.remote(num_cpus=1)(_ray_worker)
    log(f"ray {address}: {workers} workers on {remaining} trials")
    ray.get([remote.remote(asdict(config), comp.source.text, comp.source.path, total) for _ in range(workers)])


def _ray_worker(config: dict, text: str, path: str, total: int) -> None:
    from qnnc.compiler import Compilation
    from qnnc.errors import Source

    comp = Compilation(Source(text, path))
    engine.work(engine.SweepConfig(**config), comp, total)
