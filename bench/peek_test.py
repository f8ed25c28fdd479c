"""Run a generated train.py as `qnnc build` runs it, and also score the test set after every
epoch, the way Brevitas' bnn_pynq measures the accuracy it publishes: its trainer has no
validation share, scores the test set after every epoch and keeps the best checkpoint
(brevitas_examples/bnn_pynq/trainer.py, `best_val_acc`). For bench/train_accuracy.py's
comparison only; qnnc itself keeps the model by validation and scores the test set once.

    python bench/peek_test.py BUILD_DIR    (after `qnnc build SPEC --until generate --out BUILD_DIR`)

Writes BUILD_DIR/test_curve.json, one test accuracy per scored epoch, in the order of the
rows of curve.json. Scoring runs in eval mode and draws no random numbers, so the training is
the one `qnnc build` runs: the bench checks that the accuracy peeked at the kept epoch is the
test accuracy metrics.json reports.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path

from qnnc.runtime import trainer

TEST_CURVE = "test_curve.json"


def main() -> None:
    build = Path(sys.argv[1]).resolve()
    load_tensors, accuracy = trainer.load_tensors, trainer.accuracy
    loaded = []
    peeked: list[float] = []

    def loading(recipe):
        loaded.append(load_tensors(recipe))
        return loaded[-1]

    def scoring(model, predict, x, y, size=1024):
        result = accuracy(model, predict, x, y, size)
        tensors = loaded[-1]
        if x is tensors.x_val:  # once per epoch, after its validation
            peeked.append(round(accuracy(model, predict, tensors.x_test, tensors.y_test, size), 6))
            (build / TEST_CURVE).write_text(json.dumps(peeked))
        return result

    trainer.load_tensors, trainer.accuracy = loading, scoring
    os.chdir(build)
    sys.path.insert(0, str(build))
    sys.argv = ["train.py", "--out", "."]
    runpy.run_path("train.py", run_name="__main__")


if __name__ == "__main__":
    main()
