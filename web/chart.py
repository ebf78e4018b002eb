"""Server-side SVG geometry for the attention-over-time chart: one line per query, no JavaScript.

The template draws what ``line_chart`` returns (polylines, points with a <title> each, axis
ticks); colours are SVG presentation attributes from the Okabe–Ito palette, which stays
distinguishable for the common colour-vision deficiencies and passes the page's CSP (no
inline style).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from web.present import bucket_label, parse_day

WIDTH, HEIGHT = 860, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 40
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")  # a second cue besides colour
X_TICKS = 6
Y_TICKS = 4


@dataclass
class Point:
    x: float
    y: float
    title: str


@dataclass
class Line:
    label: str
    colour: str
    dash: str
    points: list[Point]
    total: int

    @property
    def path(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


def nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _format(value: float, measure: str) -> str:
    if measure == "share":
        return f"{value * 100:.3g}%"
    return f"{int(value):,}" if value == int(value) else f"{value:.3g}"


def line_chart(answer: dict, measure: str) -> dict | None:
    """Geometry for ``answer`` (the /api/timeline JSON); None when no series has a dated hit."""
    series = answer.get("series") or []
    buckets = [s.get("buckets") or [] for s in series]
    if not any(buckets) or not any(b["count"] for bs in buckets for b in bs):
        return None
    interval = answer.get("interval") or "month"
    starts = [parse_day(b["start"]) for b in max(buckets, key=len)]
    top = nice_max(max(b[measure] for bs in buckets for b in bs))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(starts) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + (i * step if len(starts) > 1 else plot_w / 2), 2)

    def y(v: float) -> float:
        return round(TOP + plot_h - plot_h * v / top, 2)

    lines = []
    for n, (item, bs) in enumerate(zip(series, buckets, strict=True)):
        label = _series_label(item)
        points = [Point(x(i), y(b[measure]),
                        f"{label} — {bucket_label(parse_day(b['start']), interval)}: {b['count']:,} "
                        f"article{'s' if b['count'] != 1 else ''} ({b['share'] * 100:.2f}% of all)")
                  for i, b in enumerate(bs)]
        lines.append(Line(label, PALETTE[n % len(PALETTE)], DASHES[n % len(DASHES)], points, item.get("total", 0)))
    every = max(1, math.ceil(len(starts) / X_TICKS))
    x_ticks = [{"x": x(i), "label": bucket_label(starts[i], interval),
                "anchor": "start" if i == 0 and len(starts) > 1 else "end" if i == len(starts) - 1 and i else "middle"}
               for i in range(0, len(starts), every)]
    y_ticks = [{"y": y(top * k / Y_TICKS), "label": _format(top * k / Y_TICKS, measure)} for k in range(Y_TICKS + 1)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": HEIGHT - BOTTOM, "lines": lines, "x_ticks": x_ticks, "y_ticks": y_ticks,
            "interval": interval, "measure": measure}


def _series_label(item: dict) -> str:
    filters = " ".join(f"{k}:{v}" for k, values in (item.get("filters") or {}).items() for v in values)
    query = item.get("query") or ""
    if query and filters:
        return f"{query} [{filters}]"
    return query or filters or "all articles"
