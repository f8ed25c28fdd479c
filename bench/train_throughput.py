"""Training throughput of the generated loop (train.py + qnnc.runtime) against a bare PyTorch
loop over the same generated model, data and batch size. Target: ratio >= 0.9.

    .venv/bin/python bench/train_throughput.py [--spec specs/tfc_w2a2.qnn] [--samples 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qnnc.compiler import Compilation  # noqa: E402
from qnnc.runtime import trainer  # noqa: E402


def load_generated(folder: Path):
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location("generated_train", folder / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bare_loop(module, recipe, x, y) -> float:
    torch.manual_seed(recipe.seed)
    model = module.Net()
    optimizer = module.make_optimizer(model)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(recipe.seed)
    model.train()
    start = time.perf_counter()
    for xb, yb in trainer.batches(x, y, recipe.batch, generator):
        optimizer.zero_grad()
        loss = loss_fn(model.logits(xb), yb)
        loss.backward()
        optimizer.step()
    return len(x) / (time.perf_counter() - start)


def generated_loop(module, recipe, out: Path) -> float:
    hooks = trainer.Hooks(module.Net, module.make_optimizer, module.make_schedule, module.train_step,
                          module.predict, module.PRUNE_GROUPS)
    metrics = trainer.fit(hooks, recipe, out, log=lambda _: None)
    return metrics["curve"][0]["samples_per_s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "tfc_w2a2.qnn"))
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    comp = Compilation.from_path(args.spec)
    plan = comp.plan
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rel, text in plan.files.items():
            (folder / rel).write_text(text)
        module = load_generated(folder)
        recipe = module.RECIPE.with_overrides(epochs=1, samples=args.samples, test_samples=1000)
        loaded = trainer.load_tensors(recipe)
        x, y = loaded.x_train, loaded.y_train
        bare, gen = [], []
        for i in range(args.repeats):
            bare.append(bare_loop(module, recipe, x, y))
            gen.append(generated_loop(module, recipe, folder / f"run{i}"))
    b, g = statistics.median(bare), statistics.median(gen)
    print(f"spec {Path(args.spec).name}, {args.samples} samples, batch {recipe.batch}, {args.repeats} runs each")
    print(f"bare PyTorch loop   median {b:9.0f} samples/s")
    print(f"generated loop      median {g:9.0f} samples/s")
    print(f"ratio generated / bare: {g / b:.3f} (target >= 0.9: {'met' if g / b >= 0.9 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
