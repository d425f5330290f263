"""Rendering search results: text (terminal), json, jsonl and markdown, via ``FORMATS``."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..plural import plural
from .results import Explanation, Result, SearchResults, SourceRef

if TYPE_CHECKING:
    from ..indexer.storage import SourceRecord

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _marked(result: Result, before: str, after: str) -> str:
    text, out, pos = result.snippet, [], 0
    for s, e in result.highlights:
        out += [text[pos:s], before, text[s:e], after]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def member_id(source: SourceRef | SourceRecord) -> str | None:
    """The document id of a source that is one record of a collection file (a JSONL
    line), None for a source that is a whole file. A file's id is its path, or the tail
    of its path below the directory it was found under; a record's id is its ``_id``."""
    if source.id == source.path or source.path.endswith("/" + source.id):
        return None
    return source.id


def _where(source: SourceRef) -> str:
    """Where a source is, as text: its path, and for a collection member its id too."""
    member = member_id(source)
    return source.path if member is None else f"{source.path} · doc {member}"


def explanation_lines(e: Explanation) -> list[str]:
    """A result's score explained, a line per method and per term, then the fusion."""
    lines = []
    for part in e.parts:
        rank = f", rank {part.rank}" if part.rank is not None and e.fusion else ""
        lines.append(f"{part.method} {part.score:.4f}{rank}  ({part.formula})")
        for t in part.terms:
            if part.method in ("bm25", "dfr"):
                weight = f" × {t.query_weight:g} in query" if t.query_weight != 1 else ""
                idf = "idf" if part.method == "bm25" else "term factor"
                lines.append(
                    f"  {t.term}: {idf} {t.idf:.3f} × tf part {t.tf_part:.3f} (tf {t.tf}, length {t.length}){weight}"
                    f" = {t.score:.4f}"
                )
            else:
                lines.append(
                    f"  {t.term}: query weight {t.query_weight:.3f} × passage weight {t.tf_part:.3f}"
                    f" (tf {t.tf}, idf {t.idf:.3f}) = {t.score:.4f}"
                )
    if e.fused:
        lines.append(f"{e.fusion}: {e.fused}")
    return lines


def render_text(found: SearchResults, color: bool = False, width: int | None = None) -> str:
    width = max(width or min(100, shutil.get_terminal_size((100, 24)).columns), 40)  # a narrow terminal wraps at 40
    bold, dim, reset = (BOLD, DIM, RESET) if color else ("", "", "")
    if not found.results:
        return f"No results for {found.query!r}.\n"
    lines: list[str] = []
    indent = "     "
    for r in found.results:
        head = f"{r.rank:>3}. [{r.citation}] {r.source.title}"
        lines.append(f"{bold}{head}{reset}  {dim}score {r.score:.4f}{reset}")
        lines.append(f"{indent}{dim}{_where(r.source)} · passage {r.passage.ordinal}{reset}")
        # Wrap the plain text, then re-apply highlights by character position.
        plain = textwrap.wrap(r.snippet, width - len(indent)) or [""]
        if color and r.highlights:
            marked_words = _marked(r, "\0", "\1")
            wrapped = textwrap.wrap(marked_words, width - len(indent), break_on_hyphens=False)
            plain = [w.replace("\0", BOLD).replace("\1", RESET) for w in wrapped]
        lines += [indent + w for w in plain]
        if r.explanation is not None:
            lines += [f"{indent}{dim}{line}{reset}" for line in explanation_lines(r.explanation)]
        lines.append("")
    lines.append(f"{bold}Sources{reset}")
    for c in found.sources:
        lines.append(f"[{c.citation}] {c.source.title} — {_where(c.source)} ({plural(c.hits, 'result')})")
    return "\n".join(lines) + "\n"


def render_json(found: SearchResults, **_: object) -> str:
    return json.dumps(found.to_dict(), ensure_ascii=False, indent=2) + "\n"


