"""Small inline SVG charts for the HTML report: bars, horizontal bars and a line.

Hand-made so that the HTML needs no script and no external file; every chart
scales to its box (viewBox) and carries its title and values as text. Axis ticks are
round numbers (1, 2 or 5 times a power of ten: 0, 5, 10, 15, never 7.5 or 22.5 for
counts); a line of one day is a dot with its value.
"""

from __future__ import annotations

import math
from html import escape
from typing import NamedTuple

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 32, 48
COLOURS = ("#3b6ea5", "#e39b2d", "#5a9e5a", "#b5495b")


def _frame(title: str, body: list[str], height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">'
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" class="t">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def ticks(low: float, high: float, whole: bool = True, most: int = 6) -> list[float]:
    """Round ticks from at most ``low`` to at least ``high``: a step of 1, 2 or 5 times a
    power of ten (never below 1 for counts), no more than ``most`` of them."""
    if high <= low:  # a flat series: a little room around it (none below a zero)
        pad = max(abs(high) * 0.01, 1.0 if whole else 0.1)
        low, high = (low - pad if low else low), high + pad
    raw = (high - low) / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 5, 10) if f * power >= raw)
    if whole:
        step = max(step, 1.0)
    first = math.floor(low / step) * step
    count = math.ceil(high / step - first / step - 1e-9)
    return [round(first + i * step, 10) for i in range(count + 1)]


def _label(value: float) -> str:
    """A tick or a value as text: whole numbers with thin spaces between thousands."""
    if float(value).is_integer():
        return f"{value:,.0f}".replace(",", "\u2009")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _axis(marks: list[float], height: int) -> list[str]:
    """Grid lines and their labels, the first mark at the bottom of the plot."""
    plot = height - TOP - BOTTOM
    low, span = marks[0], (marks[-1] - marks[0]) or 1.0
    out = []
    for value in marks:
        y = height - BOTTOM - plot * (value - low) / span
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(value)}</text>'
        )
    return out


def empty(title: str, message: str) -> str:
    """A chart without data: its title, and the message saying so."""
    return _frame(
        title,
        [
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 4 + 8}" text-anchor="middle">'
            f"{escape(message)}</text>"
        ],
        HEIGHT // 2,
    )


class Series(NamedTuple):
    """One series of a bar chart: its name in the legend and a value per label."""

    name: str
    values: list[float]


def bars(title: str, labels: list[str], series: list[Series]) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    if not labels:
        return _frame(title, [])
    marks = ticks(0, max((v for _, values in series for v in values), default=0))
    top = marks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = min(plot_w / len(labels), 160)  # a week or two: bars of a sensible width
    start = LEFT + (plot_w - group * len(labels)) / 2
    bar = group * 0.8 / max(len(series), 1)
    body = _axis(marks, HEIGHT)
    every = max(1, len(labels) // 12)  # label every n-th group so they do not overlap
    for i, label in enumerate(labels):
        x0 = start + i * group + group * 0.1
        for s, (name, values) in enumerate(series):
            h = plot_h * values[i] / top
            body.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" '
                f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}" fill="{COLOURS[s % 4]}">'
                f"<title>{escape(label)} — {escape(name)}: {_label(values[i])}</title></rect>"
            )
        if i % every == 0:
            body.append(
                f'<text x="{x0 + group * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    body += _legend([name for name, _ in series])
    return _frame(title, body)


def hbars(title: str, labels: list[str], values: list[float]) -> str:
    """Horizontal bars with their labels: for long names (top events)."""
    height = TOP + 22 * max(len(labels), 1) + 12
    top = ticks(0, max(values, default=0))[-1]
    left = 300
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + 22 * i
        w = (WIDTH - left - RIGHT - 40) * value / top
        body.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="16" fill="{COLOURS[0]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 14}">{_label(value)}</text>'
        )
    return _frame(title, body, height)


def line(title: str, labels: list[str], values: list[float]) -> str:
    """A line over evenly spaced labels (followers by day)."""
    if not values:
        return _frame(title, [])
    marks = ticks(min(values), max(values))
    bottom, span = marks[0], marks[-1] - marks[0]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    inset = 24  # the first and last dot clear of the axis' labels
    step = (plot_w - 2 * inset) / max(len(values) - 1, 1)
    # One day is one dot, in the middle (at the left edge it would read as an axis mark).
    start = LEFT + (plot_w / 2 if len(values) == 1 else inset)
    spots = [
        (start + i * step, HEIGHT - BOTTOM - plot_h * (v - bottom) / span)
        for i, v in enumerate(values)
    ]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in spots)
    body = _axis(marks, HEIGHT)
    body.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>')
    if len(values) <= 31:  # a dot per day; a single day is otherwise invisible
        for x, y in spots:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[0]}"/>')
    if len(values) <= 3:  # a day or two: their values written beside them
        for (x, y), value in zip(spots, values, strict=True):
            body.append(
                f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">{_label(value)}</text>'
            )
    every = max(1, len(labels) // 8)
    for i in range(0, len(labels), every):
        body.append(
            f'<text x="{start + i * step:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(labels[i])}</text>'
        )
    return _frame(title, body)


def _short(label: str, limit: int = 38) -> str:
    """A label that fits left of the bars (the full one is in the tables).

    The title is cut, not its "(day, network)" tail: two networks' posts of one event
    would otherwise read the same.
    """
    if len(label) <= limit:
        return label
    title, bracket, tail = label.rpartition(" (")
    if bracket and len(tail) + 2 < limit - 4:
        room = limit - len(tail) - 3
        return title[: room - 1].rstrip() + "… (" + tail
    return label[: limit - 1] + "…"


def _legend(names: list[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        x = LEFT + i * 180
        out.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{COLOURS[i % 4]}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 8}">{escape(name)}</text>'
        )
    return out
