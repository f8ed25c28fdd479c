"""The sweep's results: every trial in a table, the Pareto front of accuracy against energy per
inference, the recommended design, its spec written out as a ready .qnn, and a plot.

Accuracy here is validation accuracy (samples held out of each trial's training set): fronts,
the recommendation and ``min_accuracy`` use it. Each trial's test accuracy is shown beside it and
chooses nothing."""

from __future__ import annotations

import json
from pathlib import Path

from qnnc.fsutil import write_text_atomic


def rows(trials) -> list[dict]:
    """One row per trial (Optuna's FrozenTrial): its state, parameters, directory and results."""
    out = []
    for t in trials:
        row = {"number": t.number, "state": t.state.name, "params": dict(t.params), "dir": t.user_attrs.get("dir")}
        row.update(t.user_attrs.get("result", {}))
        for key in ("error", "stopped_early"):  # why a trial failed, or why it was stopped early
            if t.user_attrs.get(key):
                row[key] = t.user_attrs[key]
        out.append(row)
    return out


# the fronts a sweep reports: accuracy (higher is better) against each of these
FRONTS = {"energy_uj": "min", "fps": "max", "LUT": "min"}


def pareto(done: list[dict], key: str = "energy_uj") -> list[dict]:
    """Trials no other trial beats on both accuracy (higher) and ``key`` (per ``FRONTS``),
    in order of ``key``, best last for accuracy."""
    sign = 1 if FRONTS[key] == "min" else -1

    def dominated(a, b):
        cost_a, cost_b = sign * a[key], sign * b[key]
        return (b["val_accuracy"] >= a["val_accuracy"] and cost_b <= cost_a
                and (b["val_accuracy"] > a["val_accuracy"] or cost_b < cost_a))
    return sorted((a for a in done if not any(dominated(a, b) for b in done)), key=lambda r: sign * r[key])


def recommend(done: list[dict], min_accuracy: float | None) -> dict | None:
    """The least energy per inference among the designs that reach the accuracy."""
    feasible = [r for r in done if min_accuracy is None or r["val_accuracy"] >= min_accuracy]
    return min(feasible, key=lambda r: (r["energy_uj"], -r["val_accuracy"])) if feasible else None


def summarize(trials, spec, root: Path) -> dict:
    table = rows(trials)
    done = [r for r in table if r["state"] == "COMPLETE"]
    front = pareto(done)
    best = recommend(done, spec.sweep.min_accuracy)
    summary = {"objective": spec.sweep.objective, "min_accuracy": spec.sweep.min_accuracy, "trials": table,
               "pareto": [r["number"] for r in front], "recommended": best["number"] if best else None,
               "pareto_fps": [r["number"] for r in pareto(done, "fps")],
               "pareto_lut": [r["number"] for r in pareto(done, "LUT")]}
    write_text_atomic(root / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if best:
        text = (Path(best["dir"]) / "spec.qnn").read_text()
        header = (f"# qnnc sweep of {spec.path}: trial {best['number']} {format_params(best['params'])}\n"
                  f"# validation accuracy {best['val_accuracy'] * 100:.2f} % "
                  f"(test {best['test_accuracy'] * 100:.2f} %), "
                  f"{best['energy_uj']:.4f} uJ per inference "
                  f"(estimate), {best['fps']:,.0f} FPS, {best['LUT']:,.0f} LUT, {best['BRAM_18K']:,.0f} BRAM18\n")
        write_text_atomic(root / "best.qnn", header + text)
    if done:
        plot(done, best, root / "pareto.png", title=f"{spec.network.name}: accuracy vs energy per inference")
    return summary


def format_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(params.items()))


def format_table(summary: dict) -> str:
    best = summary["recommended"]
    fronts = {"pareto": set(summary["pareto"]), "fps-front": set(summary.get("pareto_fps", ())),
              "lut-front": set(summary.get("pareto_lut", ()))}
    lines = [f"{'#':>3} {'configuration':<40} {'val acc':>9} {'test acc':>9} {'uJ/inf':>9} {'FPS':>12} {'LUT':>7} "
             f"{'BRAM18':>6}  "]
    for r in summary["trials"]:
        mark = " ".join(["best"] * (r["number"] == best) + [name for name, front in fronts.items()
                                                             if r["number"] in front])
        if r["state"] == "COMPLETE":
            lines.append(f"{r['number']:>3} {format_params(r['params']):<40} {r['val_accuracy'] * 100:>8.2f}% "
                         f"{r['test_accuracy'] * 100:>8.2f}% "
                         f"{r['energy_uj']:>9.4f} {r['fps']:>12,.0f} {r['LUT']:>7,.0f} {r['BRAM_18K']:>6,.0f}  {mark}")
        else:
            lines.append(f"{r['number']:>3} {format_params(r['params']):<40} {r['state'].lower()}: "
                         f"{(r.get('error') or r.get('stopped_early', ''))[:120]}")
    return "\n".join(lines)


AXES = {"energy_uj": "energy per inference, uJ (estimate)", "fps": "throughput, FPS (estimate)",
        "LUT": "LUT (estimate)"}


def plot(done: list[dict], best: dict | None, path: Path, *, title: str) -> None:
    """Accuracy against energy per inference (the objective, annotated), FPS and LUT, each with
    its Pareto front; the recommended design circled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [2, 1, 1]})
    for ax, key in zip(axes, FRONTS, strict=True):
        front = pareto(done, key)
        ax.scatter([r[key] for r in done], [r["val_accuracy"] * 100 for r in done], color="tab:gray", label="trials")
        ax.plot([r[key] for r in front], [r["val_accuracy"] * 100 for r in front], "o-", color="tab:red",
                label="Pareto front")
        if best:
            ax.scatter([best[key]], [best["val_accuracy"] * 100], s=160, facecolors="none", edgecolors="black",
                       label="recommended")
        if key != "LUT":  # LUT counts under the same caps span too little for a log axis
            ax.set_xscale("log")
        ax.set_xlabel(AXES[key])
        ax.set_ylabel("validation accuracy, %")
    for r in done:
        axes[0].annotate(format_params(r["params"]), (r["energy_uj"], r["val_accuracy"] * 100), fontsize=7,
                         xytext=(3, 3), textcoords="offset points")
    axes[0].set_title(title)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
