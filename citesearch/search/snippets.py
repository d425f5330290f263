"""Snippets: the part of a passage that best shows why it matched.

Like whoosh's highlighter, matches are character spans into the passage. The snippet is
the window that covers the most informative matched terms: each distinct term counts by
its weight (the caller passes idf, so a rare word such as "pancreatic" outweighs two
common ones), then the number of matches breaks ties.

Passages keep their source text (offsets point into the file), so the snippet is cleaned
for display: Markdown and reST markup (emphasis, heading hashes, underline lines, code
ticks, link targets) is dropped, list bullets become "•", white space is folded, and a
paragraph break after a line without closing punctuation (a heading) reads " — " rather
than running the heading into the next sentence. Highlight spans index into the cleaned
snippet. To keep them right through the cleaning, each match is wrapped in private-use
marker characters before cleaning, and the spans are read back from where they end up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

SNIPPET_CHARS = 320
ELLIPSIS = "…"
SEPARATOR = " — "
"""What a paragraph break after a heading (a line not ending a sentence) becomes."""

Match = tuple[int, int, int]
Weights = Mapping[int, float] | Sequence[float]

# Private-use characters: one opening marker per match, carrying the match's index, one
# closing marker for all, and masks for markup characters inside code spans. The text's
# own private-use characters become spaces.
_OPEN_BASE, _OPEN_LAST = 0xE000, 0xF7FF
_MASK_BASE = 0xF800
_CLOSE = "\uf8ff"
_OPENS = "\ue000-\uf7ff"
_MARKS = re.compile(f"[{_OPENS}{_CLOSE}]")
_SPLIT_MARKS = re.compile(f"([{_OPENS}{_CLOSE}])")
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_LONG = 12  # a text longer than this many snippets may be cut at a line break, not only a blank line

# Whole lines of markup, per line (re.MULTILINE).
_LINES = re.compile(
    r"^(?:"
    # reST over/underlines, Markdown rules and setext underlines, code fences
    r"[ \t]*(?P<rule>[=\-~^\"'`#*+_:])(?P=rule){2,}[ \t]*"
    r"|[ \t]*(?:```+|~~~+)[\w+.-]*[ \t]*"
    # reST directives, targets and substitution definitions; Markdown link definitions
    r"|[ \t]*\.\.[ \t]+(?:[\w:-]+::|_[^:\n]*:|\|[^|\n]+\|)[^\n]*"
    r"|[ \t]{0,3}\[[^\]\n]+\]:[ \t]+\S+[^\n]*"
    r")$"
    r"|^[ \t]{0,3}#{1,6}[ \t]+(?P<heading>[^\n]*?)(?:[ \t]+#+)?[ \t]*$"
    r"|^(?P<indent>[ \t]*)[-*](?=[ \t]+\S)"  # list bullets (not "+": "+ 3 more")
    r"|^[ \t]{0,3}>(?:[ \t]+(?=[^\d=\s])|[ \t]*$)",  # block quotes (not "> 50%")
    re.MULTILINE,
)


def _line(m: re.Match[str]) -> str:
    if m.group("heading") is not None:
        return m.group("heading") + "\n"  # a paragraph break after it, even without a blank line
    if m.group("indent") is not None:
        return m.group("indent") + "•"
    return ""


# Inline markup, one kind per pass (each a regular expression that starts with its
# literal character, which the engine finds fast), each pass only when its character
# occurs. Code spans go first, their content masked so that later passes leave it alone.
_MASKED = "*_[]()<>:`#"
_MASK = {ord(c): _MASK_BASE + ord(c) for c in _MASKED}
_UNMASK = {v: k for k, v in _MASK.items()}
_LITERAL = re.compile(r"::(?<=\S::)(?=[ \t]*$)", re.MULTILINE)  # reST's "text::" before a literal block reads "text:"
_ROLE = re.compile(r":(?<![\w`]:)[\w.+-]+:(?=`)")
_TICKS = re.compile(
    # reST links `text <url>`_ and `text`_, else a code span (Markdown, or reST ``literal``)
    r"`(?:(?P<rst>[^`<\n]+?)(?:[ \t]*<[^>`\n]+>)?`__?(?!\w)"
    r"|(?P<ticks>`*)(?P<code>[^`]|[^`](?:[^\n]|\n(?![ \t]*\n))*?[^`])`(?P=ticks)(?!`))"
)
_LINK = re.compile(
    r"!?\[(?P<link>[^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)"  # [text](url "title")
    # [text][ref], but not citation marks such as [2][6]
    r"|\[(?P<ref>[^\]\n]*[^\W\d][^\]\n]*)\]\[[^\]\n]*\]"
)
_AUTOLINK = re.compile(r"<(?P<url>(?:https?|ftp|mailto):[^>\s]+)>")
# Emphasis needs a non-word character (or the text's edge) outside its markers and
# non-space inside, so "5 * 3", "2*3*4" and snake_case are left alone; a closing marker
# after a match counts as a word character, an opening one before a match too.
_PARAGRAPH = r"(?:[^\n]|\n(?![ \t]*\n))"
_EMPHASIS_CHARS = 200  # the longest emphasis looked for: an unclosed marker costs a scan this long
_STARS = re.compile(
    rf"(?P<stars>\*(?<![\w{_CLOSE}\\*]\*)\*{{0,2}})(?=[^\s*])(?P<inner>{_PARAGRAPH}{{1,{_EMPHASIS_CHARS}}}?)"
    rf"(?<=[^\s*\\])(?P=stars)(?![\w{_OPENS}*])"
)
_UNDERS = re.compile(
    rf"(?P<unders>_(?<![\w{_CLOSE}\\]_)_?)(?=[^\s_])(?P<inner>{_PARAGRAPH}{{1,{_EMPHASIS_CHARS}}}?)"
    rf"(?<=[^\s_\\])(?P=unders)(?![\w{_OPENS}])"
)
_IDENTIFIER = re.compile(r"\w+")
_ESCAPED = re.compile(r"\\(?P<char>[\\`*_{}\[\]()#+\-.!<>|])")  # Markdown's backslash escapes


def _ticks(m: re.Match[str]) -> str:
    rst = m.group("rst")
    return rst if rst is not None else m.group("code").translate(_MASK)


def _link(m: re.Match[str]) -> str:
    text = m.group("link")
    return text if text is not None else m.group("ref")


def _stars(m: re.Match[str]) -> str:
    inner = m.group("inner")
    return _STARS.sub(_stars, inner) if "*" in inner else inner


def _unders(m: re.Match[str]) -> str:
    inner = m.group("inner")
    if m.group("unders") == "__" and _IDENTIFIER.fullmatch(_MARKS.sub("", inner)):
        return m.group()  # __init__ is a name, not strong emphasis
    return _UNDERS.sub(_unders, inner) if "_" in inner else inner


# Folding white space: a paragraph break after a line that ends a sentence is a space,
# after a heading (or a title, or a list item without a full stop) it is SEPARATOR.
_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = frozenset(".!?:;,…")
_CLOSERS = "\"')]}”’»" + _CLOSE


def _fold(text: str) -> str:
    out = ""
    for paragraph in _BREAK.split(text):
        words = " ".join(paragraph.split())
        if not words:
            continue
        if not out:
            out = words
        elif words[0] == "•" or out.rstrip(_CLOSERS)[-1:] in _SENTENCE_END:
            out += " " + words
        else:
            out += SEPARATOR + words
    return out


def clean_markup(text: str) -> str:
    """``text`` as it reads: markup dropped and white space folded (see the module doc)."""
    if not text.isascii() and _PRIVATE.search(text):
        text = _PRIVATE.sub(" ", text)
    clean = _fold(_strip_markup(text))
    return clean.translate(_UNMASK) if "`" in text else clean


def _strip_markup(text: str) -> str:
    """``text`` without markup, white space not yet folded, code spans still masked."""
    text = _LINES.sub(_line, text)
    if "::" in text:
        text = _LITERAL.sub(":", text)
    if "`" in text:
        if ":`" in text:
            text = _ROLE.sub("", text)
        text = _TICKS.sub(_ticks, text)
    if "](" in text or "][" in text:
        text = _LINK.sub(_link, text)
    if "<" in text:
        text = _AUTOLINK.sub(r"\g<url>", text)
    if "*" in text:
        text = _STARS.sub(_stars, text)
    if "_" in text:
        text = _UNDERS.sub(_unders, text)
    if "\\" in text:
        text = _ESCAPED.sub(r"\g<char>", text)
    return text


def _term_weights(matches: list[Match], weights: Weights | None) -> dict[int, int]:
    """Each matched term's weight, in millionths (sums of integers compare exactly)."""
    out: dict[int, int] = {}
    for _, _, term in matches:
        if term not in out:
            try:
                w = 1.0 if weights is None else float(weights[term])  # type: ignore[index]
            except (KeyError, IndexError):
                w = 0.0
            out[term] = max(1, round(w * 1e6))  # every matched term counts for something
    return out


