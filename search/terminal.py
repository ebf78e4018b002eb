"""Terminal presentation of a search answer (``newsearch search`` without --json)."""

from __future__ import annotations

import html
import re
import shutil

_MARK_RE = re.compile(r"</?mark>")


def plain_snippet(snippet: str, emphasis: bool = False) -> str:
    """The snippet as terminal text: marks become bold (or are dropped), entities unescaped."""
    if emphasis:
        snippet = snippet.replace("<mark>", "\033[1m").replace("</mark>", "\033[0m")
    return html.unescape(_MARK_RE.sub("", snippet))


def format_table(answer: dict, width: int | None = None, emphasis: bool = False) -> str:
    """Header line, one block per result (rank, date, source, title, snippet), then the top facets."""
    width = width or max(60, min(shutil.get_terminal_size((100, 20)).columns, 160))
    lines = [_header(answer)]
    if answer.get("suggestion"):
        lines.append(f"did you mean: {answer['suggestion']}")
    first = (answer["page"] - 1) * answer["per_page"]
    for rank, result in enumerate(answer["results"], start=first + 1):
        lines.append("")
        lines.extend(_result_lines(rank, result, width, emphasis))
    if not answer["results"]:
        lines.append("no results")
    lines.extend(_facet_lines(answer, width))
    return "\n".join(lines)


def _header(answer: dict) -> str:
    total, page, per_page = answer["total"], answer["page"], answer["per_page"]
    shown = f"{(page - 1) * per_page + 1}-{min(total, page * per_page)}" if answer["results"] else "0"
    partial = "  (partial: time budget exceeded)" if answer.get("partial") else ""
    query = answer["query"] or "(everything)"
    return f"{query}: {total} results, showing {shown}, {answer['took_ms']} ms{partial}"


def _result_lines(rank: int, result: dict, width: int, emphasis: bool) -> list[str]:
    date = (result.get("date") or "undated")[:10]
    source = result.get("source") or "-"
    head = f"{rank:>4}. {date}  {source}  {result.get('title') or '(untitled)'}"
    lines = [_clip(head, width), _clip(f"      id {result['id']}  score {result.get('score', 0)}", width)]
    if result.get("snippet"):
        lines.append(_clip("      " + plain_snippet(result["snippet"], emphasis), width, keep_marks=emphasis))
    return lines


def _facet_lines(answer: dict, width: int) -> list[str]:
    lines = []
    for name, values in answer.get("facets", {}).items():
        if values:
            shown = ", ".join(f"{v['value']} ({v['count']})" for v in values[:8])
            lines.append(_clip(f"{name:>8}: {shown}", width))
    histogram = answer.get("histogram") or {}
    if histogram.get("buckets"):
        buckets = histogram["buckets"]
        lines.append(f"{'dates':>8}: {buckets[0]['start']} … {buckets[-1]['start']} by {histogram['interval']}, "
                     f"{len(buckets)} buckets")
    return ["", "facets:", *lines] if lines else []


def _clip(text: str, width: int, keep_marks: bool = False) -> str:
    if keep_marks or len(text) <= width:
        return text
    return text[: width - 1] + "…"
