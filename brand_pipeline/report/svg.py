"""Charts as inline SVG strings: no script, no font or stylesheet from anywhere, printable.

Every text that reaches a chart is escaped here (labels come from ad copy: untrusted). Sizes are
in viewBox units; the page scales each chart to its column. Colours come from the page's palette
(``PALETTE``), so charts and legends agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from typing import NamedTuple

WIDTH = 760
INK, MUTED, GRID, ACCENT = "#1f2933", "#616e7c", "#e4e7eb", "#2459c7"
FORMAT_COLOURS = {
    "VIDEO": "#2459c7",
    "IMAGE": "#e8833a",
    "CAROUSEL": "#2a9d76",
    "DCO": "#8a5ad6",
    "DPA": "#cf4a6a",
    "UNKNOWN": "#9aa5b1",
}
PALETTE = ("#2459c7", "#e8833a", "#2a9d76", "#8a5ad6", "#cf4a6a", "#c9a227", "#3a9fbf", "#7b8794")


class GanttBar(NamedTuple):
    begin: datetime
    finish: datetime
    running: bool
    colour: str
    tooltip: str


def e(text: object) -> str:
    return escape(str(text), quote=True)


def colour_for(series: str, order: Sequence[str]) -> str:
    """A format's fixed colour, or the palette's next one for any other series."""
    if series in FORMAT_COLOURS:
        return FORMAT_COLOURS[series]
    others = [s for s in order if s not in FORMAT_COLOURS]
    return PALETTE[(others.index(series) if series in others else 0) % len(PALETTE)]


def svg(width: float, height: float, body: str, label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{e(label)}" '
        f'preserveAspectRatio="xMinYMin meet">{body}</svg>'
    )


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5, 5 × 10^n, at least 1) giving about ``ticks`` gridlines."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, fill: str = MUTED) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">{e(text)}</text>'


def _y_axis(top: float, bottom: float, left: float, right: float, maximum: float) -> tuple[str, float]:
    """Gridlines and their values; returns the markup and the axis' top value."""
    step = nice_step(maximum)
    axis_max = max(step, math.ceil(maximum / step) * step)
    parts = []
    value = 0.0
    while value <= axis_max + 1e-9:
        y = bottom - (bottom - top) * value / axis_max
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y + 4, f"{value:g}", anchor="end"))
        value += step
    return "".join(parts), axis_max


def _x_labels(labels: Sequence[str], left: float, slot: float, y: float) -> str:
    every = max(1, math.ceil(48 / slot))  # about 48 units per label, so neighbours never overlap
    return "".join(
        _text(left + slot * (i + 0.5), y, label, anchor="middle") for i, label in enumerate(labels) if i % every == 0
    )


def columns(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    label: str,
    unit: str,
    x_title: str | None = None,
    colour: str = ACCENT,
) -> str:
    """Vertical bars, one per label, with gridlines; values printed on the bars when few. ``unit``
    names what the bars count (the y axis' title)."""
    top, bottom, left, right = 22, 204, 44, WIDTH - 10
    height = bottom + (46 if x_title else 26)
    grid, axis_max = _y_axis(top, bottom, left, right, max(values, default=0))
    slot = (right - left) / max(len(values), 1)
    bars = [grid, _text(left - 36, 10, unit, fill=INK)]
    for i, value in enumerate(values):
        h = (bottom - top) * value / axis_max
        x = left + slot * i + slot * 0.14
        bars.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{slot * 0.72:.1f}" height="{h:.1f}" rx="2" '
            f'fill="{colour}"><title>{e(labels[i])}: {value:g} {e(unit)}</title></rect>'
        )
        if len(values) <= 20 and value:
            bars.append(_text(x + slot * 0.36, bottom - h - 4, f"{value:g}", anchor="middle", size=10, fill=INK))
    bars.append(_x_labels(labels, left, slot, bottom + 16))
    if x_title:
        bars.append(_text((left + right) / 2, bottom + 36, x_title, anchor="middle", fill=INK))
    return svg(WIDTH, height, "".join(bars), label)


