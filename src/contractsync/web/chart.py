"""A small trend chart drawn on the server as SVG: monthly recurring revenue as bars, cost as a line,
seats in each bar's tooltip. No script, no inline style (the page's CSP allows neither)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from contractsync.web.formatting import MoneyFormat, decimal_or_none

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28


def _label(day: str, last: bool) -> str:
    try:
        moment = date.fromisoformat(day)
    except ValueError:
        return day
    return "Today" if last and moment.day != 1 else moment.strftime("%b %y")


def trend_svg(points: list[dict[str, Any]], money: MoneyFormat, currency: str, title: str) -> Markup:
    """`points`: [{date, mrr, cost, seats}] oldest first."""
    if not points:
        return Markup("")
    revenue = [decimal_or_none(p.get("mrr")) or Decimal(0) for p in points]
    cost = [decimal_or_none(p.get("cost")) or Decimal(0) for p in points]
    top = max([*revenue, *cost, Decimal(1)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = Decimal(plot_w) / len(points)
    bar = step * Decimal("0.6")

    def y(value: Decimal) -> str:
        return f"{TOP + plot_h - float(value / top) * plot_h:.1f}"

    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="trend-title" '
        f'xmlns="http://www.w3.org/2000/svg" width="100%" preserveAspectRatio="xMidYMid meet">',
        f'<title id="trend-title">{escape(title)}</title>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
    ]
    for fraction in (Decimal(1), Decimal("0.5")):
        level = top * fraction
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y(level)}" x2="{WIDTH - RIGHT}" y2="{y(level)}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y(level)}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(money.text(level.quantize(Decimal(1)), currency))}</text>"
        )
    line = []
    for index, point in enumerate(points):
        x = Decimal(LEFT) + step * index + (step - bar) / 2
        middle = Decimal(LEFT) + step * index + step / 2
        height = float(revenue[index] / top) * plot_h
        tip = (
            f"{point['date']}: revenue {money.text(revenue[index], currency)} a month, "
            f"cost {money.text(cost[index], currency)}, {point.get('seats', 0)} seats"
        )
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" data-date="{escape(point["date"])}"><title>{escape(tip)}</title></rect>'
        )
        parts.append(
            f'<text class="tick" x="{middle:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(_label(str(point['date']), index == len(points) - 1))}</text>"
        )
        line.append(f"{middle:.1f},{y(cost[index])}")
    parts.append(f'<polyline class="cost" points="{" ".join(line)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
