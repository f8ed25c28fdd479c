"""The ``qnnc`` command line: a thin layer over the compiler. Exit codes: 0 clean (warnings
allowed), 1 errors in a spec or a failed build, 2 usage error, 3 internal compiler error.

Importing this module stays light: commands that need torch, brevitas or FINN import them
inside their own handler, so ``qnnc lint`` and ``qnnc fmt`` never load them.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from qnnc import __version__
from qnnc.errors import ENVIRONMENT_ERRNOS, InternalError, QnncError, Source, SpecError
from qnnc.fsutil import write_text_atomic

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 128 + 13  # as a process killed by SIGPIPE


class UsageError(QnncError):
    """The command line itself is wrong (missing file, bad option)."""


def _read(path: str) -> Source:
    if path == "-":
        return Source(sys.stdin.read(), "<stdin>")
    try:
        return Source(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None


def _load(path: str):
    """The spec at ``path`` ('-': standard input) for the API."""
    from qnnc import api

    source = _read(path)
    return api.load(text=source.text, path=source.path)


# ---- lint -------------------------------------------------------------------------------
def cmd_lint(args: argparse.Namespace) -> int:
    from qnnc import api
    from qnnc.diagnostics import render_json, render_text, summary

    results = []
    for path in args.files:
        source = _read(path)
        results.append((source, api.lint(api.load(text=source.text, path=source.path))))
    n_err = sum(d.is_error for _, diags in results for d in diags)
    n_warn = sum(not d.is_error for _, diags in results for d in diags)
    if args.format == "json":
        print(render_json(results))
    else:
        for source, diags in results:
            if diags:
                print(render_text(diags, source))
        if n_err or n_warn or not args.quiet:
            print(summary(n_err, n_warn, len(results)))
    return EXIT_ERRORS if n_err else EXIT_OK


# ---- fmt --------------------------------------------------------------------------------
def cmd_fmt(args: argparse.Namespace) -> int:
    from qnnc.diagnostics import render_text
    from qnnc.syntax.format import format_module
    from qnnc.syntax.parser import parse

    status = EXIT_OK
    for path in args.files:
        source = _read(path)
        try:
            formatted = format_module(parse(source.text, source.path), source)
        except SpecError as exc:
            print(render_text(exc.diagnostics, source))
            status = EXIT_ERRORS
            continue
        if path == "-":
            sys.stdout.write(formatted)
        elif formatted != source.text:
            if args.check:
                print(f"would reformat {path}")
                status = EXIT_ERRORS
            else:
                write_text_atomic(Path(path), formatted)
                print(f"reformatted {path}")
    return status


# ---- build ------------------------------------------------------------------------------
def cmd_build(args: argparse.Namespace) -> int:
    from qnnc import api

    api.build(_load(args.spec), args.out, start=args.start, until=args.until,
              epochs=args.epochs, samples=args.samples, test_samples=args.test_samples, validation=args.validation,
              dry_run=args.dry_run)
    return EXIT_OK


def cmd_estimate(args: argparse.Namespace) -> int:
    import json

    from qnnc import api
    from qnnc.report.summary import format_estimate

    quiet = (lambda _line: None) if args.format == "json" else print
    summary = api.estimate(_load(args.spec), args.out, log=quiet)
    print(json.dumps(summary, indent=2, sort_keys=True) if args.format == "json" else format_estimate(summary))
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from qnnc import api

    api.sweep(_load(args.spec), args.out, epochs=args.epochs,
              samples=args.samples, test_samples=args.test_samples, jobs=args.jobs, storage=args.storage,
              study=args.study, ray_address=args.ray, workers=args.workers, heartbeat_s=args.heartbeat)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from qnnc.doctor import report

    lines, ok = report()
    print("\n".join(lines))
    return EXIT_OK if ok else EXIT_ERRORS


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _share(text: str) -> float:
    """A share of a whole: '0.1' or '10%'."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.1 or 10%, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("must be at least 0 and below 1 (100%)")
    return value


