"""Plain-text and Markdown tables, number formatting."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from typing import Any

__all__ = [
    "Footnotes",
    "arrow",
    "arrow_legend",
    "drop_blank_columns",
    "fmt_num",
    "fmt_options",
    "fmt_ratio",
    "fmt_reference",
    "markdown_table",
    "ratio",
    "target_met",
    "text_table",
    "vs_reference",
]

_ARROWS = {"lower": "\u2193", "higher": "\u2191"}  # down / up arrows


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


def fmt_options(options: Any) -> str:
    """``k=v, k2=v2`` (values as JSON unless strings); ``-`` when there are none."""
    if not isinstance(options, dict) or not options:
        return "-"
    return ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in options.items()
    )


def fmt_ratio(value: float | None, reference: float | None) -> str:
    """Formatted ``value / reference`` (e.g. ``1.03x``) or ``-`` where not meaningful."""
    r = ratio(value, reference)
    return "-" if r is None else f"{r:.3g}x"


def arrow(better: str | None, encoding: str | None = None) -> str:
    """``↓`` (lower is better), ``↑`` (higher is better) or ``""`` (no direction / unknown).

    Where ``encoding`` (a console's) cannot encode the arrows, the words ``lower``/``higher``.
    """
    sym = _ARROWS.get(better or "", "")
    if sym and encoding:
        try:
            sym.encode(encoding)
        except (LookupError, UnicodeEncodeError):
            return better or ""
    return sym


def arrow_legend(encoding: str | None = None) -> str:
    """What the ``better`` column's symbols mean (``↓ lower is better, ↑ higher is better``)."""
    down, up = arrow("lower", encoding), arrow("higher", encoding)
    if down == "lower":
        return "whether a lower or a higher value is better"
    return f"{down} lower is better, {up} higher is better"


def target_met(value: float | None, threshold: float, target: str) -> bool | None:
    """Whether ``value`` meets the threshold (``target`` ``">="`` or ``"<="``); ``None`` when
    there is no finite value to judge."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value) >= threshold if target == ">=" else float(value) <= threshold


def fmt_reference(value: float | None, target: str | None, note: str = "") -> str:
    """A reference cell: ``200`` for a published figure, ``>= 1`` for a target; ``note`` (a
    footnote mark such as ``[1]``) appended."""
    text = fmt_num(value) if value is not None else "-"
    if target:
        text = f"{target} {text}"
    return f"{text} {note}" if note else text


def vs_reference(value: float | None, ref_value: float | None, target: str | None) -> str:
    """``met`` / ``NOT met`` for a target, the ratio value / reference (``0.95x``) for a
    published figure, ``-`` where there is nothing to compare."""
    if ref_value is None:
        return "-"
    if target:
        met = target_met(value, float(ref_value), target)
        return "-" if met is None else ("met" if met else "NOT met")
    return fmt_ratio(value, ref_value)


class Footnotes:
    """Numbers distinct reference sources in order of first use: ``mark(source)`` -> ``[n]``."""

    def __init__(self) -> None:
        self.sources: list[str] = []

    def mark(self, source: str | None) -> str:
        source = " ".join(str(source or "").split())
        if not source:
            return ""
        if source not in self.sources:
            self.sources.append(source)
        return f"[{self.sources.index(source) + 1}]"

    def lines(self, width: int | None = 100, prefix: str = "") -> list[str]:
        """``[n] source`` per source; wrapped to ``width`` (hanging indent) unless ``None``."""
        out = []
        for i, source in enumerate(self.sources, 1):
            head = f"{prefix}[{i}] "
            if width is None:
                out.append(head + source)
            else:
                out.extend(
                    textwrap.wrap(
                        source,
                        width=width,
                        initial_indent=head,
                        subsequent_indent=" " * len(head),
                        break_on_hyphens=False,
                    )
                )
        return out


def drop_blank_columns(
    headers: Sequence[str], rows: Sequence[Sequence[object]], optional: Sequence[str]
) -> tuple[list[str], list[list[object]]]:
    """Remove the columns named in ``optional`` whose cells are all blank (``""`` or ``-``)."""
    keep = [
        i
        for i, h in enumerate(headers)
        if h not in optional or any(str(r[i]) not in ("", "-") for r in rows)
    ]
    return [headers[i] for i in keep], [[r[i] for i in keep] for r in rows]


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], width: int | None = None
) -> str:
    """Left-aligned plain-text table with a dashed rule under the header.

    With ``width``, the last column is wrapped (continuation lines indented to it) so that the
    lines fit in ``width`` characters where the other columns leave room for it (at least 24).
    """
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    n = len(headers)
    widths = [max(len(r[i]) for r in cells) for i in range(n)]
    if width is not None and n > 0:
        room = max(24, width - sum(widths[:-1]) - 2 * (n - 1))
        if widths[-1] > room:
            wrapped = [cells[0]]
            for r in cells[1:]:
                parts = textwrap.wrap(r[-1], width=room, break_on_hyphens=False) or [""]
                wrapped.append([*r[:-1], parts[0]])
                wrapped += [[""] * (n - 1) + [part] for part in parts[1:]]
            cells = wrapped
            widths[-1] = max(len(r[-1]) for r in cells)
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
