"""The build stages, in order. Each stage names its inputs (hashed to decide whether it must
run again) and does its work in the build directory; a failing stage raises ToolchainError
naming its log, and leaves what earlier stages produced untouched."""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from qnnc.backends import deploy, hwgen  # their file names only: importing them loads no toolchain
from qnnc.errors import ENVIRONMENT_ERRNOS, InternalError, QnncError, SpecError, ToolchainError
from qnnc.fsutil import write_text_atomic
from qnnc.pipeline.state import sha256_file, sha256_text


@dataclass(frozen=True)
class Options:
    """Command-line overrides that change what a stage produces."""

    epochs: int | None = None
    fresh: frozenset[str] = frozenset()  # stages to redo from scratch (--from), not resume
    samples: int | None = None
    test_samples: int | None = None
    validation: float | None = None  # share of the training samples held out (a sweep's pruning scores it)

    def train_args(self) -> list[str]:
        args = []
        for flag, value in (("--epochs", self.epochs), ("--samples", self.samples),
                            ("--test-samples", self.test_samples), ("--validation", self.validation)):
            if value is not None:
                args += [flag, str(value)]
        return args


@dataclass(frozen=True)
class Context:
    root: Path
    plan: object  # qnnc.codegen.Plan
    spec: object  # qnnc.spec.model.Spec
    options: Options
    log: Callable[[str], None]
    source: object = None  # qnnc.errors.Source: where a backend's coded diagnostic points


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    inputs: Callable[[Context], str]
    run: Callable[[Context], dict]
    produces: tuple[str, ...] = ()  # files checked before the stage counts as done: a damaged one reruns it


# ---- generate ----------------------------------------------------------------------------------
def _generate_inputs(ctx: Context) -> str:
    return ctx.plan.digest


def generate_files(ctx: Context) -> dict:
    for rel, text in sorted(ctx.plan.files.items()):
        path = ctx.root / rel
        if not path.exists() or path.read_text() != text:
            write_text_atomic(path, text)
    return {"files": sorted(ctx.plan.files)}


# ---- train -------------------------------------------------------------------------------------
def _train_inputs(ctx: Context) -> str:
    data = ()
    if isinstance(ctx.plan.dataset, dict):  # the user's own data: its files are an input
        from qnnc.runtime.user_data import digest

        data = (digest(ctx.plan.dataset, ctx.spec.folder),)
    return sha256_text(ctx.plan.files["model.py"], ctx.plan.files["train.py"], *ctx.options.train_args(), *data)


def _train(ctx: Context) -> dict:
    from qnnc.runtime.data import check_available

    check_available(ctx.plan.dataset, ctx.spec.folder)  # before any work: say where it comes from
    log_path = ctx.root / "logs" / "train.log"
    if "train" in ctx.options.fresh:
        shutil.rmtree(ctx.root / "checkpoints", ignore_errors=True)
    _keep_checkpoints_only_for(ctx.root / "checkpoints", _train_inputs(ctx))
    data_root = ["--data-root", str(ctx.spec.folder)] if isinstance(ctx.plan.dataset, dict) else []
    _run_logged([sys.executable, "train.py", "--out", ".", *data_root] + ctx.options.train_args(), ctx, "train",
                log_path)
    metrics = json.loads((ctx.root / "metrics.json").read_text())
    return {"test_accuracy": metrics["test_accuracy"], "validation_accuracy": metrics.get("validation_accuracy"),
            "kept_epoch": metrics.get("kept_epoch"), "teacher": metrics.get("teacher"), "model": "model.pt",
            "model_sha256": sha256_file(ctx.root / "model.pt")}


def _keep_checkpoints_only_for(folder: Path, inputs_hash: str) -> None:
    """Checkpoints resume an interrupted run of the same training; other ones are stale."""
    stamp = folder / "INPUTS"
    if folder.exists() and (not stamp.exists() or stamp.read_text() != inputs_hash):
        shutil.rmtree(folder)
    write_text_atomic(stamp, inputs_hash)


def die_with_parent() -> None:
    """In a child process: the kernel ends it when qnnc ends, however qnnc ends (Linux's
    PR_SET_PDEATHSIG; elsewhere nothing), so no training outlives its build."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_logged(cmd: list[str], ctx: Context, step: str, log_path: Path) -> None:
    """Run a tool in the build dir; its output goes to the console and to its log. A log that
    cannot be written (a full disk) is said once and the tool's output still reaches the
    console, so the tool's own error is what the user sees."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        writable = _append(log, f"$ {' '.join(cmd)}\n", log_path, ctx)
        proc = subprocess.Popen(cmd, cwd=ctx.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=die_with_parent)
        tail: list[str] = []
        for line in proc.stdout:
            writable = writable and _append(log, line, log_path, ctx)
            tail = (tail + [line.rstrip()])[-15:]
            ctx.log("    " + line.rstrip())
        code = proc.wait()
    if code != 0:
        detail = "\n".join(tail[-5:])
        raise ToolchainError(step, f"exited with code {code}:\n{detail}", str(log_path))


