"""qnnc: compile a declarative .qnn spec of a quantized neural network into a FINN accelerator.

The Python API (``qnnc.api``): ``load``, ``lint``, ``build``, ``estimate``, ``sweep``."""

__version__ = "0.1.0"

from qnnc.api import BuildResult, build, estimate, lint, load, sweep  # noqa: E402
from qnnc.errors import Diagnostic, QnncError, SpecError, ToolchainError  # noqa: E402

__all__ = ["BuildResult", "Diagnostic", "QnncError", "SpecError", "ToolchainError", "build", "estimate", "lint",
           "load", "sweep"]
