"""Run-time support imported by the generated code: datasets, checkpoints, pruning.
Unlike the front end, this package uses numpy and torch."""

CURVE = "curve.json"  # a training's per-epoch history so far, rewritten after every epoch
