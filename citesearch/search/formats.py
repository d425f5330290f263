"""Rendering search results: text (terminal), json, jsonl and markdown, via ``FORMATS``."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable

from .results import Result, SearchResults

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _marked(result: Result, before: str, after: str) -> str:
    text, out, pos = result.snippet, [], 0
    for s, e in result.highlights:
        out += [text[pos:s], before, text[s:e], after]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(found: SearchResults, color: bool = False, width: int | None = None, explain: bool = False) -> str:
    width = width or min(100, shutil.get_terminal_size((100, 24)).columns)
    bold, dim, reset = (BOLD, DIM, RESET) if color else ("", "", "")
    if not found.results:
        return f"No results for {found.query!r}.\n"
    lines: list[str] = []
    indent = "     "
    for r in found.results:
        head = f"{r.rank:>3}. [{r.citation}] {r.source.title}"
        lines.append(f"{bold}{head}{reset}  {dim}score {r.score:.4f}{reset}")
        lines.append(f"{indent}{dim}{r.source.path} · passage {r.passage.ordinal}{reset}")
        # Wrap the plain text, then re-apply highlights by character position.
        plain = textwrap.wrap(r.snippet, width - len(indent)) or [""]
        if color and r.highlights:
            marked_words = _marked(r, "\0", "\1")
            wrapped = textwrap.wrap(marked_words, width - len(indent), break_on_hyphens=False)
            plain = [w.replace("\0", BOLD).replace("\1", RESET) for w in wrapped]
        lines += [indent + w for w in plain]
        for c in r.explanation:
            lines.append(
                f"{indent}{dim}{c.term}: idf {c.idf:.3f} × tf part {c.tf_part:.3f} "
                f"(tf {c.tf}, length {c.length}/{c.avg_length:.1f})"
                + (f" × {c.query_count} in query" if c.query_count > 1 else "")
                + f" = {c.score:.4f}{reset}"
            )
        lines.append("")
    lines.append(f"{bold}Sources{reset}")
    for c in found.sources:
        lines.append(f"[{c.citation}] {c.source.title} — {c.source.path} ({_plural(c.hits, 'result')})")
    return "\n".join(lines) + "\n"


def render_json(found: SearchResults, **_: object) -> str:
    return json.dumps(found.to_dict(), ensure_ascii=False, indent=2) + "\n"


def render_jsonl(found: SearchResults, **_: object) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in found.results)


def _md_escape(text: str) -> str:
    return text.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")


def render_markdown(found: SearchResults, **_: object) -> str:
    out = [f"**{_md_escape(found.query)}**", ""]
    if not found.results:
        return "\n".join(out + ["No results.", ""])
    for r in found.results:
        text, pos, parts = r.snippet, 0, []
        for s, e in r.highlights:
            parts += [_md_escape(text[pos:s]), "**", _md_escape(text[s:e]), "**"]
            pos = e
        parts.append(_md_escape(text[pos:]))
        out.append(f"{r.rank}. {''.join(parts)} [{r.citation}]")
    out += ["", "**Sources**", ""]
    for c in found.sources:
        out.append(f"[{c.citation}] {_md_escape(c.source.title)} — `{c.source.path}` ({_plural(c.hits, 'result')})  ")
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[..., str]] = {
    "text": render_text,
    "json": render_json,
    "jsonl": render_jsonl,
    "markdown": render_markdown,
}
