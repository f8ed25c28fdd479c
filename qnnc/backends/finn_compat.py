"""Everything qnnc must do to run finn-plus 1.6.1 outside its own launcher and without Vivado.

Each accommodation is listed here, and tests/test_finn_compat.py fails if finn-plus changes so
that one is no longer needed or no longer works:

1. FINN keeps global settings that its launcher (run_finn.py) normally creates; outside it,
   ``finn.util.settings.initialize_dummy_settings()`` must be called first.
2. ``finn.builder.build_dataflow_steps`` imports ``finn.xsi.SimEngine`` (used there only in a
   type annotation); the lazy attribute raises OSError when XILINX_VIVADO is unset. Without
   Vivado, a placeholder class is bound to that name before the import.
3. FINN's build ends, on success and on failure alike, by recording tool metadata with
   ``get_vivado_root()``, which raises without Vivado: after a build whose last step saved its
   model during this run (the estimate's reports, or a build stopped before Vivado's steps) that
   failure is accepted, and after a failing step it would replace the step's own exception. So
   every step runs watched: the step that failed, its exception and the node it
   was working on (read from the traceback) are kept and reported instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from qnnc.errors import QnncError

_prepared = False


class SimEngineUnavailable:
    """Stands in for finn.xsi.SimEngine where Vivado's simulator is not installed."""


def vivado_available() -> bool:
    return bool(os.environ.get("XILINX_VIVADO")) and shutil.which("vivado") is not None


def prepare_finn() -> None:
    """Make ``finn.builder.build_dataflow`` importable and usable; idempotent."""
    global _prepared
    if _prepared:
        return
    from finn.util import settings

    settings.initialize_dummy_settings()
    if not vivado_available():
        import finn.xsi

        if "SimEngine" not in vars(finn.xsi):
            finn.xsi.SimEngine = SimEngineUnavailable
    _prepared = True


def use_build_dir(path: Path) -> Path:
    """FINN's scratch directory (its settings' ``finn_build_dir``, by default ``FINN_TMP`` in the
    current directory) inside the build directory instead."""
    from finn.util.settings import get_settings

    path = Path(path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    get_settings().finn_build_dir = path
    return path


def finished(config, since: float) -> bool:
    """Whether the build's last step (its ``stop_step``, else its last) saved its model since
    ``since``: FINN ran every step it was given."""
    last = config.stop_step or _name(config.steps[-1])
    saved = Path(config.output_dir) / "intermediate_models" / f"{last}.onnx"
    return saved.is_file() and saved.stat().st_mtime >= since


@dataclass(frozen=True)
class StepFailure:
    step: str  # FINN's name of the build step
    error: BaseException
    node: str | None  # the graph node it was working on, when the traceback shows one


class FinnStepError(QnncError):
    """A FINN build step failed: the step, its own exception, the node (and spec layer)."""

    def __init__(self, failure: StepFailure, log: Path, layer: str | None = None):
        self.failure = failure
        self.layer = layer
        where = ""
        if failure.node:
            where = f" at node {failure.node}" + (f" (spec layer '{layer}')" if layer else "")
        error = failure.error
        text = str(error).strip() or "(no message)"
        super().__init__(f"FINN step {failure.step} failed{where}: {type(error).__name__}: {text} "
                         f"(FINN's log: {log})")


def failing_node(tb) -> str | None:
    """The innermost frame working on a graph node: a custom op (``self.onnx_node``) or a
    transformation's loop variable ``node``."""
    found = None
    while tb is not None:
        scope = tb.tb_frame.f_locals
        node = getattr(scope.get("self"), "onnx_node", None) or scope.get("node")
        if getattr(node, "name", None) and hasattr(node, "op_type"):
            found = node.name
        tb = tb.tb_next
    return found


def watched(steps: list, failures: list[StepFailure]) -> list:
    """FINN's steps, resolved by FINN itself, each recording its failure before it propagates."""
    def watch(fn):
        @functools.wraps(fn)
        def step(model, cfg):
            try:
                return fn(model, cfg)
            except BaseException as exc:
                failures.append(StepFailure(fn.__name__, exc, failing_node(exc.__traceback__)))
                raise
        return step

    return [watch(fn) for fn in steps]


def build_dataflow(model_path: Path, config, layer_of=None) -> None:
    """Run FINN's build_dataflow_cfg with every step watched. A failing step raises
    FinnStepError with the step's own exception (``layer_of`` maps a node name to its spec
    layer); the metadata failure of accommodation 3 after a finished estimate is accepted."""
    prepare_finn()
    from finn.builder.build_dataflow import build_dataflow_cfg, resolve_build_steps

    log = Path(config.output_dir) / "build_dataflow.log"
    use_build_dir(Path(config.output_dir) / "tmp")
    since = time.time() - 1  # file times may be coarser than the clock
    failures: list[StepFailure] = []
    config.steps = watched(resolve_build_steps(config, partial=False), failures)
    try:
        code = build_dataflow_cfg(str(model_path), config)
    except Exception as exc:  # noqa: BLE001 - FINN raises bare Exception; a watched step says which
        if failures:
            raise _step_error(failures[0], log, layer_of) from failures[0].error
        if finished(config, since) and "XILINX_VIVADO" in str(exc):
            return
        raise QnncError(f"FINN's build failed outside its steps: {type(exc).__name__}: {exc} "
                        f"(FINN's log: {log})") from exc
    if failures:
        raise _step_error(failures[0], log, layer_of) from failures[0].error
    if code not in (0, None) and not finished(config, since):
        raise QnncError(f"FINN build_dataflow returned {code} (FINN's log: {log})")


def _name(step) -> str:
    return step if isinstance(step, str) else step.__name__


def _step_error(failure: StepFailure, log: Path, layer_of) -> QnncError:
    if isinstance(failure.error, QnncError):
        return failure.error  # qnnc's own step already says what is wrong
    layer = layer_of(failure.node) if layer_of and failure.node else None
    return FinnStepError(failure, log, layer)
