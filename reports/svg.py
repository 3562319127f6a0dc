"""Small inline SVG charts for the HTML report: bars, horizontal bars and a line.

Hand-made so that the HTML needs no script and no external file; every chart
scales to its box (viewBox) and carries its title and values as text.
"""

from __future__ import annotations

from html import escape

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


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    if top <= 0:
        return 1.0
    step = 10 ** (len(str(int(top))) - 1)
    return float(((int(top) // step) + 1) * step)


def _axis(top: float, height: int) -> list[str]:
    plot = height - TOP - BOTTOM
    out = []
    for i in range(5):
        value = top * i / 4
        y = height - BOTTOM - plot * i / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    return out


def bars(title: str, labels: list[str], series: list[tuple[str, list[float]]]) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    if not labels:
        return _frame(title, [])
    top = _nice(max((v for _, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / len(labels)
    bar = group * 0.8 / max(len(series), 1)
    body = _axis(top, HEIGHT)
    every = max(1, len(labels) // 12)  # label every n-th group so they do not overlap
    for i, label in enumerate(labels):
        x0 = LEFT + i * group + group * 0.1
        for s, (name, values) in enumerate(series):
            h = plot_h * values[i] / top
            body.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" '
                f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}" fill="{COLOURS[s % 4]}">'
                f"<title>{escape(label)} — {escape(name)}: {values[i]:g}</title></rect>"
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
    top = _nice(max(values, default=0))
    left = 300
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + 22 * i
        w = (WIDTH - left - RIGHT - 40) * value / top
        body.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="16" fill="{COLOURS[0]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 14}">{value:g}</text>'
        )
    return _frame(title, body, height)


def line(title: str, labels: list[str], values: list[float]) -> str:
    """A line over evenly spaced labels (followers by day)."""
    if not values:
        return _frame(title, [])
    low, high = min(values), max(values)
    # Whole-number ticks that differ: a flat or nearly flat line gets a range of at least 4.
    span = max(high - low, 4 / 1.2)
    bottom = low - (span - (high - low)) / 2 - span * 0.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values) - 1, 1)
    points = " ".join(
        f"{LEFT + i * step:.1f},{HEIGHT - BOTTOM - plot_h * (v - bottom) / (span * 1.2):.1f}"
        for i, v in enumerate(values)
    )
    body = []
    for i in range(5):
        value = bottom + span * 1.2 * i / 4
        y = HEIGHT - BOTTOM - plot_h * i / 4
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.0f}</text>'
        )
    body.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>')
    if len(values) <= 31:  # a dot per day; a single day is otherwise invisible
        for point in points.split():
            x, y = point.split(",")
            body.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{COLOURS[0]}"/>')
    every = max(1, len(labels) // 8)
    for i in range(0, len(labels), every):
        body.append(
            f'<text x="{LEFT + i * step:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(labels[i])}</text>'
        )
    return _frame(title, body)


def _short(label: str, limit: int = 38) -> str:
    """A label that fits left of the bars (the full one is in the tables)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(names: list[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        x = LEFT + i * 180
        out.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{COLOURS[i % 4]}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 8}">{escape(name)}</text>'
        )
    return out
