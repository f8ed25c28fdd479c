"""The build's results as text: the end-of-build summary (from build.json) and the estimate's
table (from estimate.json's summary). Reads results only; never runs a stage."""

from __future__ import annotations

from pathlib import Path

from qnnc.spec import model as m


def summary_lines(record: dict, spec: m.Spec, root: Path) -> list[str]:
    """The end-of-build summary from build.json's record (nothing when no stage has a result)."""
    stages = record["stages"]
    lines = [f"summary of {root}:"]
    train = stages.get("train", {}).get("outputs")
    if train:
        if train.get("validation_accuracy") is not None:
            lines.append(f"  validation      {train['validation_accuracy'] * 100:.2f} %  (epoch {train['kept_epoch']}, "
                         "the model kept)")
        lines.append(f"  test accuracy   {train['test_accuracy'] * 100:.2f} %  (metrics.json, model.pt)")
        teacher = train.get("teacher")
        if teacher and teacher.get("val_accuracy") is not None:
            lines.append(f"  teacher         {teacher['val_accuracy'] * 100:.2f} % validation (float, epoch "
                         f"{teacher['epoch']} of {teacher['epochs']}; taught the model, not exported)")
    est = stages.get("estimate", {}).get("outputs")
    if est and stages["estimate"].get("status") == "done":
        lines.append(f"  throughput      {est['fps']:,.0f} FPS at {spec.target.clock_mhz:g} MHz, "
                     f"latency {est['latency_ns'] / 1000:.2f} us, bottleneck {est['bottleneck']}")
        if est.get("io_cycles"):
            lines.append(f"  I/O             {_io_text(est, spec.target.clock_mhz)}")
        for key in ("LUT", "BRAM_18K", "DSP"):
            lines.append(f"  {key:<15} {est['resources'][key]:>8,.0f} of {est['capacity'][key]:,} "
                         f"({est['utilization'][key] * 100:.1f} %) on {spec.target.board}")
        if "power" in est:
            power = est["power"]
            lines.append(f"  energy          {power['energy_per_inference_uj']:.4f} uJ per inference at "
                         f"{power['total_w']:.3f} W ({_power_source(power)})")
            lines.append(f"  folding         {est['folding']['mode']}: finn/folding_config.json, plot estimate.png")
        lines.append("  FINN reports    finn/report/, models per step in finn/intermediate_models/")
    hw = stages.get("hwgen", {}).get("outputs")
    if hw and stages["hwgen"].get("status") == "done":
        lines.append(f"  hardware code   {len(hw['nodes'])} nodes' HLS C++ and Verilog in hw/ (FINN's generators), "
                     f"driver settings {hw['driver_settings']}")
    sim = stages.get("simulate", {}).get("outputs")
    if sim and stages["simulate"].get("status") == "done":
        lines.append(f"  simulation      {_simulation_text(sim)}")
    package = stages.get("package", {}).get("outputs")
    if package and stages["package"].get("status") == "done":
        missing = ", ".join(package["missing"]) or "nothing: ready for the board"
        lines.append(f"  deployment      {package['folder']}/ (driver settings, validate.py, {package['samples']} test "
                     f"samples); missing: {missing}")
    return lines if len(lines) > 1 else []


def _simulation_text(sim: dict) -> str:
    if "not_simulated_because" in sim:
        return f"not run: {sim['not_simulated_because']}"
    return (f"{sim['simulated']} of {len(sim['nodes'])} nodes simulated (DMAs and HLS in C++, RTL in Verilator), the "
            f"driver's packing included, bit-exact on {sim['samples']} test samples; {sim['python']} in FINN's Python "
            "model (sim/, reasons in build.json)")


def folding_text(attrs: dict) -> str:
    short = {"PE": "pe", "SIMD": "simd", "ram_style": "ram", "parallel_window": "pw"}
    return " ".join(f"{short.get(k, k)} {v}" for k, v in attrs.items() if k in short and v != "auto")


def format_estimate(summary: dict) -> str:
    rows = [f"{'FINN unit':<32} {'spec layer':<10} {'folding':<26} {'cycles':>8} {'LUT':>7} {'BRAM18':>6} {'DSP':>4}"]
    for row in summary["per_layer"]:
        rows.append(f"{row['node']:<32} {row['layer'] or '-':<10} {folding_text(row['folding']):<26} "
                    f"{row['cycles']:>8} {row['LUT']:>7.0f} {row['BRAM_18K']:>6} {row['DSP']:>4}")
    util, folding, power = summary["utilization"], summary["folding"], summary["power"]
    caps = {k: folding["budget"][k] / folding["capacity"][k] for k in util}
    rows += [
        "",
        f"folding        {folding['mode']} (qnnc; FINN's cost models), written to finn/folding_config.json",
        f"throughput     {summary['fps']:,.0f} FPS at {summary['clock_mhz']:g} MHz, latency "
        f"{summary['latency_ns'] / 1000:.2f} us, bottleneck {summary['bottleneck']}",
        f"I/O            {_io_text(summary, summary['clock_mhz'])}",
        f"{summary['board']:<14} " + ", ".join(f"{k} {util[k] * 100:.1f} % (cap {caps[k] * 100:.0f} %)" for k in util),
        f"power          {power['total_w']:.3f} W ({power['static_w']:.3f} static + {power['dynamic_w']:.3f} dynamic), "
        f"{_power_source(power)}",
        f"               {power['system_w']:.3f} W with the processing system ({power['ps_w']:.3f} W, not the "
        "accelerator's: left out of the energy)",
        f"energy         {power['energy_per_inference_uj']:.4f} uJ per inference (accelerator power / FPS)",
        f"plot           {summary.get('plot')}",
    ]
    return "\n".join(rows)


def _io_text(summary: dict, clock_mhz: float) -> str:
    """The board's I/O ceiling and whether it bounds the design."""
    dma = summary.get("io_cycles") or {}
    if not dma:
        return "not modelled"
    parts = ", ".join(f"{name} {cycles} cycles" for name, cycles in sorted(dma.items()))
    bound = "bounds the design" if summary.get("bound_by") == "I/O" else \
        f"the layers alone would give {summary['fps_layers']:,.0f} FPS"
    return f"{parts} per frame: at most {summary['fps_io']:,.0f} FPS at {clock_mhz:g} MHz; {bound}"


def _power_source(power: dict) -> str:
    if power["source"] == "estimate" and power.get("calibrated", True):
        return "an estimate from resources and clock, calibrated on published Vivado reports (qnnc/hw/power.py)"
    if power["source"] == "estimate":
        return f"an estimate from resources and clock, {power['basis']}"
    return f"from Vivado's report_power ({power['basis']})"
