"""`qnnc sweep`: an Optuna study over the sweep's parameters, each trial a `qnnc build` of the
trial's spec (train, export, verify, estimate) in its own process and directory.

Objectives: validation accuracy (maximise: samples held out of each trial's training set, so
the design is not chosen on the test set that reports it) and estimated energy per inference
(minimise); the ``min_accuracy`` is an Optuna constraint on the validation accuracy. Storage is
any Optuna RDB URL: SQLite in the sweep directory by default, PostgreSQL to share one study
between many workers (processes on one or many machines, or Ray tasks on a Ray cluster:
``qnnc.study.run.run_on_ray``). Trials heartbeat: a trial whose worker died is failed and its
configuration retried. Finished configurations are never retrained: the study remembers them,
and their build directories are up to date.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from qnnc.errors import QnncError, Source
from qnnc.fsutil import write_text_atomic
from qnnc.study.early_stopping import Watch, curves_name, make_pruner, read_curve
from qnnc.study.rewrite import trial_text
from qnnc.study.space import grid_size, parameters, trial_key, weight_layers

DIRECTIONS = ("maximize", "minimize")  # validation accuracy, energy per inference
WAIT_S = 2  # between looks at trials that other workers run


class TrialFailedError(QnncError):
    """A trial's design was refused (lint, FINN, a fit) or its build failed; recorded, not fatal."""


@dataclass(frozen=True)
class SweepConfig:
    spec_path: str
    root: str  # the sweep directory
    storage: str  # an Optuna RDB URL
    study: str
    epochs: int | None = None
    samples: int | None = None
    test_samples: int | None = None
    jobs: int = 1  # trials at once in this process
    heartbeat_s: int = 20  # a trial whose worker is silent for 3 heartbeats is failed and retried

    def trial_epochs(self, sweep) -> int | None:
        """The epochs every trial is told to train: the command line's, else the sweep block's;
        None leaves each trial its train block's."""
        return self.epochs or sweep.epochs


def default_storage(root: Path) -> str:
    return f"sqlite:///{Path(root).resolve() / 'study.db'}"


def open_study(config: SweepConfig, spec):
    """Create or load the study (heartbeats on, so a dead worker's trial is retried)."""
    import warnings

    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # qnnc prints each trial's outcome, without tracebacks

    def create():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = RDBStorage(config.storage, heartbeat_interval=config.heartbeat_s,
                                 grace_period=3 * config.heartbeat_s,
                                 heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
        return optuna.create_study(study_name=config.study, storage=storage, directions=list(DIRECTIONS),
                                   sampler=sampler(spec), load_if_exists=True)
    return racing(create, config.storage)


def open_curves(config: SweepConfig, spec):
    """The single-objective twin study that holds the trials' learning curves (pruning); its
    trials are asked and told by hand, so its storage has no heartbeat."""
    import optuna

    epochs = config.trial_epochs(spec.sweep) or spec.train.epochs
    return racing(lambda: optuna.create_study(study_name=curves_name(config.study), storage=config.storage,
                                              direction="maximize", pruner=make_pruner(spec.sweep, epochs),
                                              load_if_exists=True), config.storage)


CORRUPT = ("malformed", "not a database", "file is encrypted")


class CorruptStudyError(QnncError):
    def __init__(self, reason: str, storage: str):
        where = storage.removeprefix("sqlite:///")
        super().__init__(f"the sweep's study storage {where} cannot be read ({reason}). Move it aside (e.g. mv "
                         f"{where} {where}.bad) and rerun: a new study starts, and trials whose builds are "
                         "complete are not retrained")


def racing(create, storage: str, attempts: int = 5):
    """Workers starting together race to create the storage's tables and types and a study;
    the loser of a race finds them made and loads them on its next attempt."""
    import time

    import optuna
    from sqlalchemy.exc import DatabaseError, IntegrityError

    for attempt in range(attempts):
        try:
            return create()
        except (IntegrityError, optuna.exceptions.DuplicatedStudyError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
        except DatabaseError as exc:
            if made_meanwhile(exc) and attempt < attempts - 1:  # another worker created a table or type first
                time.sleep(0.5 * (attempt + 1))
                continue
            if not any(word in str(exc.orig) for word in CORRUPT):
                raise
            raise CorruptStudyError(str(exc.orig), storage) from exc
    raise AssertionError("unreachable")


DUPLICATE_STATES = ("42P07", "42710")  # PostgreSQL: duplicate table, duplicate object (an enum type)


def made_meanwhile(exc) -> bool:
    """Whether creating failed because the table or type already exists."""
    return getattr(exc.orig, "sqlstate", None) in DUPLICATE_STATES or "already exists" in str(exc.orig)


def sampler(spec):
    import optuna

    sweep, params = spec.sweep, parameters(spec)
    kind = sweep.sampler
    if kind == "auto":
        kind = "grid" if sweep.trials is None or grid_size(params) <= sweep.trials else "nsga2"
    constraints = _constraints if sweep.min_accuracy is not None else None
    if kind == "grid":
        return optuna.samplers.GridSampler({k: list(v) for k, v in params.items()}, seed=sweep.seed)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=sweep.seed, constraints_func=constraints)
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=sweep.seed, constraints_func=constraints)
    return optuna.samplers.RandomSampler(seed=sweep.seed)


