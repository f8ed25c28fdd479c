"""Run-time support imported by the generated code: datasets, checkpoints, pruning.
Unlike the front end, this package uses numpy and torch."""
