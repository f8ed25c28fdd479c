"""The estimate as a picture: per-layer resources against the board's capacity and caps, and
cycles per layer against the bottleneck."""

from __future__ import annotations

from pathlib import Path

ESTIMATE_PNG = "estimate.png"
SHOWN = (("LUT", "LUT"), ("BRAM_18K", "BRAM18"), ("DSP", "DSP"))


def by_layer(rows: list[dict]) -> dict[str, dict]:
    """Per spec layer (FINN units of the same layer summed; units of no layer by their name):
    resources, and cycles of the slowest unit."""
    out: dict[str, dict] = {}
    for row in rows:
        entry = out.setdefault(row["layer"] or row["node"], {"cycles": 0, **{k: 0.0 for k, _ in SHOWN}})
        entry["cycles"] = max(entry["cycles"], row["cycles"])
        for key, _ in SHOWN:
            entry[key] += row[key]
    return out


def save(summary: dict, path: Path, *, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    layers = by_layer(summary["per_layer"])
    names = list(layers)
    fig, axes = plt.subplots(1, len(SHOWN) + 1, figsize=(4 * (len(SHOWN) + 1), 0.45 * len(names) + 2.2),
                             sharey=True)
    budget = summary["folding"]["budget"]
    for ax, (key, label) in zip(axes, SHOWN, strict=False):
        ax.barh(names, [layers[n][key] for n in names], color="tab:blue")
        ax.axvline(summary["capacity"][key], color="black", label="board")
        ax.axvline(budget[key], color="tab:red", linestyle="--", label="cap")
        ax.set_title(f"{label}: {summary['resources'][key]:,.0f} of {summary['capacity'][key]:,}")
        ax.set_xlim(0, summary["capacity"][key] * 1.05 or 1)
    axes[0].legend(loc="lower right", fontsize="small")
    ax = axes[-1]
    cycles = [layers[n]["cycles"] for n in names]
    bars = ax.barh(names, cycles, color="tab:green")
    ax.bar_label(bars, labels=[f"{c:,.0f}" for c in cycles], fontsize="small")
    log = max(cycles) > 50 * max(1, min(cycles))  # a log axis only where the layers differ that much
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(right=max(cycles) * (3 if log else 1.2))
    ax.set_title(f"cycles/frame: {summary['fps']:,.0f} FPS")
    ax.invert_yaxis()
    fig.suptitle(f"{title}: FINN estimate, folding by qnnc ({summary['folding']['mode']})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path.name)
