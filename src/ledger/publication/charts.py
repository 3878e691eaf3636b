"""Charts as inline SVG, drawn here in Python: a page needs no script library, no network and
no server to show them. Each chart is an ``<svg role="img">`` named by its ``<title>`` and
described by its ``<desc>``; the pages put a data table beside each, the text alternative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from html import escape

PALETTE = ("#1d5fa7", "#b3541e", "#2e7d32", "#6a3d9a", "#8c6d1f", "#00838f")
"""Colours with at least 4.5:1 contrast on white; the tables and labels carry the meaning."""
WIDTH = 720


def number(value: object) -> Decimal | None:
    """A value as a number when it is one ('-1.5', '92000'); text such as 'Figures available
    after April' is not charted (the table beside the chart shows it)."""
    try:
        found = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def _fmt(value: Decimal, unit: str = "") -> str:
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,}"
    return f"£{text}" if unit == "GBP" else f"{text}{'%' if unit == 'percent' else ''}"


def _open(chart_id: str, title: str, desc: str, height: int, width: int = WIDTH) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
    )


def _short(label: str, most: int = 34) -> str:
    return label if len(label) <= most else label[: most - 1] + "\u2026"


def bar_chart(chart_id: str, title: str, desc: str,
              data: Sequence[tuple[str, Decimal]], unit: str = "") -> str:
    """Horizontal bars, one per label, longest scale first as given."""
    row, top, left, right = 24, 8, 290, 110
    height = top * 2 + row * max(len(data), 1)
    most = max((v for _, v in data), default=Decimal(0)) or Decimal(1)
    span = WIDTH - left - right
    parts = [_open(chart_id, title, desc, height)]
    if not data:
        parts.append(f'<text x="{left}" y="{top + 16}" class="note">nothing to chart</text>')
    for i, (label, value) in enumerate(data):
        y = top + i * row
        width = max(float(value / most) * span, 0.0)
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(_fmt(value, unit))}</title>'
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(_short(label, 38))}'
            f'</text>'
            f'<rect x="{left}" y="{y + 4}" width="{width:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{left + width + 6:.1f}" y="{y + 16}">{escape(_fmt(value, unit))}</text>'
            f'</g>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Point:
    when: str
    value: Decimal
    step: str


MARKS = {"set": ("circle", 0), "revised": ("diamond", 1), "baseline": ("square", 2),
         "measured": ("triangle", 3)}


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="{colour}"/>'
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} '
                f'{x - 6:.1f},{y:.1f}" fill="{colour}"/>')
    return (f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y + 5:.1f} '
            f'{x - 6:.1f},{y + 5:.1f}" fill="{colour}"/>')


def _days(iso: str) -> int:
    return date.fromisoformat(iso[:10]).toordinal()


