"""Matplotlib figures rendered (Agg) to base64 PNG, so the report is one self-contained file with no scripts."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

# One colour per answering system, the same in every figure.
SYSTEM_COLORS = {"base": "#9aa5b1", "student": "#2f80ed", "teacher": "#27ae60"}
RATING_COLORS = {"good": "#27ae60", "okay": "#f2c94c", "bad": "#eb5757", "failed": "#bdbdbd"}


def _figure(width: float, height: float) -> tuple[Any, Any]:
    # A bare Figure (no pyplot): no global backend switch and no figure registry, so a caller's own plots are untouched.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.subplots()


def to_png_base64(fig: Any) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def bar_counts(counts: Mapping[str, float], title: str, xlabel: str = "count", color: str = "#2f80ed") -> str:
    """Horizontal bars, largest first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    fig, ax = _figure(7, max(2.0, 0.28 * len(items) + 1))
    ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color=color)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return to_png_base64(fig)


def funnel(steps: Sequence[tuple[str, float]], title: str) -> str:
    """Remaining records after each step, top to bottom."""
    fig, ax = _figure(7, max(2.0, 0.4 * len(steps) + 1))
    labels = [s for s, _ in steps][::-1]
    values = [v for _, v in steps][::-1]
    bars = ax.barh(labels, values, color="#2f80ed")
    for bar, value in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {int(value)}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("records")
    return to_png_base64(fig)


def histogram(values: Sequence[float], title: str, xlabel: str, bins: int = 30) -> str:
    fig, ax = _figure(5, 3)
    lo, hi = (min(values), max(values)) if values else (0, 0)
    if all(float(v).is_integer() for v in values) and hi - lo < 60:
        edges: Any = [lo - 0.5 + i for i in range(int(hi - lo) + 2)]  # one bar per integer value (turns, levels)
    else:
        edges = bins
    ax.hist(values, bins=edges, color="#2f80ed", edgecolor="white")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    return to_png_base64(fig)


def line(points: Sequence[tuple[float, float]], title: str, xlabel: str, ylabel: str) -> str:
    fig, ax = _figure(7, 3.2)
    ax.plot([p[0] for p in points], [p[1] for p in points], color="#2f80ed", marker="." if len(points) < 60 else None)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return to_png_base64(fig)


def rating_bars(per_group: Mapping[str, Mapping[str, Mapping[str, Any]]], title: str) -> str:
    """Stacked Good/Okay/Bad/failed shares per group (emotion or polarity), one bar per system side by side.

    `per_group[group][system]` is a rating-count dict from eval.json (good, okay, bad, failed, n).
    """
    groups = sorted(per_group)
    systems = sorted(
        {s for g in groups for s in per_group[g]},
        key=lambda s: list(SYSTEM_COLORS).index(s) if s in SYSTEM_COLORS else 99,
    )
    width = 0.8 / max(1, len(systems))
    fig, ax = _figure(max(7, 0.55 * len(groups) * max(1, len(systems)) / 1.5), 4.2)
    for j, system in enumerate(systems):
        xs = [i + (j - (len(systems) - 1) / 2) * width for i in range(len(groups))]
        bottom = [0.0] * len(groups)
        for rating in ("good", "okay", "bad", "failed"):
            heights = []
            for g in groups:
                c = per_group[g].get(system)
                n = (c or {}).get("n") or 0
                heights.append(((c or {}).get(rating, 0) / n) if n else 0.0)
            ax.bar(
                xs,
                heights,
                width * 0.95,
                bottom=bottom,
                color=RATING_COLORS[rating],
                edgecolor=SYSTEM_COLORS.get(system, "black"),
                linewidth=1.2,
                label=rating if j == 0 else None,
            )
            bottom = [b + h for b, h in zip(bottom, heights)]
        for x in xs:
            ax.text(x, 1.01, system[0].upper(), ha="center", fontsize=6, color=SYSTEM_COLORS.get(system, "black"))
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("share of responses")
    ax.set_title(title + "\nbars left to right: " + ", ".join(f"{s[0].upper()} = {s}" for s in systems), fontsize=10)
    ax.legend(loc="upper right", fontsize=7, ncols=4)
    return to_png_base64(fig)


def grouped_means(per_system: Mapping[str, Mapping[str, float | None]], metrics: Sequence[str], title: str) -> str:
    """Bars of each metric's mean, one bar per system."""
    systems = list(per_system)
    width = 0.8 / max(1, len(systems))
    fig, ax = _figure(max(6, 0.9 * len(metrics) + 2), 3.4)
    for j, system in enumerate(systems):
        xs = [i + (j - (len(systems) - 1) / 2) * width for i in range(len(metrics))]
        ax.bar(
            xs,
            [per_system[system].get(m) or 0.0 for m in metrics],
            width * 0.95,
            color=SYSTEM_COLORS.get(system, "#555555"),
            label=system,
        )
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels(metrics, rotation=30, ha="right", fontsize=8)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return to_png_base64(fig)
