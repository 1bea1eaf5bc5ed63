"""The fleet index's trend line: a service's p50 gap over its last runs as a small inline SVG
with its scale (the lowest and highest gap written beside the line, a dashed zero line when the
gap crossed zero) and an accessible name that says what it shows."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PLOT = 160, 36, 104  # the line's x runs from 3 to PLOT; the scale sits right
READY, BLOCKED = "#1b7837", "#b2182b"


def description(trend: list[dict]) -> str:
    """The trend in words, the SVG's title: runs, lowest, highest, latest, what the dots mean."""
    gaps = [t["gap_p50"] for t in trend if t["gap_p50"] is not None]
    if not gaps:
        return ""
    runs = f"{len(gaps)} run{'s' if len(gaps) != 1 else ''}"
    blocked = sum(not t["ready"] for t in trend if t["gap_p50"] is not None)
    return (f"p50 gap over the last {runs}: lowest {min(gaps):+.0f} ms, highest "
            f"{max(gaps):+.0f} ms, latest {gaps[-1]:+.0f} ms; {blocked} of {runs} blocked "
            "(filled red dots), the others ready (open green dots)")


def svg(trend: list[dict]) -> str:
    """The p50 gap by run (oldest left) with min/max labels; "" without a gap to draw."""
    points = [(i, t["gap_p50"], t["ready"]) for i, t in enumerate(trend)
              if t["gap_p50"] is not None]
    if not points:
        return ""
    low, high = min(p[1] for p in points), max(p[1] for p in points)
    span, step = (high - low) or 1.0, (PLOT - 3) / max(len(trend) - 1, 1)
    top, bottom = 5.0, HEIGHT - 5.0

    def y(value: float) -> float:
        return (top + bottom) / 2 if high == low else bottom - (value - low) / span * (bottom - top)

    xy = [(3 + i * step, y(v), ok) for i, v, ok in points]
    line = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _ in xy)
    zero = (f'<line x1="3" x2="{PLOT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#999" '
            'stroke-dasharray="2 2" stroke-width="0.8"/>' if low < 0 < high else "")
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.2" '
        + (f'fill="#fff" stroke="{READY}" stroke-width="1.2"/>' if ok else f'fill="{BLOCKED}"/>')
        for x, yy, ok in xy)
    label = f'x="{PLOT + 6}" font-size="9" fill="#555" font-family="system-ui, sans-serif"'
    scale = (f'<text {label} y="{y(high) + 3:.1f}">{high:+.0f} ms</text>' if high == low else
             f'<text {label} y="{top + 4:.1f}">{high:+.0f} ms</text>'
             f'<text {label} y="{bottom + 2:.1f}">{low:+.0f} ms</text>')
    axis = f'<line x1="{PLOT + 3}" x2="{PLOT + 3}" y1="{top}" y2="{bottom}" stroke="#bbb"/>'
    words = escape(description(trend), quote=True)
    return (f'<svg class="trend" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} '
            f'{HEIGHT}" role="img" aria-label="{words}"><title>{words}</title>{zero}'
            f'<polyline points="{line}" fill="none" stroke="#555" stroke-width="1.2"/>{dots}'
            f'{axis}{scale}</svg>')