def _cluster(matches: list[Match], weights: dict[int, int], size: int) -> tuple[int, int] | None:
    """(start, end) of the run of matches fitting in ``size`` characters that covers the
    greatest weight of distinct terms, then the most distinct terms, then the most matches;
    the earliest such run on a tie."""
    best = (0, 0, 0)
    where = None
    counts = dict.fromkeys(weights, 0)
    total = distinct = j = 0
    n = len(matches)
    for i, (start, _, term) in enumerate(matches):
        limit = start + size
        while j < n and matches[j][1] <= limit:
            t = matches[j][2]
            if not counts[t]:
                total += weights[t]
                distinct += 1
            counts[t] += 1
            j += 1
        if j <= i:
            j = i + 1  # a match longer than the window: skip it
            continue
        if (total, distinct, j - i) > best:
            best, where = (total, distinct, j - i), (start, matches[j - 1][1])
        counts[term] -= 1
        if not counts[term]:
            total -= weights[term]
            distinct -= 1
    return where


_SENTENCE_START = re.compile(r"[.!?…][\"')\]”’]*\s+(?=[\"“(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|Prof|Sr|Jr|St|vs|etc|al|Fig|No|[A-Z])|\be\.g|\bi\.e)\.$")


def _place(
    text: str, matches: list[Match], cluster: tuple[int, int] | None, size: int, whole: bool = True
) -> tuple[int, int]:
    """The window of ``text`` to show around ``cluster``: from the text's start when that
    shows the cluster's terms (and ``text`` is the whole text, not a part cut out of it),
    else from the start of the cluster's sentence or a little before it; cut at white
    space."""
    n = len(text)
    if n <= size:
        return 0, n
    first, last = cluster or (0, 0)
    if whole and (
        last <= size - size // 8
        or first < size // 4
        and {t for s, e, t in matches if first <= s and e <= last} <= {t for _, e, t in matches if e <= size}
    ):
        start = 0
    else:
        start = max(0, first - min(size - (last - first), size // 5))
        sentence = None
        for m in _SENTENCE_START.finditer(text, start, first + 1):
            if not _ABBREVIATION.search(text, max(0, m.start() - 6), m.start() + 1):
                sentence = m.end()
        if sentence is not None:
            start = sentence
        elif start > 0 and not text[start - 1].isspace():
            space = text.find(" ", start, first)
            start = space + 1 if space >= 0 else start
    end = min(n, start + size)
    if end < n and not text[end].isspace():
        space = text.rfind(" ", max(start, last) if last <= end else start, end)
        end = space if space > start else end
    return start, end


def _paragraph_start(text: str, at: int, size: int) -> int:
    """Where the paragraph holding ``at`` starts, if within reach; else the text's start,
    or (a very long text) the line's, or failing that ``at``."""
    start = -1
    for m in _BREAK.finditer(text, max(0, at - 2 * size), at):
        start = m.end()
    if start >= 0 or len(text) <= _LONG * size:
        return max(start, 0)
    return text.rfind("\n", max(0, at - 2 * size), at) + 1 or text.rfind(" ", 0, at) + 1


def _paragraph_end(text: str, at: int, size: int) -> int:
    """Where the paragraph holding ``at`` ends, if within reach; else the text's end, or
    (a very long text) the line's, or failing that ``at``."""
    m = _BREAK.search(text, at, at + 2 * size)
    if m or len(text) <= _LONG * size:
        return m.start() if m else len(text)
    end = text.find("\n", at, at + 2 * size)
    if end < 0:
        end = text.find(" ", at)
    return end if end >= 0 else len(text)


def make_snippet(
    text: str,
    matches: list[Match],
    weights: Weights | None = None,
    size: int = SNIPPET_CHARS,
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """(snippet, highlight spans in it) of ``text``, whose ``matches`` are (start, end, term).

    ``weights[term]`` is how much showing ``term`` is worth (idf: a mapping, or an array
    indexed by term id); without it every distinct term counts the same.
    """
    matches = sorted(m for m in matches if m[1] > m[0])[: _OPEN_LAST - _OPEN_BASE + 1]
    weight = _term_weights(matches, weights)
    first, last = _cluster(matches, weight, size) or (0, 0)
    # Clean only the paragraphs around the cluster (markup never spans a blank line).
    lo, hi = 0, len(text)
    if hi > 2 * size:
        if first > size:
            lo = _paragraph_start(text, first - size // 2, size)
        if max(last, first + size) + size // 2 < hi:
            hi = _paragraph_end(text, max(last, first + size) + size // 2, size)
        matches = [m for m in matches if m[0] >= lo and m[1] <= hi]
    region = text[lo:hi]
    if not region.isascii() and _PRIVATE.search(region):
        region = _PRIVATE.sub(" ", region)
    # Mark the matches and drop the markup.
    pieces, pos, before = [], lo, 0
    for i, (s, e, _) in enumerate(matches):
        if s >= pos:  # of overlapping matches, the first
            pieces += [region[pos - lo : s - lo], chr(_OPEN_BASE + i), region[s - lo : e - lo], _CLOSE]
            pos = e
            before += 2 if s < first else 0
    pieces.append(region[pos - lo :])
    marked = _strip_markup("".join(pieces))
    # Fold white space only near the cluster, when little markup went: about where it was.
    a, b = 0, len(marked)
    if b > 2 * size and len(region) + 2 * len(matches) - b < size // 4:
        near = first - lo + before
        if near > size:
            a = max(0, marked.rfind(" ", 0, near - size // 2))
        b = min(b, near + size + size // 2)
        b = len(marked) if b >= len(marked) - size // 4 else b
        space = marked.find(" ", b)
        b = space if space >= 0 else len(marked)
    # Fold, then read the marks back as spans of the clean text.
    parts = _SPLIT_MARKS.split(_fold(marked[a:b]))
    found: list[Match] = []
    at, opened = len(parts[0]), None
    for i in range(1, len(parts), 2):
        mark = parts[i]
        if mark != _CLOSE:
            opened = (at, matches[ord(mark) - _OPEN_BASE][2])
        elif opened is not None:
            if at > opened[0]:
                found.append((opened[0], at, opened[1]))
            opened = None
        at += len(parts[i + 1])
    clean = "".join(parts[::2])
    if "`" in region:  # code spans were masked
        clean = clean.translate(_UNMASK)
    start, end = _place(clean, found, _cluster(found, weight, size), size, whole=lo == a == 0)
    # Trim white space and a heading separator left at either edge.
    window = clean[start:end]
    stripped = window.lstrip()
    stripped = stripped.removeprefix(SEPARATOR.lstrip())
    start += len(window) - len(stripped)
    window = stripped.rstrip()
    window = window.removesuffix(SEPARATOR.rstrip()).rstrip()
    end = start + len(window)
    head = ELLIPSIS if start > 0 or a > 0 or lo > 0 else ""
    tail = ELLIPSIS if end < len(clean) or b < len(marked) or hi < len(text) else ""
    shift = len(head) - start
    spans = tuple((s + shift, e + shift) for s, e, _ in found if s >= start and e <= end)
    return head + window + tail, spans
