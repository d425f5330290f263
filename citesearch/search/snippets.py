"""Snippets: the part of a passage that best shows why it matched.

Like whoosh's highlighter, matches are character spans into the passage; the snippet is
a window around the densest cluster of distinct matched terms, with white space folded
and an ellipsis where text was cut.
"""

from __future__ import annotations

import re

SNIPPET_CHARS = 320
_SPACE = re.compile(r"\s+")
ELLIPSIS = "…"


def _window(text: str, matches: list[tuple[int, int, int]], size: int) -> tuple[int, int]:
    """Start and end of the ``size``-character window covering the most distinct terms."""
    if len(text) <= size:
        return 0, len(text)
    best, best_start = (-1, -1), 0
    for i, (start, _, _) in enumerate(matches):
        inside = [m for m in matches[i:] if m[1] <= start + size]
        score = (len({m[2] for m in inside}), len(inside))
        if score > best:
            best, best_start = score, start
    if not matches:
        best_start = 0
    lead = min(size // 5, best_start)
    start = best_start - lead
    end = min(len(text), start + size)
    start = max(0, end - size)
    # Snap to word boundaries.
    if start > 0:
        space = text.find(" ", start, best_start if matches else start + 40)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def make_snippet(
    text: str, matches: list[tuple[int, int, int]], size: int = SNIPPET_CHARS
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """(snippet, highlight spans in it) for ``text`` with ``matches`` = (start, end, term)."""
    matches = sorted(matches)
    start, end = _window(text, matches, size)
    pieces: list[str] = [ELLIPSIS] if start > 0 else []
    length = len(pieces[0]) if pieces else 0
    spans: list[tuple[int, int]] = []
    pos = start
    for s, e, _ in matches:
        if s < start or e > end:
            continue
        gap = _SPACE.sub(" ", text[pos:s])
        if not pieces or (pieces == [ELLIPSIS]):
            gap = gap.lstrip()
        pieces.append(gap)
        length += len(gap)
        pieces.append(text[s:e])
        spans.append((length, length + e - s))
        length += e - s
        pos = e
    tail = _SPACE.sub(" ", text[pos:end])
    if not spans:
        tail = tail.strip()
    pieces.append(tail.rstrip())
    if end < len(text):
        pieces.append(ELLIPSIS)
    return "".join(pieces), tuple(spans)
