"""Early stopping of hopeless trials, with Optuna's own pruners, on validation accuracy.

Optuna cannot prune the trials of a multi-objective study (``Trial.report`` refuses), and a
sweep's study has two objectives. So every sweep trial has a twin in a second,
single-objective study of the same storage, ``<study>-curves``: the trial's validation
accuracy after each training epoch is reported there, and the sweep's pruner decides on it.
Workers that share a storage share the curves too, so ``median`` compares with every
worker's trials.

- ``plateau``: a trial is stopped when its validation accuracy is below the accuracy the sweep
  asks for and has not improved for ``patience`` epochs.
- ``median``: Optuna's ``MedianPruner``: stopped when below the median of earlier trials at
  the same epoch, after ``patience`` warm-up epochs and two finished trials.
"""

from __future__ import annotations

import json
from pathlib import Path

from qnnc.runtime import CURVE

MIN_IMPROVEMENT = 1e-3  # a validation accuracy change smaller than this is no improvement


def patience_of(sweep, epochs: int) -> int:
    """Epochs without improvement (plateau) or of warm-up (median) before a trial can be stopped:
    the sweep's ``patience``, else a third of a trial's ``epochs`` (at least 2). A decaying
    learning rate (cosine, the default) makes a training's largest gains in its last epochs,
    after flat stretches that a short patience takes for a plateau."""
    return sweep.patience or max(2, epochs // 3)


def make_pruner(sweep, epochs: int):
    """The Optuna pruner for a sweep block whose trials train ``epochs`` epochs (Optuna's
    NopPruner when trials run to the end)."""
    import optuna

    kind, patience = sweep.stopping, patience_of(sweep, epochs)
    if kind == "plateau":
        return plateau_pruner(sweep.min_accuracy, patience)
    if kind == "median":  # steps are 1-based epochs: the first `patience` ones are warm-up
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=patience + 1)
    return optuna.pruners.NopPruner()


def plateau_pruner(min_accuracy: float, patience: int):
    """An Optuna pruner: the latest value is below ``min_accuracy`` and the best of the last
    ``patience`` steps beats the best before them by less than ``MIN_IMPROVEMENT``. (Optuna's
    PatientPruner only prunes a curve that got worse, so a flat curve would run on.)"""
    import optuna

    class PlateauPruner(optuna.pruners.BasePruner):
        def prune(self, study, trial) -> bool:
            values = [trial.intermediate_values[s] for s in sorted(trial.intermediate_values)]
            if len(values) <= patience or values[-1] >= min_accuracy:
                return False
            return max(values[-patience:]) < max(values[:-patience]) + MIN_IMPROVEMENT

    return PlateauPruner()


def curves_name(study: str) -> str:
    return f"{study}-curves"


def read_curve(build_dir: Path) -> list[dict]:
    """The epochs a trial's training has finished so far (the trainer rewrites the file
    atomically after every epoch)."""
    path = Path(build_dir) / CURVE
    if not path.exists():
        return []
    return json.loads(path.read_text())


class Watch:
    """A trial's learning curve in the curves study: report new epochs, ask the pruner."""

    def __init__(self, curves, number: int):
        self.curves, self.pruner = curves, curves.pruner
        self.twin = curves.ask()
        self.twin.set_user_attr("sweep_trial", number)
        self.reported = 0
        self.last: float | None = None

    def update(self, curve: list[dict]) -> str | None:
        """Report the training epochs not yet reported; the reason to stop, if the pruner says so."""
        rows = [r for r in curve if r.get("phase") == "train" and "val_accuracy" in r]
        for row in rows[self.reported:]:
            self.last = row["val_accuracy"]
            self.twin.report(self.last, row["epoch"])
            self.reported += 1
            if self.twin.should_prune():
                return (f"stopped early at epoch {row['epoch']}: validation accuracy {self.last * 100:.2f} % "
                        f"({self.describe()})")
        return None

    def describe(self) -> str:
        import optuna

        if isinstance(self.pruner, optuna.pruners.MedianPruner):
            return "below the median of earlier trials at this epoch"
        return "below min_accuracy and no longer improving"

    def close(self, stopped: bool = False, failed: bool = False) -> None:
        import optuna

        state = (optuna.trial.TrialState.PRUNED if stopped else optuna.trial.TrialState.FAIL if failed
                 or self.last is None else optuna.trial.TrialState.COMPLETE)
        self.curves.tell(self.twin, self.last if state == optuna.trial.TrialState.COMPLETE else None, state=state)
