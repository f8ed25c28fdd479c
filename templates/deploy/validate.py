"""Validate the accelerator on the board against the test set and the trained model's answers.

Written by qnnc into every deployment folder; it runs on the board (a PYNQ image with
finn-plus-driver installed) from inside the folder:

    python validate.py                  # every test sample, in batches of 100
    python validate.py --batch 1000 --limit 2000

It reads driver/settings.json (FINN's driver settings of this design), test_data.npz (the
test samples as the accelerator takes them, their labels, and what the trained PyTorch model
answered) and bitfile/finn-accel.bit, and writes validation.json beside itself.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100, help="samples per call of the accelerator")
    parser.add_argument("--limit", type=int, default=None, help="validate only the first N test samples")
    parser.add_argument("--bitfile", default=os.path.join(HERE, "bitfile", "finn-accel.bit"))
    return parser.parse_args()


def accelerator(settings, bitfile, batch):
    from finn_plus_driver import get_driver_class

    kind = get_driver_class(settings["driver_type"])
    return kind(bitfile, platform=settings["platform"], io_shape_dict=settings["io_shape_dict"], batch_size=batch,
                fclk_mhz=settings.get("fclk_mhz", 100.0), runtime_weights=settings.get("runtime_weights", False),
                runtime_weight_dir=os.path.join(HERE, "driver", "runtime_weights"))


def main():
    args = arguments()
    if not os.path.isfile(args.bitfile):
        sys.exit("validate.py: %s is missing. This folder was made without Vivado; on a machine with Vivado, run "
                 "the command in README.md and copy the completed folder to the board." % args.bitfile)
    with open(os.path.join(HERE, "driver", "settings.json")) as f:
        settings = json.load(f)["driver_information"]
    data = np.load(os.path.join(HERE, "test_data.npz"))
    x, labels, expected, tied = data["x"], data["labels"], data["expected"], data["tied"]
    n = len(x) if args.limit is None else min(args.limit, len(x))
    batch = max(1, min(args.batch, n))
    accel = accelerator(settings, args.bitfile, batch)
    outputs = []
    for start in range(0, n, batch):
        size = min(batch, n - start)
        if size != accel.batch_size:
            accel.batch_size = size
        outputs.append(np.asarray(accel.execute(x[start: start + size])).reshape(size, -1))
    out = np.concatenate(outputs)
    agree = np.all(np.isclose(out, expected[:n].reshape(n, -1), rtol=0, atol=1e-6), axis=1) | tied[:n]
    report = {"samples": n, "agrees_with_pytorch": int(agree.sum()),
              "differs_from_pytorch": [int(i) for i in np.flatnonzero(~agree)][:100]}
    if data["kind"] == "label":
        report["test_accuracy"] = float(np.mean(out[:, 0] == labels[:n]))
    with open(os.path.join(HERE, "validation.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    return 0 if agree.all() else 1


if __name__ == "__main__":
    sys.exit(main())
