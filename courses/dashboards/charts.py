"""Small charts drawn on the server as inline SVG: no script, no external service.

Each chart has a <title> and <desc> for screen readers; templates also show the figures
in a table next to it.
"""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 220


def _svg(width, height, title, desc, body: str) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc>{body}</svg>',
        w=width,
        h=height,
        id=f"c{abs(hash((title, desc))) % 10**8}",
        title=title,
        desc=desc,
        body=mark_safe(body),  # noqa: S308 - built below from escaped parts
    )


def bar_chart(
    items: list[tuple[str, float]], *, title: str, desc: str, unit: str = ""
) -> SafeString:
    """Horizontal bars, one per (label, value)."""
    top = max((v for _label, v in items), default=0) or 1
    height = max(1, len(items)) * (BAR_HEIGHT + GAP) + GAP
    plot = WIDTH - LABEL_WIDTH - 60
    parts = []
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = plot * value / top
        short = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(short)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'fill="#1f6f8b"></rect>'
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 15}" font-size="12">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    return _svg(WIDTH, height, title, desc, "".join(parts))


def line_chart(items: list[tuple[str, float]], *, title: str, desc: str) -> SafeString:
    """A line with dots over labelled points (e.g. completions per month)."""
    height, left, bottom, top_pad = 220, 40, 30, 14
    plot_w, plot_h = WIDTH - left - 10, height - bottom - top_pad
    top = max((v for _label, v in items), default=0) or 1
    step = plot_w / max(1, len(items) - 1)
    points = [
        (left + i * step, top_pad + plot_h - plot_h * value / top)
        for i, (_label, value) in enumerate(items)
    ]
    parts = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - 10}" y2="{top_pad + plot_h}" '
        f'stroke="#888"></line>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="11">'
        f"{escape(_number(top))}</text>",
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f6f8b" stroke-width="2">')
        parts.append("</polyline>")
    for (x, y), (label, value) in zip(points, items, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f6f8b">'
            f"<title>{escape(label)}: {escape(_number(value))}</title></circle>"
            f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" font-size="10">'
            f"{escape(label)}</text>"
        )
    return _svg(WIDTH, height, title, desc, "".join(parts))


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
