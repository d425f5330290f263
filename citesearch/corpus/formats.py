"""Turn the bytes of one file into (title, text) by format.

Plain text, Markdown and reStructuredText keep their text as written, so that passage
offsets point into what the user sees in the file. HTML is rendered to text with its
paragraph boundaries kept and scripts, styles and navigation dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A line of only punctuation under (or over) a heading line, as in reStructuredText and
# Markdown setext headings.
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.,_])\1{2,}\s*$")
# CommonMark ATX heading: closing #s count only after a space ("# Learn C#" keeps its #).
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _heading_by_underline(lines: list[str]) -> str | None:
    for i in range(len(lines) - 1):
        line, below = lines[i].strip(), lines[i + 1]
        if line and not _UNDERLINE.match(line) and _UNDERLINE.match(below):
            return line
    return None


def read_text(text: str) -> tuple[str, str]:
    return _first_line(text), text


def read_markdown(text: str) -> tuple[str, str]:
    """The first heading, ATX (``# Title``) or setext (underlined), outside code fences."""
    lines = text.splitlines()
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = _ATX.match(line)
        if m:
            return m.group(1), text
        below = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and below.strip() and set(below.strip()) <= set("=-") and len(below.strip()) >= 3:
            return line.strip(), text
    return _first_line(text), text


def read_rst(text: str) -> tuple[str, str]:
    return _heading_by_underline(text.splitlines()) or _first_line(text), text


_DROP = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head")
_BLOCKS = (
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "td", "th",
    "tr", "ul",
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BREAKS = re.compile(r"\s*\n\s*\n\s*")


def read_html(text: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup  # index time only

    soup = BeautifulSoup(text, "html.parser")
    title = ""
    if soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(" ", strip=True)
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": "navigation"}):
        tag.decompose()
    if soup.title:
        soup.title.decompose()
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else ""
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    raw = soup.get_text()
    paragraphs = []
    for block in _BREAKS.split(raw):
        block = " ".join(_SPACES.sub(" ", line).strip() for line in block.split("\n"))
        if block.strip():
            paragraphs.append(block.strip())
    body = "\n\n".join(paragraphs)
    return " ".join(title.split()) or _first_line(body), body


READERS: dict[str, Callable[[str], tuple[str, str]]] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".rst": read_rst,
    ".html": read_html,
    ".htm": read_html,
}
"""Readers of single-document files by extension; ``.jsonl`` collections are read in
:mod:`citesearch.corpus.loading`, one document per line."""
