"""Values for the training template: the recipe as safe source text."""

from __future__ import annotations

from qnnc.codegen.pycode import call, literal
from qnnc.spec import model as m


def optimizer_source(opt: m.Optimizer) -> str:
    params = "model.decay_groups()" if opt.weight_decay else "model.parameters()"
    if opt.name == "sgd":
        return call("torch.optim.SGD", params, lr=literal(opt.lr), momentum=literal(opt.momentum),
                    weight_decay=literal(opt.weight_decay))
    cls = {"adam": "torch.optim.Adam", "adamw": "torch.optim.AdamW"}[opt.name]
    return call(cls, params, lr=literal(opt.lr), weight_decay=literal(opt.weight_decay))


def loss_source(smoothing: float) -> str:
    return f"nn.CrossEntropyLoss(label_smoothing={literal(smoothing)})" if smoothing else "nn.CrossEntropyLoss()"


def binary_target(smoothing: float) -> str:
    """One output for two classes: the label as a float target, pulled towards 0.5 by the smoothing."""
    target = "y.float().unsqueeze(1)"
    return f"{target} * {literal(1 - smoothing)} + {literal(smoothing / 2)}" if smoothing else target


SCHED = "torch.optim.lr_scheduler."


def schedule_source(schedule: m.Schedule, opt: m.Optimizer) -> str:
    """An expression of ``optimizer``, ``epochs``, ``steps_per_epoch`` and, with a warm-up,
    ``warm`` (its steps): the schedule after the warm-up (train.py.j2) takes the steps left."""
    steps = "epochs * steps_per_epoch - warm" if schedule.warmup else "epochs * steps_per_epoch"
    if schedule.name == "cosine":
        return call(SCHED + "CosineAnnealingLR", "optimizer", T_max=steps)
    if schedule.name == "step":
        return call(SCHED + "StepLR", "optimizer", step_size=f"{literal(schedule.step_size)} * steps_per_epoch",
                    gamma=literal(schedule.gamma))
    if schedule.name == "onecycle":
        return call(SCHED + "OneCycleLR", "optimizer", max_lr=literal(opt.lr), total_steps=steps)
    return call(SCHED + "LambdaLR", "optimizer", "lambda step: 1.0")


def teacher_values(teacher: m.Teacher) -> dict | None:
    if teacher.name == "none":
        return None
    return {"epochs": literal(teacher.epochs), "weight": literal(teacher.weight),
            "temperature": literal(teacher.temperature),
            "optimizer": call("torch.optim.Adam", "teacher.parameters()", lr=literal(teacher.lr))}


def template_values(spec: m.Spec, spec_name: str) -> dict:
    train = spec.train
    outputs = train.outputs
    weights = [layer for layer in spec.network.layers if isinstance(layer, m.WeightLayer) and layer.sparsity]
    binary = outputs == 1
    return {
        "network": spec.network.name,
        "spec_name": spec_name,
        "dataset": literal(spec.dataset_value),
        "epochs": literal(train.epochs),
        "batch": literal(train.batch),
        "seed": literal(train.seed),
        "outputs": literal(outputs),
        "samples": literal(train.samples),
        "finetune": literal(train.finetune),
        "validation": literal(train.validation),
        "patience": literal(train.patience),
        "sparsity": literal({x.name: x.sparsity for x in weights if x.sparsity_style == "structured"}),
        "unstructured": literal({x.name: x.sparsity for x in weights if x.sparsity_style == "unstructured"}),
        "loss": "nn.BCEWithLogitsLoss()" if binary else loss_source(train.label_smoothing),
        "target": binary_target(train.label_smoothing) if binary else "y",
        "warmup": train.schedule.warmup,  # a number for the template's test
        "augment": train.augment.name if train.augment.name != "none" else None,
        "shift": train.augment.pixels,
        "elastic": {"alpha": literal(train.augment.alpha), "sigma": literal(train.augment.sigma)},
        "teacher": teacher_values(train.teacher),
        "binary": binary,
        "predict": "(logits[:, 0] > 0).long()" if binary else "logits.argmax(dim=1)",
        "optimizer": optimizer_source(train.optimizer),
        "schedule": schedule_source(train.schedule, train.optimizer),
    }
