"""The plumbing around a generated training loop: data, phases (train, then prune and
fine-tune), per-epoch checkpoints that survive kill -9, resumption, progress, metrics.

Samples held out of the training set (``Recipe.validation``) are scored after every epoch: the
best epoch of a phase is the model kept (pruned, fine-tuned, exported), and a phase stops after
``Recipe.patience`` epochs without a better one. The test set is scored once, at the end.

The generated train.py owns the learning itself (model, optimizer, schedule, loss, step);
this module calls it.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from qnnc.errors import QnncError
from qnnc.fsutil import write_atomic, write_text_atomic
from qnnc.runtime import CURVE, data, prune

CHECKPOINT = "checkpoints/last.pt"


@dataclass(frozen=True)
class Recipe:
    dataset: str | dict  # a built-in dataset's name, or the user's data (qnnc.runtime.user_data)
    epochs: int
    batch: int
    seed: int
    outputs: int
    samples: int | None = None
    test_samples: int | None = None
    validation: float = 0.0  # share of the training samples held out and scored after every epoch
    patience: int | None = None  # a phase stops after this many epochs without a better validation accuracy
    finetune: int = 0
    sparsity: dict[str, float] = field(default_factory=dict)
    unstructured: dict[str, float] = field(default_factory=dict)
    data_root: str = "."  # the spec's folder: the user's data is found from there
    teacher_epochs: int = 0  # a float teacher trained first, for this many epochs (Hooks.make_teacher)

    def with_overrides(self, **changes) -> Recipe:
        """The recipe with the changes that are set; fewer ``epochs`` cap the teacher's too, so a
        quick run is quick throughout."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if "epochs" in changes and "teacher_epochs" not in changes:
            changes["teacher_epochs"] = min(self.teacher_epochs, changes["epochs"])
        return replace(self, **changes)

    @property
    def phases(self) -> list[tuple[str, int]]:
        pruned = self.sparsity or self.unstructured
        return ([("teacher", self.teacher_epochs)] if self.teacher_epochs else []) + [("train", self.epochs)] + (
            [("finetune", self.finetune)] if pruned and self.finetune else [])


@dataclass
class Hooks:
    """What the generated train.py supplies."""

    make_model: Callable[..., torch.nn.Module]
    make_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer]
    make_schedule: Callable[[torch.optim.Optimizer, int, int], object]
    train_step: Callable[..., tuple[float, torch.Tensor]]
    predict: Callable[[torch.Tensor], torch.Tensor]
    prune_groups: dict
    # with a teacher: its float network, optimizer and step; train_step then takes the teacher too
    make_teacher: Callable[[], torch.nn.Module] | None = None
    make_teacher_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer] | None = None
    teacher_step: Callable[..., tuple[float, torch.Tensor]] | None = None


# ---- data ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tensors:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_val: torch.Tensor | None = None  # held out of the training samples (recipe.validation)
    y_val: torch.Tensor | None = None


def load_tensors(recipe: Recipe) -> Tensors:
    x_tr, y_tr, x_te, y_te = data.load(recipe.dataset, recipe.data_root)
    rng = np.random.default_rng(recipe.seed)
    if recipe.samples is not None and recipe.samples < len(x_tr):
        pick = rng.permutation(len(x_tr))[: recipe.samples]
        x_tr, y_tr = x_tr[pick], y_tr[pick]
    if recipe.test_samples is not None and recipe.test_samples < len(x_te):
        x_te, y_te = x_te[: recipe.test_samples], y_te[: recipe.test_samples]
    as_float = lambda a: torch.from_numpy(a.astype(np.float32))  # noqa: E731 - raw values, model scales
    held = validation_split(len(x_tr), recipe.validation, recipe.seed)
    if held is None:
        return Tensors(as_float(x_tr), torch.from_numpy(y_tr), as_float(x_te), torch.from_numpy(y_te))
    train, val = held
    return Tensors(as_float(x_tr[train]), torch.from_numpy(y_tr[train]), as_float(x_te), torch.from_numpy(y_te),
                   as_float(x_tr[val]), torch.from_numpy(y_tr[val]))