def render_jsonl(found: SearchResults, **_: object) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in found.results)


# Markdown (CommonMark, GFM): what could read as markup, escaped once, and only that.
_MD_CANDIDATES = re.compile(r"[\\`*_~\[\]<&]")
_MD_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
_MD_BLOCK = re.compile(r"#{1,6}(?=[ \t]|$)|[>\[]|[-+*](?=[ \t]|$)|\d{1,9}(?=[.)](?:[ \t]|$))|=+[ \t]*$|~~~")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _md_escape(text: str, spans: tuple[tuple[int, int], ...] = (), line_start: bool = False) -> str:
    """``text`` as Markdown inline content, with ``spans`` of it in bold.

    A character is escaped only where it could start markup: a backslash before
    punctuation, a code tick, an emphasis or strikethrough character that could open or
    close (not "5 * 3", not the "_" of snake_case), a "]" that could end a link ("](") ,
    "<" before a tag or autolink, "&" of an entity; and at the start of a line
    (``line_start``: a list item's text), what would open a heading, quote, list or
    link definition. ``text`` is taken to sit between spaces."""
    bounds = {p for span in spans for p in span}
    n = len(text)

    def char(i: int) -> str:  # the character the Markdown reader sees at i
        return " " if i < 0 or i >= n else text[i]

    escape = set()
    for m in _MD_CANDIDATES.finditer(text):
        i, c = m.start(), m.group()
        before = "*" if i in bounds else char(i - 1)
        after = "*" if i + 1 in bounds else char(i + 1)
        if c == "\\":
            needed = after in _ASCII_PUNCTUATION
        elif c in "*~":
            needed = not (before.isspace() and after.isspace())
        elif c == "_":
            needed = not (before.isspace() and after.isspace()) and not (before.isalnum() and after.isalnum())
        elif c == "]":
            needed = after == "("
        elif c == "<":
            needed = after.isascii() and (after.isalpha() or after in "/!?")
        elif c == "&":
            needed = _MD_ENTITY.match(text, i) is not None
        else:  # a code tick, always; "[" only at a line's start
            needed = c == "`"
        if needed:
            escape.add(i)
    if line_start and (m := _MD_BLOCK.match(text)):
        escape.add(m.end() if m.group()[0].isdigit() else 0)
    out, pos = [], 0
    for i in sorted(escape | bounds):
        out.append(text[pos:i])
        if i in bounds:
            out.append("**")
        if i in escape:
            out.append("\\")
        pos = i
    out.append(text[pos:])
    return "".join(out)


def _md_code(text: str) -> str:
    """``text`` as a code span, fenced by more ticks than it holds in a row."""
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _md_where(source: SourceRef) -> str:
    member = member_id(source)
    return _md_code(source.path) + ("" if member is None else f" · doc {_md_code(member)}")


def _merged(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Highlight spans, touching ones joined (one bold run, not "**a****b**")."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        elif e > s:
            out.append((s, e))
    return tuple(out)


def render_markdown(found: SearchResults, **_: object) -> str:
    out = [f"**{_md_escape(found.query)}**", ""]
    if not found.results:
        return "\n".join(out + ["No results.", ""])
    for r in found.results:
        out.append(f"{r.rank}. {_md_escape(r.snippet, _merged(r.highlights), line_start=True)} [{r.citation}]")
        if r.explanation is not None:
            out += ["", "   ```", *(f"   {line}" for line in explanation_lines(r.explanation)), "   ```", ""]
    out += ["", "**Sources**", ""]
    for c in found.sources:
        title = _md_escape(" ".join(c.source.title.split()))
        out.append(f"[{c.citation}] {title} — {_md_where(c.source)} ({plural(c.hits, 'result')})  ")
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[..., str]] = {
    "text": render_text,
    "json": render_json,
    "jsonl": render_jsonl,
    "markdown": render_markdown,
}