def series_chart(chart_id: str, title: str, desc: str, points: Sequence[Point],
                 unit: str = "") -> str:
    """A target's history over time: what was set and revised (joined by a line, the target in
    force), the baseline, and what was measured, each with its own marker shape."""
    height, left, right, top, bottom = 240, 80, 24, 16, 64
    parts = [_open(chart_id, title, desc, height)]
    if not points:
        parts.append(f'<text x="{left}" y="{top + 20}" class="note">no numeric values to '
                     f'chart</text></svg>')
        return "".join(parts)
    lo = min(p.value for p in points)
    hi = max(p.value for p in points)
    lo, hi = min(lo, Decimal(0)), max(hi, Decimal(0))
    if lo == hi:
        hi = lo + 1
    first, last = _days(points[0].when), _days(points[-1].when)
    if first == last:
        first, last = first - 180, last + 180
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(when: str) -> float:
        return left + (_days(when) - first) / (last - first) * plot_w

    def y(value: Decimal) -> float:
        return top + float((hi - value) / (hi - lo)) * plot_h

    parts.append(f'<line class="axis" x1="{left}" y1="{y(Decimal(0)):.1f}" '
                 f'x2="{WIDTH - right}" y2="{y(Decimal(0)):.1f}"/>')
    for tick in (lo, (lo + hi) / 2, hi):
        parts.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f'{escape(_fmt(tick.quantize(Decimal("0.1")).normalize(), unit))}</text>')
    years = range(date.fromordinal(first).year + 1, date.fromordinal(last).year + 1)
    for year in years:
        at = x(f"{year}-01-01")
        parts.append(f'<line class="grid" x1="{at:.1f}" y1="{top}" x2="{at:.1f}" '
                     f'y2="{top + plot_h}"/><text x="{at:.1f}" y="{top + plot_h + 16}" '
                     f'text-anchor="middle">{year}</text>')
    in_force = [p for p in points if p.step in ("set", "revised")]
    if len(in_force) > 1:
        path = " ".join(f"{x(p.when):.1f},{y(p.value):.1f}" for p in in_force)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" '
                     f'stroke-width="2"/>')
    for p in points:
        shape, colour = MARKS.get(p.step, ("circle", 4))
        parts.append(f'<g class="point"><title>{escape(p.step)} {escape(p.when[:10])}: '
                     f'{escape(_fmt(p.value, unit))}</title>'
                     f'{_marker(shape, x(p.when), y(p.value), PALETTE[colour])}</g>')
    legend_y = height - 18
    for i, (step, (shape, colour)) in enumerate(MARKS.items()):
        at = left + i * 130
        parts.append(f'{_marker(shape, at, legend_y - 4, PALETTE[colour])}'
                     f'<text x="{at + 10}" y="{legend_y}">{step}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Span:
    label: str
    start: str
    end: str | None
    kind: str  # "body" or "term"


def timeline(chart_id: str, title: str, desc: str, spans: Sequence[Span],
             marks: Sequence[tuple[str, str]], until: str) -> str:
    """Lifespans on one time axis (bodies, office terms; open ones run to ``until``) and the
    dates of transfers as labelled vertical lines."""
    row, top, left, right, axis, width = 26, 30, 300, 24, 30, 960
    height = top + row * max(len(spans), 1) + axis
    dates = [s.start for s in spans] + [s.end for s in spans if s.end] + [d for d, _ in marks]
    first = min((_days(d) for d in dates), default=_days(until))
    last = max([_days(until), *(_days(d) for d in dates)])
    first = date(date.fromordinal(first).year, 1, 1).toordinal()
    last = date(date.fromordinal(last).year + 1, 1, 1).toordinal()
    plot_w = width - left - right

    def x(when: str) -> float:
        return left + (_days(when) - first) / (last - first) * plot_w

    parts = [_open(chart_id, title, desc, height, width)]
    bottom = top + row * len(spans)
    years = range(date.fromordinal(first).year, date.fromordinal(last).year + 1)
    every = 1 if len(years) <= 12 else 2 if len(years) <= 24 else 5
    for year in years:
        at = x(f"{year}-01-01")
        label = (f'<text x="{at:.1f}" y="{bottom + 18}" text-anchor="middle" class="tick">'
                 f"{year}</text>") if year % every == 0 else ""
        parts.append(f'<line class="grid" x1="{at:.1f}" y1="{top}" x2="{at:.1f}" '
                     f'y2="{bottom}"/>{label}')
    for i, span in enumerate(spans):
        y = top + i * row
        start, end = x(span.start), x(span.end or until)
        colour = PALETTE[0] if span.kind == "body" else PALETTE[2]
        ends = f"to {span.end}" if span.end else "to date"
        still = "" if span.end else ' fill-opacity="0.75"'
        parts.append(
            f'<g class="span {escape(span.kind)}"><title>{escape(span.label)}: from '
            f'{escape(span.start)} {escape(ends)}</title>'
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">'
            f'{escape(_short(span.label, 44))}'
            f'</text><rect x="{start:.1f}" y="{y + 5}" width="{max(end - start, 2):.1f}" '
            f'height="{row - 10}" fill="{colour}"{still}/></g>'
        )
    for i, (when, label) in enumerate(marks):
        at = x(when)
        parts.append(f'<g class="transfer"><title>{escape(label)} ({escape(when)})</title>'
                     f'<line x1="{at:.1f}" y1="{top - 6}" x2="{at:.1f}" y2="{bottom}" '
                     f'stroke="{PALETTE[1]}" stroke-width="2" stroke-dasharray="5 3"/>'
                     f'<text x="{at + 4:.1f}" y="{top - 12 - 12 * (i % 2)}" '
                     f'fill="{PALETTE[1]}">{escape(_short(label, 80))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