def _constraints(frozen_trial) -> list[float]:
    """<= 0 when feasible: accuracy at least min_accuracy."""
    return [frozen_trial.user_attrs.get("constraint", 1.0)]


def planned_trials(spec) -> int:
    return spec.sweep.trials or grid_size(parameters(spec))


def configuration_trials(study, states) -> list:
    """The trials in ``states`` that stand for their configuration: not a duplicate draw of a
    configuration another trial runs, and not a dead worker's trial that a later one retried."""
    trials = study.get_trials(deepcopy=False, states=states)
    stale = {t.system_attrs["failed_trial"] for t in study.get_trials(deepcopy=False)
             if "failed_trial" in t.system_attrs}
    return [t for t in trials if t.number not in stale and "duplicate_of" not in t.user_attrs]


def reported_trials(study) -> list:
    """The trials a report shows: every configuration's trial that is not running."""
    import optuna

    state = optuna.trial.TrialState
    return configuration_trials(study, (state.COMPLETE, state.FAIL, state.PRUNED, state.WAITING))


def finished(study) -> int:
    """Configurations done (completed, failed or stopped early)."""
    import optuna

    state = optuna.trial.TrialState
    return len(configuration_trials(study, (state.COMPLETE, state.FAIL, state.PRUNED)))


def duplicate_of(study, number: int, params: dict) -> int | None:
    """An earlier live trial of the same configuration (two workers can draw the same grid
    point at once; the lower-numbered one runs it)."""
    import optuna

    state = optuna.trial.TrialState
    live = configuration_trials(study, (state.RUNNING, state.COMPLETE, state.FAIL, state.PRUNED))
    return next((t.number for t in live if t.number < number and t.params == params), None)


class Objective:
    """One trial: the trial's spec, linted; then `qnnc build --until estimate` in a subprocess,
    stopped early when the sweep's pruner finds its validation accuracy hopeless."""

    def __init__(self, config: SweepConfig, comp, on_line=None, curves=None):
        self.config, self.comp = config, comp
        self.params = parameters(comp.spec)
        self.names = weight_layers(comp.spec)
        self.on_line = on_line or (lambda number, line: None)
        self.curves = curves  # the learning-curve study, None when no trial is ever stopped early

    def __call__(self, trial) -> tuple[float, float]:
        import optuna

        values = {k: trial.suggest_categorical(k, list(v)) for k, v in self.params.items()}
        earlier = duplicate_of(trial.study, trial.number, values)
        if earlier is not None:
            trial.set_user_attr("duplicate_of", earlier)
            raise optuna.TrialPruned(f"the same configuration as trial {earlier}")
        folder = Path(self.config.root) / "trials" / trial_key(values)
        trial.set_user_attr("dir", str(folder))
        watch = Watch(self.curves, trial.number) if self.curves is not None else None
        try:
            result = self.run(values, folder, trial.number, watch)
        except TrialFailedError as exc:
            trial.set_user_attr("error", str(exc))
            _close(watch, failed=True)
            raise
        except optuna.TrialPruned as exc:
            trial.set_user_attr("stopped_early", str(exc))
            _close(watch, stopped=True)
            raise
        _close(watch)
        trial.set_user_attr("result", result)
        min_acc = self.comp.spec.sweep.min_accuracy
        trial.set_user_attr("constraint", (min_acc - result["val_accuracy"]) if min_acc is not None else 0.0)
        return result["val_accuracy"], result["energy_uj"]

    def run(self, values: dict, folder: Path, number: int, watch: Watch | None = None) -> dict:
        from qnnc.compiler import Compilation

        spec_path = folder / "spec.qnn"
        text = trial_text(self.comp.module, self.comp.source, self.names, values)
        write_text_atomic(spec_path, text)
        errors = [d for d in Compilation(Source(text, str(spec_path))).diagnostics() if d.is_error]
        if errors:
            raise TrialFailedError("lint: " + "; ".join(f"{d.code} {d.message}" for d in errors))
        self._build(spec_path, folder / "build", number, watch)
        return read_result(folder / "build")

    def build_command(self, spec_path: Path, out: Path) -> list[str]:
        sweep = self.comp.spec.sweep
        cmd = [sys.executable, "-m", "qnnc", "build", str(spec_path), "--out", str(out), "--until", "estimate"]
        for flag, value in (("--epochs", self.config.trial_epochs(sweep)),
                            ("--samples", self.config.samples or sweep.samples),
                            ("--test-samples", self.config.test_samples),
                            ("--validation", sweep.validation)):
            if value is not None:
                cmd += [flag, str(value)]
        return cmd

    def _build(self, spec_path: Path, out: Path, number: int, watch: Watch | None) -> None:
        """Run the trial's build, its output copied to the trial's log. Each line it prints (the
        trainer prints one per epoch, after writing curve.json) is only a signal to look: what
        the trial has done is read from the files it writes (build.json, curve.json), so a
        hopeless training is stopped at the epoch that made it hopeless."""
        import optuna

        cmd = self.build_command(spec_path, out)
        log = out.parent / "build.log"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as sink:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            shown = None
            try:
                for line in proc.stdout:
                    sink.write(line)
                    curve = read_curve(out)
                    now = progress(out, curve)
                    if now != shown:
                        self.on_line(number, now)
                        shown = now
                    reason = watch.update(curve) if watch is not None else None
                    if reason:
                        sink.write(f"qnnc sweep: {reason}\n")
                        raise optuna.TrialPruned(reason)
                code = proc.wait()
            except BaseException:  # stopped early, interrupted, or the storage failed: no build runs on
                _stop(proc)
                raise
        if code != 0:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-8:]
            reason = next((ln for ln in reversed(tail) if "error" in ln.lower()), tail[-1] if tail else "")
            raise TrialFailedError(f"build exited with code {code}: {reason.strip()} (log: {log})")
        if watch is not None:
            watch.update(read_curve(out))  # a training that was already done reported nothing yet


