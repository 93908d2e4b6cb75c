"""Small server-side SVG charts for the staff pages (no JavaScript, no CDN).

Each function takes already aggregated values (a few rows) and returns SVG markup with
every label escaped, sized to read at a glance: horizontal bars with the value written at
the end of each bar, and a line of a cumulative rate over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#0f766e", "#2563eb", "#b45309", "#7c3aed", "#be123c", "#475569")


def bar_chart(items: Sequence[tuple[str, Decimal | int, str]], title: str, width: int = 520) -> Markup:
    """Horizontal bars: ``(label, value, value as text)``; the longest bar fills the width."""
    row, pad = 26, 8
    # Labels right-aligned before the bars: wide enough for the longest (~7.5 px a character at
    # 13 px, accents and capitals included).
    longest = max((len(label) for label, _, _ in items), default=0)
    label_w = min(max(130, int(7.5 * longest) + 2 * pad), width // 2)
    top = max((float(v) for _, v, _ in items), default=0.0) or 1.0
    height = row * len(items) + 34
    bars = []
    for index, (label, value, shown) in enumerate(items):
        y = 28 + index * row
        w = max(int((width - label_w - 90) * float(value) / top), 1 if value else 0)
        color = PALETTE[index % len(PALETTE)]
        bars.append(
            f'<text x="{label_w - pad}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{row - 8}" rx="3" fill="{color}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 15}">{escape(shown)}</text>')
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;font:13px system-ui">'
        f'<text x="0" y="16" font-weight="600">{escape(title)}</text>{"".join(bars)}</svg>')


def line_chart(points: Sequence[tuple[str, Decimal]], title: str, percent: bool = True,
               width: int = 520, height: int = 200, empty: str = "no payments in the period") -> Markup:
    """A line over time (``(day, value)``); values as percentages when ``percent``."""
    left, right, top, bottom = 46, 12, 28, 30
    if not points:
        return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 40" width="100%" '
                      f'style="max-width:{width}px;font:13px system-ui"><text x="0" y="16" font-weight="600">'
                      f'{escape(title)}</text><text x="0" y="34">{escape(empty)}</text></svg>')
    values = [float(v) * (100 if percent else 1) for _, v in points]
    high = max(values) or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)
    coords = [(left + i * step, top + plot_h - plot_h * v / high) for i, v in enumerate(values)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    unit = "%" if percent else ""
    last_x, last_y = coords[-1]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;font:13px system-ui">'
        f'<text x="0" y="16" font-weight="600">{escape(title)}</text>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#94a3b8"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#94a3b8"/>'
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{high:.1f}{unit}</text>'
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0{unit}</text>'
        f'<path d="{path}" fill="none" stroke="#0f766e" stroke-width="2.5"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="4" fill="#0f766e"/>'
        f'<text x="{min(last_x, width - 60):.1f}" y="{max(last_y - 8, top + 10):.1f}">'
        f'{values[-1]:.1f}{unit}</text>'
        f'<text x="{left}" y="{height - 8}">{escape(points[0][0])}</text>'
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end">{escape(points[-1][0])}</text></svg>')