def _append(log, text: str, path: Path, ctx: Context) -> bool:
    try:
        log.write(text)
        log.flush()
    except OSError as exc:
        ctx.log(f"note: {path} can no longer be written ({exc.strerror}); the output goes on below")
        return False
    return True


# ---- init, export, verify, estimate, hardware ----------------------------------------------
def _file_inputs(*rels: str, sections: tuple[str, ...]):
    """A stage's inputs: the files it reads and the spec's sections it depends on (so a change
    to the target re-runs the estimate, not the export and its verification)."""
    def inputs(ctx: Context) -> str:
        parts = [sha256_file(ctx.root / r) if (ctx.root / r).exists() else f"missing {r}" for r in rels]
        return sha256_text(*parts, *(getattr(ctx.spec, name).model_dump_json() for name in sections))
    return inputs


def run_backend(step: str, fn, ctx: Context) -> dict:
    """Run a backend function; its failures become ToolchainError naming the step and log."""
    log_path = ctx.root / "logs" / f"{step}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log_path, "w", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
            return fn(ctx.root, ctx.spec)
    except Exception as exc:  # noqa: BLE001 - any tool failure is reported with its log, not a traceback
        with contextlib.suppress(OSError), open(log_path, "a", encoding="utf-8") as log:
            traceback.print_exc(file=log)
        if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:  # the machine's, said as such
            if exc.filename is None:  # a tool's failed write names no file
                raise OSError(exc.errno, exc.strerror, f"{ctx.root} (step {step})") from exc
            raise
        if isinstance(exc, SpecError):  # a condition lint also knows: coded, at the spec's text
            exc.source = exc.source or ctx.source
            raise
        if not isinstance(exc, QnncError) and raised_in_qnnc(exc):
            raise InternalError(f"{type(exc).__name__}: {exc} in step '{step}' (log: {log_path})") from exc
        text = str(exc) if isinstance(exc, QnncError) else f"{type(exc).__name__}: {exc}"
        raise ToolchainError(step, text, str(log_path)) from exc


QNNC_PACKAGE = str(Path(__file__).resolve().parent.parent)


def raised_in_qnnc(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is qnnc's own code: then it is qnnc's bug,
    not the tool's (an exception raised inside FINN, Brevitas or torch is the toolchain's)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(Path(tb.tb_frame.f_code.co_filename).resolve()).startswith(QNNC_PACKAGE)


def _export(ctx: Context) -> dict:
    from qnnc.backends.export import export

    return run_backend("export", export, ctx)


def _verify(ctx: Context) -> dict:
    from qnnc.backends.verify import held_out, verify

    return run_backend("verify", lambda root, spec: verify(root, spec, held_out(spec)), ctx)


def _init(ctx: Context) -> dict:
    from qnnc.backends.untrained import write_untrained

    return run_backend("init", write_untrained, ctx)


def _estimate(ctx: Context) -> dict:
    from qnnc.backends.finn import ESTIMATE_JSON, estimate
    from qnnc.report.plot import ESTIMATE_PNG, save

    (ctx.root / ESTIMATE_JSON).unlink(missing_ok=True)  # the picture is drawn from this run's estimate only
    try:
        summary = run_backend("estimate", estimate, ctx)
    finally:  # a design that does not fit keeps its reports, and its picture
        if (ctx.root / ESTIMATE_JSON).is_file():
            drawn = json.loads((ctx.root / ESTIMATE_JSON).read_text())
            plot = save(drawn, ctx.root / ESTIMATE_PNG, title=f"{ctx.spec.network.name} on {ctx.spec.target.board}")
    return {**summary, "plot": plot}


def _hwgen(ctx: Context) -> dict:
    from qnnc.backends.hwgen import generate

    found = run_backend("hwgen", generate, ctx)
    kinds = [row["kind"] for row in found["nodes"]]
    ctx.log(f"    {len(kinds)} nodes: {kinds.count('hls')} HLS (C++ and Vitis HLS scripts), {kinds.count('rtl')} RTL "
            f"(Verilog) in hw/; driver settings {found['driver_settings']}")
    return found


def _simulate_inputs(ctx: Context) -> str:
    from qnnc.backends.cppsim import availability

    files = _file_inputs(hwgen.PARENT, hwgen.SETTINGS, "model.pt", sections=("network", "train", "target"))(ctx)
    return sha256_text(files, availability())


HOW = {"cppsim": "C++ simulation", "dmasim": "C++ simulation of its DMA, on the driver's packed bytes"}


