"""The sweep's results: every trial in a table, the Pareto front of accuracy against energy per
inference, the recommended design, its spec written out as a ready .qnn, and a plot."""

from __future__ import annotations

import json
from pathlib import Path

from qnnc.fsutil import write_text_atomic


def rows(study) -> list[dict]:
    import optuna

    out = []
    for t in study.trials:
        if t.state == optuna.trial.TrialState.RUNNING or "duplicate_of" in t.user_attrs:
            continue
        row = {"number": t.number, "state": t.state.name, "params": dict(t.params), "dir": t.user_attrs.get("dir")}
        row.update(t.user_attrs.get("result", {}))
        for key in ("error", "pruned"):  # why a trial failed, or why it was stopped early
            if t.user_attrs.get(key):
                row[key] = t.user_attrs[key]
        out.append(row)
    return out


def pareto(done: list[dict]) -> list[dict]:
    """Trials no other trial beats on both accuracy (higher) and energy (lower)."""
    def dominated(a, b):
        return (b["accuracy"] >= a["accuracy"] and b["energy_uj"] <= a["energy_uj"]
                and (b["accuracy"] > a["accuracy"] or b["energy_uj"] < a["energy_uj"]))
    return sorted((a for a in done if not any(dominated(a, b) for b in done)), key=lambda r: r["energy_uj"])


def recommend(done: list[dict], min_accuracy: float | None) -> dict | None:
    """The least energy per inference among the designs that reach the accuracy."""
    feasible = [r for r in done if min_accuracy is None or r["accuracy"] >= min_accuracy]
    return min(feasible, key=lambda r: (r["energy_uj"], -r["accuracy"])) if feasible else None


def summarize(study, spec, root: Path) -> dict:
    table = rows(study)
    done = [r for r in table if r["state"] == "COMPLETE"]
    front = pareto(done)
    best = recommend(done, spec.sweep.min_accuracy)
    summary = {"objective": spec.sweep.objective, "min_accuracy": spec.sweep.min_accuracy, "trials": table,
               "pareto": [r["number"] for r in front], "recommended": best["number"] if best else None}
    write_text_atomic(root / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if best:
        text = (Path(best["dir"]) / "spec.qnn").read_text()
        header = (f"# qnnc sweep of {spec.path}: trial {best['number']} {format_params(best['params'])}\n"
                  f"# test accuracy {best['accuracy'] * 100:.2f} %, {best['energy_uj']:.4f} uJ per inference "
                  f"(estimate), {best['fps']:,.0f} FPS, {best['LUT']:,.0f} LUT, {best['BRAM_18K']:,.0f} BRAM18\n")
        write_text_atomic(root / "best.qnn", header + text)
    if done:
        plot(done, front, best, root / "pareto.png", title=f"{spec.network.name}: accuracy vs energy per inference")
    return summary


def format_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(params.items()))


def format_table(summary: dict) -> str:
    front, best = set(summary["pareto"]), summary["recommended"]
    lines = [f"{'#':>3} {'configuration':<40} {'accuracy':>9} {'uJ/inf':>9} {'FPS':>12} {'LUT':>7} {'BRAM18':>6}  "]
    for r in summary["trials"]:
        mark = ("best" if r["number"] == best else "") + (" pareto" if r["number"] in front else "")
        if r["state"] == "COMPLETE":
            lines.append(f"{r['number']:>3} {format_params(r['params']):<40} {r['accuracy'] * 100:>8.2f}% "
                         f"{r['energy_uj']:>9.4f} {r['fps']:>12,.0f} {r['LUT']:>7,.0f} {r['BRAM_18K']:>6,.0f}  {mark}")
        else:
            lines.append(f"{r['number']:>3} {format_params(r['params']):<40} {r['state'].lower()}: "
                         f"{(r.get('error') or r.get('pruned', ''))[:120]}")
    return "\n".join(lines)


def plot(done: list[dict], front: list[dict], best: dict | None, path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter([r["energy_uj"] for r in done], [r["accuracy"] * 100 for r in done], color="tab:gray",
               label="trials")
    ax.plot([r["energy_uj"] for r in front], [r["accuracy"] * 100 for r in front], "o-", color="tab:red",
            label="Pareto front")
    for r in done:
        ax.annotate(format_params(r["params"]), (r["energy_uj"], r["accuracy"] * 100), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    if best:
        ax.scatter([best["energy_uj"]], [best["accuracy"] * 100], s=160, facecolors="none", edgecolors="black",
                   label="recommended")
    ax.set_xscale("log")
    ax.set_xlabel("energy per inference, uJ (estimate)")
    ax.set_ylabel("test accuracy, %")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