def stacked_columns(labels: Sequence[str], stacks: Sequence[dict[str, int]], *, label: str, unit: str) -> str:
    """Bars split by series (bottom to top in legend order), with a legend above."""
    series = sorted({s for stack in stacks for s in stack}, key=lambda s: (-sum(st.get(s, 0) for st in stacks), s))
    height, top, bottom, left, right = 256, 40, 222, 44, WIDTH - 10
    grid, axis_max = _y_axis(top, bottom, left, right, max((sum(s.values()) for s in stacks), default=0))
    slot = (right - left) / max(len(stacks), 1)
    parts = [
        grid,
        legend(series, 4, [colour_for(s, series) for s in series]),
        _text(right, 14, unit, anchor="end", fill=INK),
    ]
    for i, stack in enumerate(stacks):
        y = bottom
        for name in series:
            h = (bottom - top) * stack.get(name, 0) / axis_max
            if h:
                y -= h
                parts.append(
                    f'<rect x="{left + slot * i + slot * 0.14:.1f}" y="{y:.1f}" width="{slot * 0.72:.1f}" '
                    f'height="{h:.1f}" fill="{colour_for(name, series)}">'
                    f"<title>{e(labels[i])} · {e(name)}: {stack[name]} ads</title></rect>"
                )
    parts.append(_x_labels(labels, left, slot, bottom + 16))
    return svg(WIDTH, height, "".join(parts), label)


def legend(series: Sequence[str], y: float, colours: Sequence[str], x: float = 44) -> str:
    parts = []
    for name, colour in zip(series, colours, strict=True):
        parts.append(f'<rect x="{x:.1f}" y="{y + 2:.1f}" width="10" height="10" rx="2" fill="{colour}"/>')
        parts.append(_text(x + 14, y + 11, name, fill=INK))
        x += 26 + 6.5 * len(name)
    return "".join(parts)


def hbars(items: Sequence[tuple[str, float, str]], *, label: str, colour: str = ACCENT) -> str:
    """One bar per item, its text above it and its value written after it: (text, value, value text)."""
    row, left, right = 38, 4, WIDTH - 170
    maximum = max((value for _, value, _ in items), default=0) or 1
    parts = []
    for i, (text, value, value_text) in enumerate(items):
        y = i * row
        shown = text if len(text) <= 100 else text[:99] + "…"
        width = max((right - left) * value / maximum, 2)
        parts += [
            f"<g><title>{e(text)}: {e(value_text)}</title>",
            _text(left, y + 13, shown, size=12, fill=INK),
            f'<rect x="{left}" y="{y + 19:.1f}" width="{width:.1f}" height="11" rx="2" fill="{colour}"/>',
            _text(left + width + 6, y + 29, value_text, size=10),
            "</g>",
        ]
    return svg(WIDTH, max(row * len(items), row), "".join(parts), label)


def share_bars(rows: Sequence[tuple[str, dict[str, float]]], *, label: str) -> str:
    """One 100 % bar per row (a brand), split by series (formats), with a legend above."""
    series = sorted({s for _, shares in rows for s in shares}, key=lambda s: (-sum(r.get(s, 0) for _, r in rows), s))
    colours = [colour_for(s, series) for s in series]
    row, top, left, right = 34, 30, 170, WIDTH - 10
    parts = [legend(series, 2, colours, x=left)]
    for i, (name, shares) in enumerate(rows):
        y = top + i * row
        parts.append(_text(left - 10, y + 16, name if len(name) <= 24 else name[:23] + "…", anchor="end", fill=INK))
        x = float(left)
        for s, colour in zip(series, colours, strict=True):
            width = (right - left) * shares.get(s, 0.0)
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="22" fill="{colour}">'
                    f"<title>{e(name)} · {e(s)}: {shares[s]:.0%}</title></rect>"
                )
                if width > 34:
                    parts.append(
                        _text(x + width / 2, y + 15, f"{shares[s]:.0%}", anchor="middle", size=10, fill="#fff")
                    )
                x += width
    return svg(WIDTH, top + row * max(len(rows), 1), "".join(parts), label)