def progress(build_dir: Path, curve: list[dict]) -> str:
    """A trial's progress from its files: the last training epoch (curve.json) while it trains,
    else the stages build.json records as done."""
    try:
        stages = json.loads((build_dir / "build.json").read_text())["stages"]
    except (OSError, ValueError, KeyError):  # not written yet, or being replaced
        stages = {}
    done = [name for name, entry in stages.items() if entry.get("status") == "done"]
    if "train" not in done and curve:
        row = curve[-1]
        val = f", validation accuracy {row['val_accuracy'] * 100:.2f} %" if "val_accuracy" in row else ""
        return f"train: epoch {row['epoch']}{val}"
    return f"{done[-1]} done" if done else "starting"


def _stop(proc: subprocess.Popen) -> None:
    """End a trial's build and the training it started."""
    import psutil

    try:
        tree = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
    except psutil.NoSuchProcess:
        return
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(tree, timeout=30)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    proc.wait()


def _close(watch: Watch | None, **state) -> None:
    if watch is not None:
        watch.close(**state)


def read_result(build_dir: Path) -> dict:
    stages = json.loads((build_dir / "build.json").read_text())["stages"]
    train, est = stages["train"]["outputs"], stages["estimate"]["outputs"]
    return {
        "val_accuracy": train["validation_accuracy"], "test_accuracy": train["test_accuracy"],
        "energy_uj": est["power"]["energy_per_inference_uj"],
        "power_w": est["power"]["total_w"], "fps": est["fps"], "LUT": est["resources"]["LUT"],
        "BRAM_18K": est["resources"]["BRAM_18K"], "DSP": est["resources"]["DSP"],
        "bit_exact": stages["verify"]["outputs"].get("bit_exact"),
    }


def work(config: SweepConfig, comp, total: int, on_line=None, callbacks=()) -> None:
    """Run trials of the shared study in this process until ``total`` configurations are done
    (by any worker); a drawn duplicate is dropped (as PRUNED) and another drawn. When every remaining
    configuration is running elsewhere, wait for those workers, so that this one reports the
    whole sweep; a dead worker's trial goes stale and is retried here."""
    study = open_study(config, comp.spec)
    curves = open_curves(config, comp.spec) if comp.spec.sweep.stopping != "none" else None
    objective = Objective(config, comp, on_line, curves)
    draws = 0
    while finished(study) < total:
        if _all_running(study, total):
            _wait_for_others(study)
            continue
        if draws == 3 * total:  # bounded: a sampler that only repeats itself cannot loop forever
            break
        draws += 1
        study.optimize(objective, n_trials=config.jobs, n_jobs=config.jobs, catch=(TrialFailedError,),
                       callbacks=list(callbacks), gc_after_trial=False)


def _wait_for_others(study) -> None:
    """A pause; trials whose worker stopped heartbeating are failed (and so retried)."""
    import time
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    time.sleep(WAIT_S)


def _all_running(study, total: int) -> bool:
    """Every remaining configuration is being run by some worker."""
    import optuna

    running = sum(1 for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)))
    return finished(study) + running >= total
