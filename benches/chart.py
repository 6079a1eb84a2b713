"""Draws the ratios of a comparison as a bar chart (PNG).

    python -I benches/chart.py results/summary.json results/ratios.png

Run by `benches/compare.py` with the interpreter of `benches/.venvs/_report`,
which has matplotlib; it reads the `summary.json` that compare.py writes.
Each workload is a group of horizontal bars, one per peer: its time divided by
opsml's, on a log scale, so that 10x slower and 10x faster are as far from 1.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]


def main(summary_path: Path, png: Path) -> None:
    summary = json.loads(summary_path.read_text())
    peers = [t for t in summary["trackers"] if t != "opsml"]
    titles = summary["titles"]
    rows = [r for r in summary["rows"] if r["ratio"]]
    height = 0.8 / max(1, len(peers))
    fig, ax = plt.subplots(figsize=(11, 1.0 + 0.55 * len(rows) * max(1, len(peers)) ** 0.6))
    ratios = [v for r in rows for t in peers if (v := r["ratios"].get(t)) is not None and v > 0]
    low = min([*ratios, 1.0]) / 2
    high = max([*ratios, 1.0]) * 3
    for i, peer in enumerate(peers):
        ys, xs = [], []
        for j, row in enumerate(rows):
            y = j + (i - (len(peers) - 1) / 2) * height
            value = row["ratios"].get(peer)
            cell = row["cells"][peer]
            if value is None or value <= 0:
                status = cell["status"]
                if status in ("failed", "timeout"):
                    reason = status
                elif status == "unsupported":
                    reason = "n/a"
                elif row["cells"]["opsml"]["status"] != "ok":
                    reason = "no opsml figure"
                else:
                    reason = "not run"
                ax.text(low * 1.1, y, reason, va="center", fontsize=7, color=COLORS[i])
                continue
            ys.append(y)
            xs.append(value)
            label = f"{value:.0f}" if value >= 10 else f"{value:.2g}"
            ax.text(
                max(value, 1.0) * 1.08,
                y,
                f"{label}\u00d7",
                va="center",
                fontsize=7,
                color="#222222",
            )
        # Bars grow from 1 (as fast as opsml): right when slower, left when faster.
        ax.barh(
            ys,
            [x - 1.0 for x in xs],
            left=1.0,
            height=height * 0.9,
            color=COLORS[i % len(COLORS)],
            label=titles[peer],
        )
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([textwrap.fill(r["label"].replace("`", ""), 34) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"time relative to {titles['opsml']} (log scale; above 1: opsml is faster)")
    reps = summary["repetitions"]
    ax.set_title(
        f"Peers' time / opsml's time, median of {reps} run{'s' if reps > 1 else ''}, "
        f"{summary['date']}\n{summary['machine']['cpu']}, {summary['machine']['cores']} cores, "
        f"Python {summary['machine']['python']}",
        fontsize=9,
    )
    ax.grid(axis="x", which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=130)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
