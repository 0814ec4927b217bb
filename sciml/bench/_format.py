"""Plain-text and Markdown tables, number formatting."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["fmt_num", "fmt_ratio", "markdown_table", "ratio", "text_table"]


def fmt_num(x: float | None) -> str:
    """Format a metric value with 4 significant digits; ``None``/NaN as ``-``."""
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference`` when both are finite and the reference is non-zero, else ``None``."""
    if value is None or reference is None:
        return None
    value, reference = float(value), float(reference)
    if not (math.isfinite(value) and math.isfinite(reference)) or reference == 0.0:
        return None
    return value / reference


def fmt_ratio(value: float | None, reference: float | None) -> str:
    """Formatted ``value / reference`` (e.g. ``1.03x``) or ``-`` where not meaningful."""
    r = ratio(value, reference)
    return "-" if r is None else f"{r:.3g}x"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned plain-text table with a dashed rule under the header."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md_cell(x: object) -> str:
    return str(x).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """GitHub-flavoured Markdown table; ``|`` and newlines in cells are escaped."""
    head = "| " + " | ".join(_md_cell(h) for h in headers) + " |"
    rule = "|" + "|".join("---" for _ in headers) + "|"
    body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join([head, rule, *body])
