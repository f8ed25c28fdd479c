"""qnnc's folding against FINN's own (SetFolding, what `target_fps` does), for every example spec.

    .venv/bin/python bench/folding_vs_finn.py [SPEC ...]    (default: specs/*.qnn)

For each spec: `qnnc estimate` runs FINN up to the folding step (untrained weights, same
hardware). On that model, FINN's SetFolding is run for a ladder of target_fps values and qnnc's
solver for the same targets; every design is measured the same way, with FINN's own
res_estimation and dataflow_performance. The spec's own fold lines are dropped so both fold
every unit. Reported:
- FINN's best design that still fits the caps (over the target ladder), and qnnc asked for
  the FPS that FINN reached (goal: qnnc FPS >= FINN's at <= its LUT and BRAM); the same for
  the spec's own fps target where it has one;
- with 'fps: max': qnnc's FPS, LUT, BRAM18 (goal: higher than FINN's best that fits);
- the board's I/O ceiling (one frame through FINN's IODMA on the board's memory port), the FPS
  each design delivers under it, and qnnc's 'fps: max' without the I/O bound (FINN's view):
  the LUT saved by not folding past the ceiling.
Results are printed and written to bench-out/folding_vs_finn.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "folding_vs_finn"
TARGETS = [f * 10**e for e in range(2, 8) for f in (1, 2, 5)] + [1e8]


def measure(model, part: str, clock_mhz: float) -> dict:
    from finn.analysis.fpgadataflow.dataflow_performance import dataflow_performance
    from finn.analysis.fpgadataflow.res_estimation import res_estimation
    from finn.transformation.fpgadataflow.annotate_cycles import AnnotateCycles

    model = model.transform(AnnotateCycles())
    res = model.analysis(lambda m: res_estimation(m, part))
    perf = model.analysis(dataflow_performance)
    total = {k: sum(v.get(k, 0) for v in res.values()) for k in ("LUT", "BRAM_18K", "URAM", "DSP")}
    return {"fps": clock_mhz * 1e6 / perf["max_cycles"], **total}


def fits(design: dict, budget: dict) -> bool:
    return all(design[k] <= budget[k] for k in ("LUT", "BRAM_18K", "DSP") if design[k] > 0)


def finn_folding(model, target_fps: float, clock_mhz: float):
    from finn.transformation.fpgadataflow.set_folding import SetFolding

    return model.transform(SetFolding(int(clock_mhz * 1e6 / target_fps), mvau_wwidth_max=36,
                                      two_pass_relaxation=True))


def qnnc_folding(model, spec, part: str, io: bool = True):
    from qnnc.backends.finn_units import apply
    from qnnc.backends.folding import choose

    found, report = choose(model, spec, part, io=io)
    return apply(model, found.attrs()), report["ceiling_fps"]


def compare(path: Path) -> dict:
    from qonnx.core.modelwrapper import ModelWrapper

    from qnnc.backends.zynq_prep import io_cycles
    from qnnc.compiler import Compilation
    from qnnc.hw.boards import BOARDS
    from qnnc.pipeline.runner import estimate_untrained
    from qnnc.spec.target import budget

    comp = Compilation.from_path(str(path))
    root = OUT / path.stem
    t0 = time.perf_counter()
    estimate_untrained(comp, root, log=lambda line: None)
    prefolding = root / "finn" / "intermediate_models" / "step_minimize_bit_width.onnx"
    spec = comp.spec
    clock, part = spec.target.clock_mhz, BOARDS[spec.target.board].part
    free = spec.model_copy(update={"target": spec.target.model_copy(update={"folds": {}})})
    allowed = budget(spec)

    io_fps = clock * 1e6 / max(io_cycles(ModelWrapper(str(prefolding)), BOARDS[spec.target.board].port_bits).values())

    def at(target: float | None, io: bool = True):
        s = free.model_copy(update={"target": free.target.model_copy(update={"fps": target or float("inf")})})
        model, ceiling = qnnc_folding(ModelWrapper(str(prefolding)), s, part, io)
        design = measure(model, part, clock)
        return {**design, "ceiling_fps": ceiling, "delivered_fps": min(design["fps"], io_fps)}

    finn = {t: measure(finn_folding(ModelWrapper(str(prefolding)), t, clock), part, clock) for t in TARGETS}
    fitting = {t: d for t, d in finn.items() if fits(d, allowed)}
    best_target = max(fitting, key=lambda t: fitting[t]["fps"]) if fitting else None
    finn_best = fitting.get(best_target)
    row = {"spec": path.stem, "budget": allowed, "finn_best_target": best_target, "finn_best": finn_best,
           "qnnc_at_finn_fps": at(finn_best["fps"]) if finn_best else None,
           "qnnc_max": at(None), "qnnc_max_without_io": at(None, io=False), "io_fps": io_fps,
           "seconds": round(time.perf_counter() - t0, 1)}
    if spec.target.fps != float("inf"):
        row["spec_target"] = spec.target.fps
        row["finn_at_spec_target"] = measure(finn_folding(ModelWrapper(str(prefolding)), spec.target.fps, clock),
                                             part, clock)
        row["qnnc_at_spec_target"] = at(spec.target.fps)
        row["qnnc_at_finn_spec_fps"] = at(row["finn_at_spec_target"]["fps"])
    return row


def verdicts(row: dict) -> list[str]:
    out = []
    for label, finn_key, qnnc_key in (("at FINN's best fitting FPS", "finn_best", "qnnc_at_finn_fps"),
                                      ("at FINN's FPS for the spec target", "finn_at_spec_target",
                                       "qnnc_at_finn_spec_fps")):
        f, q = row.get(finn_key), row.get(qnnc_key)
        if f and q:  # compared at the FPS each delivers through the board's I/O
            ok = q["delivered_fps"] >= min(f["fps"], row["io_fps"]) and q["LUT"] <= f["LUT"] and \
                q["BRAM_18K"] <= f["BRAM_18K"]
            out.append(f"{label}: {'ok' if ok else 'MISSED'}")
    if row["finn_best"]:
        q, f = row["qnnc_max"], row["finn_best"]
        if q["fps"] >= row["io_fps"] * (1 - 1e-9) and f["fps"] >= row["io_fps"]:
            out.append("fps max: both reach the board's I/O ceiling; qnnc stops there")
        elif f["fps"] >= q["ceiling_fps"] * (1 - 1e-9):
            out.append(f"fps max: both at this network's ceiling ({q['ceiling_fps']:,.0f} FPS, every unit unfolded)")
        elif q["fps"] == f["fps"] and fits(q, row["budget"]):
            out.append("fps max: tie, FINN's best is already the fastest design that fits (qnnc's solver finds "
                       "no faster one under the caps)")
        else:
            better = q["fps"] > f["fps"] and fits(q, row["budget"])
            out.append(f"fps max beats FINN's best that fits: {'ok' if better else 'MISSED'}")
    return out


def show(d: dict | None) -> str:
    return "-" if not d else f"{d['fps']:>12,.0f} FPS {d['LUT']:>7,.0f} LUT {d['BRAM_18K']:>4,.0f} BRAM18"


def main(paths: list[Path]) -> None:
    rows = [compare(p) for p in paths]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT.parent / "folding_vs_finn.json").write_text(json.dumps(rows, indent=2) + "\n")
    for row in rows:
        print(f"{row['spec']} (caps: {row['budget']['LUT']:,.0f} LUT, {row['budget']['BRAM_18K']:,.0f} BRAM18)")
        if "spec_target" in row:
            print(f"  FINN  at spec fps {row['spec_target']:,.0f}: {show(row['finn_at_spec_target'])}")
            print(f"  qnnc  at spec fps {row['spec_target']:,.0f}: {show(row['qnnc_at_spec_target'])}")
            print(f"  qnnc  at FINN's FPS for it:          {show(row['qnnc_at_finn_spec_fps'])}")
        print(f"  FINN  best that fits (target_fps {row['finn_best_target'] or 0:,.0f}): {show(row['finn_best'])}")
        print(f"  qnnc  at FINN's FPS:                {show(row['qnnc_at_finn_fps'])}")
        print(f"  qnnc  fps max:                      {show(row['qnnc_max'])}")
        loose = row["qnnc_max_without_io"]
        print(f"  qnnc  fps max, I/O left out:        {show(loose)}")
        print(f"  I/O ceiling {row['io_fps']:,.0f} FPS: FINN's best delivers "
              f"{min(row['finn_best']['fps'], row['io_fps']) if row['finn_best'] else 0:,.0f}, qnnc's fps max "
              f"{row['qnnc_max']['delivered_fps']:,.0f}; LUT saved by not folding past it: "
              f"{loose['LUT'] - row['qnnc_max']['LUT']:,.0f}")
        print("  " + "; ".join(verdicts(row)) + f"  ({row['seconds']} s)")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or sorted((ROOT / "specs").glob("*.qnn")))
