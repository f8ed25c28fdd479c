"""qnnc: compile a declarative .qnn spec of a quantized neural network into a FINN accelerator."""

__version__ = "0.1.0"
