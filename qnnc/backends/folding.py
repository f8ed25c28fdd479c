"""qnnc's folding step inside FINN's build: cost every legal folding of every unit with FINN's
own cost models, let the solver choose (``fps: max`` -> fastest that fits the board's caps; an
``fps:`` target -> cheapest that meets it; the spec's ``fold`` lines are kept as written),
write the result as FINN's folding config JSON and apply it with FINN's own step."""

from __future__ import annotations

import json
from pathlib import Path

from qnnc.backends import finn_units, zynq_prep
from qnnc.errors import Diagnostic, InternalError, SpecError
from qnnc.fsutil import write_text_atomic
from qnnc.hw import analytic, solver
from qnnc.hw.boards import BOARDS
from qnnc.spec import model as m
from qnnc.spec import target as hw_target

FOLDING_JSON = "finn/folding_config.json"
FOLDING_REPORT = "finn/report/qnnc_folding.json"


def pinned(nodes, spec: m.Spec, owners: dict[str, str]) -> dict[str, dict]:
    """FINN node -> attributes the spec's fold lines fix. A conv's window generator takes the
    conv's SIMD when it divides the generator's input channels."""
    layers = {layer.name: layer for layer in spec.network.layers}
    pins: dict[str, dict] = {}
    for node in nodes:
        fold = spec.target.folds.get(owners.get(node.name, ""))
        if fold is None:
            continue
        values = fold.model_dump(exclude_none=True)
        if node.op_type.startswith(finn_units.WEIGHT_UNITS):
            pins[node.name] = fold.unit_settings()
        elif node.op_type.startswith(("Pool", "LabelSelect", "Thresholding")) and "pe" in values:
            pins[node.name] = {"PE": values["pe"]}
        elif node.op_type.startswith("ConvolutionInputGenerator") and "simd" in values \
                and isinstance(layers[owners[node.name]], m.Conv) and not layers[owners[node.name]].depthwise:
            pins[node.name] = {"SIMD": values["simd"]}
    return pins


def fifo_depths(nodes, spec: m.Spec) -> dict[str, dict]:
    """FINN node -> the FIFO depths the spec's fold lines set (``in_fifo``, ``out_fifo``), on the
    first and the last unit of the layer (a conv's padding or window generator, and its matrix
    unit). FINN's InsertFIFO builds each FIFO the deeper of its two sides asks for."""
    nodes = list(nodes)
    owners = finn_units.match_units(nodes, spec)
    found: dict[str, dict] = {}
    for layer, fold in spec.target.folds.items():
        own = [n.name for n in nodes if owners.get(n.name) == layer]
        for key, node in (("in_fifo", own[:1]), ("out_fifo", own[-1:])):
            if getattr(fold, key) is not None and node:
                found.setdefault(node[0], {})[m.FIFO_NAMES[key]] = [getattr(fold, key)]
    return found


def choose(model, spec: m.Spec, fpgapart: str, io: bool = True) -> tuple[solver.Solution, dict]:
    """The folding of every unit; ``io=False`` leaves the board's I/O out (as FINN's own
    folding does), for comparison."""
    owners = finn_units.match_units(model.graph.node, spec)
    pins = pinned(model.graph.node, spec, owners)
    cap, budget, target = hw_target.capacity(spec), hw_target.budget(spec), hw_target.target_cycles(spec)
    try:
        units = finn_units.units(model, fpgapart, owners, pins, analytic.storage_options(cap["URAM"] > 0))
    except finn_units.IllegalFoldingError as exc:
        fold = spec.target.folds.get(exc.layer or "")
        if fold is None:
            raise InternalError(str(exc)) from exc
        raise SpecError([Diagnostic("Q036", f"FINN refuses the folding of '{exc.layer}' at {exc.node}: {exc}",
                                    fold.span, hint="remove the fold line or change its values")]) from exc
    port_bits = BOARDS[spec.target.board].port_bits
    if io:
        units += [solver.io_unit(name, cycles) for name, cycles in zynq_prep.io_cycles(model, port_bits).items()]
    found = solver.fastest(units, budget, cap) if target is None else solver.cheapest(units, budget, cap, target)
    return found, report(found, units, spec, budget, target, pins)


def report(found: solver.Solution, units: list[solver.Unit], spec: m.Spec, budget: dict, target: int | None,
           pins: dict) -> dict:
    layer_of = {u.name: u.layer for u in units}
    rows = []
    for name, choice in found.picks.items():
        rows.append({"unit": name, "layer": layer_of[name], "cycles": choice.cycles,
                     "attrs": {n: dict(a) for n, a in choice.attrs.items()},
                     "pinned": any(n in pins for n in choice.attrs), **dict(choice.cost)})
    costliest = max(rows, key=lambda r: r["LUT"] / budget["LUT"] + r["BRAM_18K"] / max(budget["BRAM_18K"], 1))
    return {
        "mode": "fastest that fits" if target is None else "cheapest that meets the target",
        "target_cycles": target, "clock_mhz": spec.target.clock_mhz,
        "cycles": found.cycles, "fps": found.fps(spec.target.clock_mhz), "bottleneck": found.bottleneck,
        "bottleneck_layer": layer_of[found.bottleneck],
        "ceiling_fps": spec.target.clock_mhz * 1e6 / max(u.fastest_cycles for u in units),  # all unfolded
        "fits": found.fits, "meets_target": target is None or found.cycles <= target,
        "totals": found.totals, "budget": budget, "capacity": hw_target.capacity(spec),
        "costliest": costliest["layer"] or costliest["unit"], "units": rows,
    }


def make_folding_step(spec: m.Spec, root: Path):
    def step_qnnc_folding(model, cfg):
        """qnnc chooses PE/SIMD per unit from FINN's cost models; FINN's step applies it."""
        from finn.builder.build_dataflow_steps import step_apply_folding_config
        from qonnx.transformation.general import GiveUniqueNodeNames

        model = model.transform(GiveUniqueNodeNames())
        found, summary = choose(model, spec, cfg._resolve_fpga_part())
        chosen = found.attrs()
        for node, depths in fifo_depths(model.graph.node, spec).items():
            chosen[node] = {**chosen.get(node, {}), **depths}
        write_text_atomic(root / FOLDING_JSON, json.dumps({"Defaults": {}, **chosen}, indent=2,
                                                          sort_keys=True) + "\n")
        cfg.folding_config_file = str(root / FOLDING_JSON)
        model = step_apply_folding_config(model, cfg)
        prepared = zynq_prep.prepare(model, cfg._resolve_fpga_part(), BOARDS[spec.target.board].port_bits)
        summary["dma_cycles"] = zynq_prep.dma_cycles(prepared)
        write_text_atomic(root / FOLDING_REPORT, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return model

    return step_qnnc_folding