def small_multiples(rows: Sequence[tuple[str, Sequence[int]]], labels: Sequence[str], *, label: str) -> str:
    """A row of columns per brand on one shared scale, so heights compare across brands."""
    row, left, right, top = 58, 170, WIDTH - 10, 6
    maximum = max((v for _, values in rows for v in values), default=0) or 1
    parts = []
    for r, (name, values) in enumerate(rows):
        base = top + r * row + 40
        slot = (right - left) / max(len(values), 1)
        parts.append(_text(left - 10, base - 12, name if len(name) <= 24 else name[:23] + "…", anchor="end", fill=INK))
        parts.append(f'<line x1="{left}" x2="{right}" y1="{base}" y2="{base}" stroke="{GRID}"/>')
        for i, value in enumerate(values):
            h = 34 * value / maximum
            x = left + slot * i + slot * 0.2
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot * 0.6:.1f}" height="{h:.1f}" rx="1.5" '
                f'fill="{ACCENT}"><title>{e(name)} · week of {e(labels[i])}: {value} new ads</title></rect>'
            )
            parts.append(_text(x + slot * 0.3, base - h - 3, f"{value}", anchor="middle", size=9, fill=INK))
    axis_y = top + row * len(rows) + 8
    parts.append(_x_labels(labels, left, (right - left) / max(len(labels), 1), axis_y))
    return svg(WIDTH, axis_y + 6, "".join(parts), label)


def gantt(bars: Sequence[GanttBar], now: datetime, *, label: str) -> str:
    """Each ad as a bar from its start to its end (or to now while it runs), oldest start on top."""
    left, right, top = 10, WIDTH - 14, 22
    rows = max(len(bars), 1)
    row = min(14.0, max(2.4, 640 / rows))
    height = top + row * rows + 26
    first = min((b.begin for b in bars), default=now - timedelta(days=30))
    span = max((now - first).total_seconds(), 86400.0)

    def x(when: datetime) -> float:
        return left + (right - left) * (when - first).total_seconds() / span

    parts = []
    for when, text in time_ticks(first, now):
        parts.append(
            f'<line x1="{x(when):.1f}" x2="{x(when):.1f}" y1="{top - 4}" y2="{height - 22:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(x(when), height - 8, text, anchor="middle"))
    for i, bar in enumerate(bars):
        x0 = x(bar.begin)
        width = max(x(bar.finish) - x0, 1.5)
        opacity = "" if bar.running else ' fill-opacity="0.5"'
        parts.append(
            f'<rect x="{x0:.1f}" y="{top + row * i + row * 0.15:.1f}" width="{width:.1f}" '
            f'height="{max(row * 0.7, 1.2):.1f}" fill="{bar.colour}"{opacity}><title>{e(bar.tooltip)}</title></rect>'
        )
    parts.append(f'<line x1="{x(now):.1f}" x2="{x(now):.1f}" y1="{top - 8}" y2="{height - 22:.1f}" stroke="{INK}" ')
    parts.append('stroke-dasharray="3 3"/>' + _text(x(now) - 2, top - 10, "now", anchor="end", fill=INK))
    return svg(WIDTH, height, "".join(parts), label)


def time_ticks(first: datetime, last: datetime) -> list[tuple[datetime, str]]:
    """Month starts (every n-th, at most 8) over a long span; week steps over a short one."""
    if (last - first).days < 70:
        step = max(7, math.ceil((last - first).days / 7 / 7) * 7)
        return [
            (first + timedelta(days=d), f"{first + timedelta(days=d):%d %b}")
            for d in range(0, (last - first).days + 1, step)
        ]
    starts = []
    cursor = (first.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    while cursor <= last:
        starts.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    every = max(1, math.ceil(len(starts) / 8))
    return [(s, f"{s:%b %Y}" if s.month == 1 or i == 0 else f"{s:%b}") for i, s in enumerate(starts[::every])]