# ---- parser and entry point -----------------------------------------------------------------
def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qnnc", description="Compile .qnn specs into FINN accelerators.")
    parser.add_argument("--version", action="version", version=f"qnnc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="check specs for mistakes, without training")
    lint.add_argument("files", nargs="+", metavar="SPEC", help="spec files ('-' for standard input)")
    lint.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    lint.add_argument("-q", "--quiet", action="store_true", help="print nothing for clean specs")
    lint.set_defaults(handler=cmd_lint)

    fmt = sub.add_parser("fmt", help="rewrite specs in the canonical layout")
    fmt.add_argument("files", nargs="+", metavar="SPEC", help="spec files ('-': read stdin, write stdout)")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    fmt.set_defaults(handler=cmd_fmt)
    from qnnc.pipeline.stages import STAGE_NAMES

    build = sub.add_parser("build", help="generate, train, export and build the accelerator")
    build.add_argument("spec", metavar="SPEC")
    build.add_argument("--out", metavar="DIR", help="build directory (default: build/<spec name>)")
    build.add_argument("--from", dest="start", choices=STAGE_NAMES, help="rerun from this stage")
    build.add_argument("--until", choices=STAGE_NAMES, help="stop after this stage")
    build.add_argument("--dry-run", "--emit", action="store_true", help="show the plan, run nothing")
    build.add_argument("--epochs", type=_positive, help="override the spec's training epochs")
    build.add_argument("--samples", type=_positive, help="train on this many samples only")
    build.add_argument("--test-samples", type=_positive, help="evaluate on this many test samples only")
    build.add_argument("--validation", type=_share, metavar="SHARE",
                       help="hold out this share of the training samples for validation (the spec's train block says; "
                       "10%% if it does not), 0 to train on them all")
    build.set_defaults(handler=cmd_build)

    estimate = sub.add_parser("estimate", help="FINN's resource and throughput estimates, without training")
    estimate.add_argument("spec", metavar="SPEC")
    estimate.add_argument("--out", metavar="DIR", help="work directory (default: build/<spec name>/untrained)")
    estimate.add_argument("--format", choices=("text", "json"), default="text")
    estimate.set_defaults(handler=cmd_estimate)

    sweep = sub.add_parser("sweep", help="train and estimate the designs of the spec's sweep block; "
                                         "the Pareto front and the most energy-efficient design")
    sweep.add_argument("spec", metavar="SPEC")
    sweep.add_argument("--out", metavar="DIR", help="sweep directory (default: build/<spec name>/sweep)")
    sweep.add_argument("--storage", metavar="URL", help="Optuna storage URL, e.g. postgresql://host/db "
                                                        "(default: SQLite in the sweep directory)")
    sweep.add_argument("--study", metavar="NAME", help="study name (default: the network's name)")
    sweep.add_argument("--jobs", type=_positive, default=1, help="trials at once in this process")
    sweep.add_argument("--ray", metavar="ADDRESS", help="run trials as tasks on this Ray cluster ('auto')")
    sweep.add_argument("--workers", type=_positive, default=1, help="Ray workers (with --ray)")
    sweep.add_argument("--heartbeat", type=_positive, default=20, metavar="SECONDS",
                       help="trials heartbeat this often; one silent for 3 heartbeats (a dead worker) is retried")
    sweep.add_argument("--epochs", type=_positive, help="override the epochs per trial")
    sweep.add_argument("--samples", type=_positive, help="train each trial on this many samples only")
    sweep.add_argument("--test-samples", type=_positive, help="evaluate on this many test samples only")
    sweep.set_defaults(handler=cmd_sweep)

    doctor = sub.add_parser("doctor", help="show installed versions and which build stages can run here")
    doctor.set_defaults(handler=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"qnnc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SpecError as exc:
        from qnnc.diagnostics import render_text

        print(render_text(exc.diagnostics, exc.source or Source("")), file=sys.stderr)
        return EXIT_ERRORS
    except InternalError as exc:
        print(f"qnnc: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except QnncError as exc:
        print(f"qnnc: error: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    except KeyboardInterrupt:
        print("qnnc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`qnnc lint ... | head`): not a bug, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit stays quiet
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            return _internal(exc)
        print(f"qnnc: error: {environment_message(exc)}", file=sys.stderr)
        return EXIT_ERRORS
    except Exception as exc:  # noqa: BLE001 - the one place a bug is turned into a report
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    print(f"qnnc: {InternalError(f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
    if os.environ.get("QNNC_DEBUG"):
        traceback.print_exception(exc)
    else:
        print("(set QNNC_DEBUG=1 to see the traceback)", file=sys.stderr)
    return EXIT_INTERNAL


def environment_message(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    what = f"{exc.strerror or exc}{':' if where else ''}{where}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{what}. Free some space (or build elsewhere with --out) and rerun: finished stages are kept"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{what}. The build directory must be writable: choose another with --out"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        return f"{what}. A file stands where qnnc needs a directory (or the reverse): choose another --out"
    return what


def entry_point() -> None:
    sys.exit(main())
