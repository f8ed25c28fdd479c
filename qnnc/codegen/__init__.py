"""Code generation: a validated spec -> a ``Plan`` of files (relative path -> text), in memory,
before anything runs. Templates get precomputed values only."""

from qnnc.codegen.plan import Plan, generate

__all__ = ["Plan", "generate"]