def validation_split(n: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Indices of the samples kept for training and of those held out for validation: a seeded
    random ``share`` of ``n``, at least one sample each; None when nothing is held out."""
    held = min(n - 1, max(1, round(n * share))) if share > 0 and n > 1 else 0
    if not held:
        return None
    order = np.random.default_rng(seed + 1).permutation(n)
    return np.sort(order[held:]), np.sort(order[:held])


def batches(x, y, size: int, generator: torch.Generator):
    order = torch.randperm(len(x), generator=generator)
    for i in range(0, len(x), size):
        idx = order[i: i + size]
        yield x[idx], y[idx]


@torch.no_grad()
def accuracy(model, predict, x, y, size: int = 1024) -> float:
    model.eval()
    correct = sum(int((predict(model.logits(x[i: i + size])) == y[i: i + size]).sum())
                  for i in range(0, len(x), size))
    return correct / max(1, len(x))


# ---- checkpoints --------------------------------------------------------------------------------
DISK_FULL_BYTES = 1 << 20  # less free space than this after a failed save: the disk is full


def save_atomic(obj, path: Path) -> None:
    def save(tmp: Path) -> None:
        torch.save(obj, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())

    try:
        write_atomic(path, save)
    except Exception as exc:
        if shutil.disk_usage(path.parent).free < DISK_FULL_BYTES:
            # torch reports a full disk as "unexpected pos"; say what it is, where, and what to do
            raise SystemExit(f"train.py: error: no space left on the device to write {path}; free some space "
                             "and rerun: training resumes from its last checkpoint") from exc
        raise


def write_json_atomic(obj, path: Path) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("torch", "brevitas", "qnnc"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


# ---- the run ------------------------------------------------------------------------------------
class _State:
    """Everything a checkpoint holds, so a killed run continues where it stopped."""

    def __init__(self, hooks: Hooks, recipe: Recipe, steps_per_epoch: int):
        self.hooks, self.recipe, self.steps = hooks, recipe, steps_per_epoch
        self.model = hooks.make_model()
        self.teacher = hooks.make_teacher() if recipe.teacher_epochs else None
        self.epoch = 0
        self.history: list[dict] = []
        self.masks: dict = {}
        self.wall = 0.0
        self.best: dict | None = None  # this phase's best epoch by validation accuracy, with its weights
        self.kept: dict | None = None  # the best epoch of the last phase that ended: the model kept
        self.teacher_kept: dict | None = None  # the teacher's best epoch
        self.start_phase(*recipe.phases[0])

    def start_phase(self, phase: str, epochs: int) -> None:
        self.phase = phase
        make = self.hooks.make_teacher_optimizer if phase == "teacher" else self.hooks.make_optimizer
        self.optimizer = make(self.trained)
        self.schedule = self.hooks.make_schedule(self.optimizer, max(1, epochs), self.steps)

    @property
    def trained(self) -> torch.nn.Module:
        """The network this phase trains: the teacher in its phase, the model after it."""
        return self.teacher if self.phase == "teacher" else self.model

    def step(self, x, y) -> tuple[float, torch.Tensor]:
        if self.phase == "teacher":
            return self.hooks.teacher_step(self.teacher, self.optimizer, x, y)
        taught = () if self.teacher is None else (self.teacher,)
        return self.hooks.train_step(self.model, self.optimizer, x, y, *taught)

    def prune(self) -> None:
        recipe = self.recipe
        if recipe.sparsity:
            keep = prune.choose_kept(self.model, recipe.sparsity)
            widths = {**self.model.widths, **{k: len(v) for k, v in keep.items()}}
            smaller = self.hooks.make_model(widths=widths)
            prune.transfer(self.model, smaller, keep, self.hooks.prune_groups)
            self.model = smaller
        if recipe.unstructured:
            self.masks = prune.unstructured_masks(self.model, recipe.unstructured)
            self.apply_masks()

    def score(self, row: dict) -> None:
        """Keep this epoch's weights if its validation accuracy is the phase's best (the earlier
        epoch wins a tie)."""
        if self.best is None or row["val_accuracy"] > self.best["val_accuracy"]:
            self.best = {"epoch": row["epoch"], "val_accuracy": row["val_accuracy"],
                         "model": copy.deepcopy(self.trained.state_dict())}

    def stale(self) -> bool:
        """The phase has gone ``patience`` epochs without a better validation accuracy."""
        patience = self.recipe.patience
        return self.best is not None and patience is not None and self.epoch - self.best["epoch"] >= patience

    def finish_phase(self) -> None:
        """The phase's best epoch becomes the network it trained (the last epoch's when nothing
        is held out); a teacher is then fixed, for the phases after it."""
        if self.best is not None:
            self.trained.load_state_dict(self.best["model"])
            kept = {"epoch": self.best["epoch"], "val_accuracy": self.best["val_accuracy"]}
            if self.phase == "teacher":
                self.teacher_kept = kept
            else:
                self.kept = kept
        if self.teacher is not None:
            self.teacher.eval()
        self.best = None

    def apply_masks(self) -> None:
        with torch.no_grad():
            for name, mask in self.masks.items():
                getattr(self.model, name).weight.mul_(mask)

    def to_checkpoint(self, generator: torch.Generator) -> dict:
        return {
            "epoch": self.epoch, "phase": self.phase, "widths": self.model.widths,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(), "history": self.history, "masks": self.masks,
            "wall": self.wall, "rng": torch.get_rng_state(), "generator": generator.get_state(),
            "calibration": calibration_state(self.model), "recipe": asdict(self.recipe),
            "best": self.best, "kept": self.kept, "teacher_kept": self.teacher_kept,
            "teacher": None if self.teacher is None else self.teacher.state_dict(),
        }

    def restore(self, ckpt: dict, generator: torch.Generator, epochs_in_phase: int) -> None:
        if ckpt["phase"] != "teacher":  # while the teacher learns, the model is still as the seed made it
            # (Brevitas cannot load the state dict of a model that never ran)
            self.model = self.hooks.make_model(widths=ckpt["widths"])
            self.model.load_state_dict(ckpt["model"])
            restore_calibration(self.model, ckpt.get("calibration", {}))
        self.start_phase(ckpt["phase"], epochs_in_phase)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.schedule.load_state_dict(ckpt["schedule"])
        self.epoch, self.history, self.masks, self.wall = ckpt["epoch"], ckpt["history"], ckpt["masks"], ckpt["wall"]
        self.best, self.kept, self.teacher_kept = ckpt.get("best"), ckpt.get("kept"), ckpt.get("teacher_kept")
        if self.teacher is not None:
            self.teacher.load_state_dict(ckpt["teacher"])
            self.teacher.train(self.phase == "teacher")
        torch.set_rng_state(ckpt["rng"])
        generator.set_state(ckpt["generator"])


CALIBRATION_TENSORS = ("buffer", "value", "running_stats")


def calibration_state(model) -> dict:
    """What Brevitas keeps outside the state dict while it calibrates: a quantizer that scales
    from runtime statistics counts its first training steps (300 by default) in a plain
    attribute, and its state dict stores the statistics in place of the learned value; loading
    it marks the calibration finished. A checkpoint taken mid-calibration must carry the counter
    and the live tensors, or a resumed training differs from an uninterrupted one."""
    found = {}
    for name, module in model.named_modules():
        counter = getattr(module, "counter", None)
        if isinstance(counter, int) and not isinstance(counter, bool):
            tensors = {k: getattr(module, k).detach().clone() for k in CALIBRATION_TENSORS
                       if isinstance(getattr(module, k, None), torch.Tensor)}
            found[name] = {"counter": counter, **tensors}
    return found


def restore_calibration(model, state: dict) -> None:
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, saved in state.items():
            module = modules[name]
            module.counter = saved["counter"]
            for key in CALIBRATION_TENSORS:
                if key in saved:
                    getattr(module, key).copy_(saved[key])


def resumable(path: Path, recipe: Recipe, log) -> dict | None:
    """The checkpoint to resume from: one of this very recipe. A checkpoint of another recipe
    (other epochs, samples, seed...) or one that cannot be read is set aside, saying so, and the
    training starts over: never resumed under the wrong label, never a traceback."""
    if not path.exists():
        return None
    try:
        ckpt = torch.load(path, weights_only=False)
        ckpt["phase"], ckpt["epoch"]  # noqa: B018 - a checkpoint without them is not one of ours
    except Exception as exc:  # noqa: BLE001 - truncated, garbage or empty: all mean "unreadable"
        aside = path.with_name(path.name + ".unreadable")
        path.replace(aside)
        log(f"{path.name} cannot be read ({type(exc).__name__}: {str(exc)[:120]}); moved to {aside.name}, "
            "training starts over")
        return None
    if ckpt.get("recipe") != asdict(recipe):
        theirs = ckpt.get("recipe") or {}
        changed = sorted(k for k in asdict(recipe) if theirs.get(k) != asdict(recipe)[k])
        log(f"{path.name} belongs to another recipe (differs in {', '.join(changed) or 'its format'}); "
            "training starts over")
        return None
    return ckpt


def fit(hooks: Hooks, recipe: Recipe, out_dir: Path, *, log: Callable[[str], None] = print) -> dict:
    """Train (and prune and fine-tune) per ``recipe``; return and write metrics.json."""
    out_dir = Path(out_dir)
    generator = seed_everything(recipe.seed)
    try:
        tensors = load_tensors(recipe)
    except QnncError as exc:  # missing or damaged data: the file and the fix, not a traceback
        raise SystemExit(f"train.py: error: {exc}") from exc
    x_tr, y_tr, x_te, y_te = tensors.x_train, tensors.y_train, tensors.x_test, tensors.y_test
    steps = -(-len(x_tr) // recipe.batch)
    state = _State(hooks, recipe, steps)
    phases = recipe.phases
    total = sum(n for _, n in phases)
    ckpt_path = out_dir / CHECKPOINT
    ckpt = resumable(ckpt_path, recipe, log)
    if ckpt is not None:
        state.restore(ckpt, generator, dict(phases)[ckpt["phase"]])
        log(f"resuming from {CHECKPOINT}: {state.epoch} of {total} epochs done")
    progress = _Progress(total, steps, log)
    while state.epoch < total:
        phase, first_epoch_of_phase = _phase_of(phases, state.epoch)
        phase_end = first_epoch_of_phase + dict(phases)[phase]
        if phase != state.phase:
            state.finish_phase()
            if phase == "finetune":
                state.prune()
            state.start_phase(phase, dict(phases)[phase])
        start = time.perf_counter()
        loss, acc = _run_epoch(state, x_tr, y_tr, recipe.batch, generator, progress)
        seconds = time.perf_counter() - start
        state.wall += seconds
        state.epoch += 1
        row = {
            "epoch": state.epoch, "phase": phase, "loss": round(loss, 6), "train_accuracy": round(acc, 6),
            "seconds": round(seconds, 3), "samples_per_s": round(len(x_tr) / seconds, 1),
        }
        if tensors.x_val is not None:
            row["val_accuracy"] = round(accuracy(state.trained, hooks.predict, tensors.x_val, tensors.y_val), 6)
            state.score(row)
            if state.stale() and state.epoch < phase_end:
                row["stopped"] = f"no better validation accuracy since epoch {state.best['epoch']}"
                state.epoch = phase_end  # on to the next phase, if any
        state.history.append(row)
        save_atomic(state.to_checkpoint(generator), ckpt_path)
        write_json_atomic(state.history, out_dir / CURVE)
        progress.epoch_done(row)
    progress.close()
    state.finish_phase()
    if (recipe.sparsity or recipe.unstructured) and state.phase == "train":
        state.prune()  # no fine-tuning epochs: prune the kept model as it is
    save_atomic({"widths": state.model.widths, "model": state.model.state_dict()}, out_dir / "model.pt")
    final = accuracy(state.model, hooks.predict, x_te, y_te)  # the one look at the test set
    kept = state.kept or {}
    metrics = {
        "dataset": recipe.dataset, "train_samples": len(x_tr), "test_samples": len(x_te),
        "validation_samples": 0 if tensors.x_val is None else len(tensors.x_val),
        "test_accuracy": round(final, 6), "validation_accuracy": kept.get("val_accuracy"),
        "kept_epoch": kept.get("epoch", state.epoch), "epochs_run": len(state.history),
        "curve": state.history, "wall_time_s": round(state.wall, 3),
        "seed": recipe.seed, "epochs": total, "widths": state.model.widths, "versions": versions(),
        "parameters": sum(p.numel() for p in state.model.parameters()),
        "teacher": None if state.teacher is None else {"epochs": recipe.teacher_epochs, **(state.teacher_kept or {})},
    }
    write_json_atomic(metrics, out_dir / "metrics.json")
    chose = (f"kept epoch {kept['epoch']} (validation accuracy {kept['val_accuracy'] * 100:.2f} %); "
             if kept else "")
    log(f"{chose}test accuracy {final * 100:.2f} % on {len(x_te)} samples; metrics in {out_dir / 'metrics.json'}")
    return metrics


def _phase_of(phases, epoch: int) -> tuple[str, int]:
    start = 0
    for name, n in phases:
        if epoch < start + n:
            return name, start
        start += n
    return phases[-1][0], start


def _run_epoch(state: _State, x, y, batch: int, generator, progress) -> tuple[float, float]:
    state.trained.train()
    total_loss, correct, seen = 0.0, 0, 0
    for xb, yb in batches(x, y, batch, generator):
        loss, logits = state.step(xb, yb)
        state.schedule.step()
        if state.masks:
            state.apply_masks()
        total_loss += loss * len(xb)
        correct += int((state.hooks.predict(logits.detach()) == yb).sum())
        seen += len(xb)
        progress.step(state.epoch + 1, total_loss / seen, correct / seen, len(xb))
    return total_loss / max(1, seen), correct / max(1, seen)


class _Progress:
    """A live bar on a terminal; one line per epoch elsewhere (CI logs)."""

    def __init__(self, epochs: int, steps: int, log):
        self.epochs, self.steps, self.log = epochs, steps, log
        self.live = sys.stderr.isatty()
        self.bar = None
        self.t0 = time.perf_counter()
        self.samples = 0
        if self.live:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                                TextColumn("loss {task.fields[loss]:.4f} acc {task.fields[acc]:.3f} "
                                           "{task.fields[rate]:.0f} samples/s"), TimeRemainingColumn())
            self.bar.start()
            self.task = self.bar.add_task("train", total=steps, epoch=1, epochs=epochs, loss=0.0, acc=0.0, rate=0.0)

    def step(self, epoch: int, loss: float, acc: float, n: int) -> None:
        self.samples += n
        if self.bar is not None:
            rate = self.samples / max(1e-9, time.perf_counter() - self.t0)
            self.bar.update(self.task, advance=1, epoch=epoch, loss=loss, acc=acc, rate=rate)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()

    def epoch_done(self, row: dict) -> None:
        self.samples, self.t0 = 0, time.perf_counter()
        if self.bar is not None:
            self.bar.reset(self.task)
        val = f"val acc {row['val_accuracy'] * 100:.2f} % " if "val_accuracy" in row else ""
        stopped = f"; {row['stopped']}: the phase stops" if "stopped" in row else ""
        self.log(f"epoch {row['epoch']}/{self.epochs} ({row['phase']}): loss {row['loss']:.4f} "
                 f"train acc {row['train_accuracy'] * 100:.2f} % {val}"
                 f"{row['samples_per_s']:.0f} samples/s{stopped}")
