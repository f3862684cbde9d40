"""PNG plots for the benchmark report: recall@K curves and latency bars (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CurvePanel:
    """One plot: a recall@K curve per system, and published points as markers."""

    title: str
    ks: Sequence[int]
    curves: dict[str, Sequence[float]]  # label -> recall at each k
    published: dict[str, dict[int, float]] = field(default_factory=dict)  # label -> {k: recall}


@dataclass(frozen=True)
class BarPanel:
    title: str
    values: dict[str, float]  # label -> milliseconds
    unit: str = "ms"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def recall_curves(panels: Sequence[CurvePanel], path: Path) -> Path:
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 6.2), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        for label, values in panel.curves.items():
            axis.plot(list(panel.ks), list(values), label=label, linewidth=1.6)
        markers = iter("osD^vP*X")
        for label, points in panel.published.items():
            axis.scatter(
                list(points),
                list(points.values()),
                marker=next(markers, "o"),
                s=36,
                zorder=3,
                label=f"{label} (published)",
                edgecolors="black",
                linewidths=0.5,
            )
        axis.set_xscale("log")
        axis.set_xlabel("K")
        axis.set_ylabel("Recall@K")
        axis.set_title(panel.title, fontsize=10)
        axis.grid(True, which="both", alpha=0.3)
        axis.set_ylim(bottom=0)
        axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def latency_bars(panels: Sequence[BarPanel], path: Path) -> Path:
    plt = _pyplot()
    rows = max(len(panel.values) for panel in panels)
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(9, 0.32 * rows * len(panels) + 1.6 * len(panels)), squeeze=False
    )
    for axis, panel in zip(axes[:, 0], panels):
        labels, values = list(panel.values), list(panel.values.values())
        bars = axis.barh(range(len(values)), values, color="#4C72B0")
        axis.set_yticks(range(len(values)), labels, fontsize=7.5)
        axis.invert_yaxis()
        axis.set_xlabel(f"{panel.unit} (log scale)")
        axis.set_xscale("symlog", linthresh=1)
        axis.set_title(panel.title, fontsize=10)
        axis.bar_label(bars, labels=[f"{v:,.1f}" for v in values], fontsize=7, padding=2)
        axis.margins(x=0.2)
    figure.tight_layout()
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