def _simulate(ctx: Context) -> dict:
    from qnnc.backends.cppsim import SimulationUnavailableError, third_party
    from qnnc.backends.simulate import simulate_build

    try:
        third_party()
    except SimulationUnavailableError as exc:  # said and recorded, never skipped silently
        ctx.log(f"[simulate] not simulated: {exc}")
        return {"simulated": 0, "not_simulated_because": str(exc)}
    found = run_backend("simulate", simulate_build, ctx)
    for row in found["nodes"]:
        how = HOW.get(row["mode"], f"FINN's Python model ({row.get('python_because')})")
        if row["mode"] == "rtlsim":
            how = (f"RTL simulation (Verilator), {row['cycles']} cycles a frame, {row['cycles_back_pressure']} with "
                   f"back-pressure (FINN estimates {row['finn_cycles']})"
                   + (f"; {row['note'].split(';')[0]}" if "note" in row else ""))
        ctx.log(f"    {row['node']:<34} {row['layer'] or '-':<8} {how}")
    ctx.log(f"    {found['samples']} test samples, packed and unpacked as FINN's driver does: every simulated node "
            "bit-exact with FINN's Python model, the output with PyTorch's")
    return found


def continue_command(spec_path: str, root: Path, stage: str, options: Options) -> str:
    """The command that continues this build directory from ``stage`` with the options it ran
    with (so the Vivado machine does not retrain another recipe), quoted for a POSIX shell."""
    args = ["qnnc", "build", spec_path, "--out", str(root), "--from", stage, *options.train_args()]
    return shlex.join(args)


def _package(ctx: Context) -> dict:
    from qnnc.backends.deploy import write_package

    command = continue_command(ctx.source.path, ctx.root, "hardware", ctx.options)
    found = run_backend("package", lambda root, spec: write_package(root, spec, command), ctx)
    missing = ", ".join(found["missing"]) or "nothing"
    ctx.log(f"    {found['folder']}/: driver settings, validate.py, {found['samples']} test samples; "
            f"missing: {missing}")
    return found


class VivadoMissingError(QnncError):
    """The hardware stages need Vivado/Vitis, which this machine does not have."""


def _hardware(ctx: Context) -> dict:
    from qnnc.backends.finn import hardware
    from qnnc.backends.finn_compat import vivado_available

    if not vivado_available():
        raise VivadoMissingError("the hardware stage (Vitis HLS synthesis of the HLS nodes, the stitched IP, FIFO "
                                 "sizing, Vivado synthesis and the bitfile) needs Vivado/Vitis, which is not installed "
                                 "here (XILINX_VIVADO unset or vivado not on PATH)")
    return run_backend("hardware", hardware, ctx)


GENERATE = Stage("generate", "write the Brevitas model and training loop", _generate_inputs, generate_files)
TRAIN = Stage("train", "quantization-aware training on the spec's dataset", _train_inputs, _train, ("model.pt",))
INIT = Stage("init", "initial weights, no training (FINN's estimates do not depend on the weights' values)",
             _file_inputs("model.py", sections=("train",)), _init, ("model.pt",))
EXPORT = Stage("export", "export to QONNX and prepare FINN's input",
               _file_inputs("model.py", "model.pt", sections=("network",)), _export,
               ("export/model.qonnx.onnx", "export/model.onnx"))
VERIFY = Stage("verify", "PyTorch, QONNX, FINN streamlined and HW-layer models agree on held-out data",
               _file_inputs("export/model.onnx", "model.pt", sections=("network", "train")), _verify)
ESTIMATE = Stage("estimate", "FINN: streamline, convert to hardware layers, fold, estimate",
                 _file_inputs("export/model.onnx", sections=("network", "target")), _estimate)
HWGEN = Stage("hwgen", "FINN's Zynq transformations before synthesis (width converters, FIFOs, DMAs, partitions), "
              "every node's HLS C++ and Verilog, the driver's settings (no Vivado needed)",
              _file_inputs(hwgen.FOLDED, sections=("network", "target")), _hwgen, (hwgen.PARENT, hwgen.SETTINGS))
SIMULATE = Stage("simulate", "the generated design on held-out test data as the board runs it: the driver's packing, "
                 "the DMAs and every HLS node in C++, every RTL node in Verilator, node by node against FINN's Python "
                 "model and at the output against PyTorch (no Vitis or Vivado needed)",
                 _simulate_inputs, _simulate)
PACKAGE = Stage("package", "the deployment folder for the board: driver settings, test data, validate.py (all but the "
                "bitfile)", _file_inputs(hwgen.SETTINGS, "model.pt", sections=("network", "train", "target")),
                _package, (deploy.TEST_DATA, f"{deploy.DEPLOY_DIR}/validate.py"))
HARDWARE = Stage("hardware", "FINN: IP generation, FIFO sizing, synthesis, bitfile; completes the deployment folder "
                 "(Vivado)",
                 _file_inputs("export/model.onnx", sections=("network", "target")), _hardware)

STAGES: tuple[Stage, ...] = (GENERATE, TRAIN, EXPORT, VERIFY, ESTIMATE, HWGEN, SIMULATE, PACKAGE,
                             HARDWARE)  # qnnc build
UNTRAINED: tuple[Stage, ...] = (GENERATE, INIT, EXPORT, ESTIMATE)  # qnnc estimate
STAGE_NAMES = tuple(s.name for s in STAGES)
