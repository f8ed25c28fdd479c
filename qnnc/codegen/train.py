"""Values for the training template: the recipe as safe source text."""

from __future__ import annotations

from qnnc.codegen.pycode import call, literal
from qnnc.spec import model as m


def optimizer_source(opt: m.Optimizer) -> str:
    params = "model.parameters()"
    if opt.name == "sgd":
        return call("torch.optim.SGD", params, lr=literal(opt.lr), momentum=literal(opt.momentum),
                    weight_decay=literal(opt.weight_decay))
    cls = {"adam": "torch.optim.Adam", "adamw": "torch.optim.AdamW"}[opt.name]
    return call(cls, params, lr=literal(opt.lr), weight_decay=literal(opt.weight_decay))


def schedule_source(schedule: m.Schedule, opt: m.Optimizer) -> str:
    sched = "torch.optim.lr_scheduler."
    if schedule.name == "cosine":
        return call(sched + "CosineAnnealingLR", "optimizer", T_max="epochs * steps_per_epoch")
    if schedule.name == "step":
        return call(sched + "StepLR", "optimizer", step_size=f"{literal(schedule.step_size)} * steps_per_epoch",
                    gamma=literal(schedule.gamma))
    if schedule.name == "onecycle":
        return call(sched + "OneCycleLR", "optimizer", max_lr=literal(opt.lr),
                    total_steps="epochs * steps_per_epoch")
    return call(sched + "LambdaLR", "optimizer", "lambda step: 1.0")


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
        "loss": "nn.BCEWithLogitsLoss()" if binary else "nn.CrossEntropyLoss()",
        "target": "y.float().unsqueeze(1)" if binary else "y",
        "predict": "(logits[:, 0] > 0).long()" if binary else "logits.argmax(dim=1)",
        "optimizer": optimizer_source(train.optimizer),
        "schedule": schedule_source(train.schedule, train.optimizer),
    }
