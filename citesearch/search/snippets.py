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

A snippet is made for each result of every search, so only the work the answer needs is
done, and the answer is what cleaning the whole passage and then choosing the window
gives (the tests check it against that): a cleaning pass runs only when the text has what
it needs to match; a passage where none can and whose white space is single spaces is its
own clean text, and nothing is marked or cleaned; the matches are marked alike and read
back by ``str`` methods, unless the cleaning dropped some; a clean text no longer than the
snippet is shown whole, without weighing windows. A passage longer than ``_LONG``
snippets is cleaned only in the paragraphs near its best window, chosen on the raw text,
which keeps a very long one cheap; its window can differ from the whole-text one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import accumulate

SNIPPET_CHARS = 320
ELLIPSIS = "…"
SEPARATOR = " — "
"""What a paragraph break after a heading (a line not ending a sentence) becomes."""
_DASH = SEPARATOR.strip()

Match = tuple[int, int, int]
Weights = Mapping[int, float] | Sequence[float]

# Private-use characters: an opening marker per match (_OPEN for all, or one carrying the
# match's index), one closing marker for all, and masks for markup characters inside code
# spans. The text's own private-use characters become spaces.
_OPEN_BASE, _OPEN_LAST = 0xE000, 0xF7FF
_MASK_BASE = 0xF800
_OPEN, _CLOSE = "\ue000", "\uf8ff"
_OPENS = "\ue000-\uf7ff"
_MARKS = re.compile(f"[{_OPENS}{_CLOSE}]")
_SPLIT_MARKS = re.compile(f"([{_OPENS}{_CLOSE}])")
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_MAX_MARKS = _OPEN_LAST - _OPEN_BASE + 1
# A text longer than this many snippets is cleaned only near its best window, and may be
# cut at a line break, not only a blank line.
_LONG = 12

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


# Every kind of _LINES starts with one of these as the line's first character after blanks.
_LINE_STARTS = frozenset("=-~^\"'`#*+_:.[>")
_LINE_HINT = re.compile(r"\n[ \t]*[=\-~^\"'`#*+_:.\[>]")  # at a line start but the first


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
_MASKS = re.compile(f"[{chr(min(_UNMASK))}-{chr(max(_UNMASK))}]")  # the text's own private-use characters are gone
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


# What the passes of _strip_markup need to match, as regular expressions that start with
# their literal character (which the engine finds fast): an emphasis needs an opening
# marker with text after it and a closing one, a link its "](...)" or "][...]", an
# autolink its scheme. _no_markup checks the openers alone: on a text without markers
# they hold where they hold on the marked text, except where a match starts at a marker.
_STAR_OPENER = re.compile(r"\*(?<![\w\\*]\*)")
_UNDER_OPENER = re.compile(r"_(?<![\w\\]_)")
_STARS_NEED = re.compile(r"\*(?<![\w\\*]\*)\*{0,2}[^\s*]")  # an opener with text after it...
_STARS_CLOSER = re.compile(rf"\*(?<=[^\s*\\]\*)\**(?![\w{_OPENS}*])")  # ...and a closer
_UNDERS_NEED = re.compile(r"_(?<![\w\\]_)_?[^\s_]")
_UNDERS_CLOSER = re.compile(rf"_(?<=[^\s_\\]_)_?(?![\w{_OPENS}])")
_LINK_END = re.compile(r"\](?:\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)|\[[^\]\n]*\])")
_AUTOLINK_START = re.compile(r"<(?:https?|ftp|mailto):")


def _spaced(text: str) -> bool:
    """Whether the white space of ``text`` is single spaces between words (folding leaves
    it as it is): no white space but " ", as all the rest is Unicode Other or Separator."""
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


def _no_markup(text: str) -> bool:
    """Whether no pass of _strip_markup can change ``text``, a text without line breaks,
    nor a marked version of it, except where a marked match starts with "*" or "_" (the
    marker before it does not count as a word character): each check is a necessary
    condition for a pass to match, a scan in C."""
    return (
        text.lstrip(" \t")[:1] not in _LINE_STARTS
        and ("`" not in text or ":`" not in text and text.count("`") < 2)
        and "::" not in text
        and ("]" not in text or _LINK_END.search(text) is None)
        and ("*" not in text or _STAR_OPENER.search(text) is None)
        and ("_" not in text or _UNDER_OPENER.search(text) is None)
        and ("<" not in text or _AUTOLINK_START.search(text) is None)
        and ("\\" not in text or _ESCAPED.search(text) is None)
    )


def _unmask(text: str) -> str:
    """``text`` with the markup characters of code spans as written."""
    return _MASKS.sub(_unmask_char, text) if _MASKS.search(text) else text


def _unmask_char(m: re.Match[str]) -> str:
    return chr(ord(m.group()) - _MASK_BASE)


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
    return _unmask(clean) if "`" in text else clean


def _strip_markup(text: str) -> str:
    """``text`` without markup, white space not yet folded, code spans still masked.
    Each pass runs only when the text has what it needs to match (so a text without
    markup is returned as it is, the same object)."""
    if "\n" in text:
        if text.lstrip(" \t")[:1] in _LINE_STARTS or _LINE_HINT.search(text):
            text = _LINES.sub(_line, text)
    elif text.lstrip(" \t")[:1] in _LINE_STARTS:  # one line: a match can only be at the start
        m = _LINES.match(text)
        if m:
            text = _line(m) + text[m.end() :]
    if "::" in text:
        text = _LITERAL.sub(":", text)
    if "`" in text:
        if ":`" in text:
            text = _ROLE.sub("", text)
        if text.count("`") > 1:
            text = _TICKS.sub(_ticks, text)
    if "]" in text and _LINK_END.search(text):
        text = _LINK.sub(_link, text)
    if "<" in text:
        text = _AUTOLINK.sub(r"\g<url>", text)
    if "*" in text and _STARS_NEED.search(text) and _STARS_CLOSER.search(text):
        text = _STARS.sub(_stars, text)
    if "_" in text and _UNDERS_NEED.search(text) and _UNDERS_CLOSER.search(text):
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
    matches = sorted([m for m in matches if m[1] > m[0]])
    if len(matches) > _MAX_MARKS:
        del matches[_MAX_MARKS:]
    if not text.isascii() and _PRIVATE.search(text):
        text = _PRIVATE.sub(" ", text)
    if len(text) > _LONG * size:
        return _long_snippet(text, matches, weights, size)
    spaced = _spaced(text)
    # (A match that starts with "*" or "_" has a marker before it, no word character: the
    # marked text can have an emphasis that the text alone cannot.)
    if (
        spaced
        and _no_markup(text)
        and not (("*" in text or "_" in text) and any(text[m[0]] in "*_" for m in matches))
    ):
        clean, found = text, _first_of_overlapping(matches)  # nothing to clean
    else:
        clean, found = _clean(text, matches, spaced)
    if len(clean) <= size:
        cluster = None  # the text is shown whole
    elif found and found[-1][1] - found[0][0] <= size:
        cluster = found[0][0], found[-1][1]  # all in one window: _cluster's answer
    else:
        cluster = _cluster(found, _term_weights(found, weights), size)
    start, end = _place(clean, found, cluster, size)
    return _window(clean, found, start, end)


def _first_of_overlapping(matches: list[Match]) -> list[Match]:
    """``matches`` (sorted) without those overlapping an earlier one."""
    out, pos = [], 0
    for m in matches:
        if m[0] >= pos:
            out.append(m)
            pos = m[1]
    return out


def _mark(text: str, matches: list[Match], offset: int = 0, indexed: bool = True) -> tuple[str, list[Match]]:
    """``text`` with each match wrapped in markers, of overlapping matches the first: an
    opening one (``indexed``: carrying the match's index in the list returned, else the
    first for all), then _CLOSE. ``matches`` index into the text that ``text`` starts at
    ``offset`` of."""
    pieces, kept, pos, mark = [], [], offset, _OPEN
    for m in matches:
        s, e = m[0], m[1]
        if s >= pos:
            if indexed:
                mark = chr(_OPEN_BASE + len(kept))
            pieces += (text[pos - offset : s - offset], mark, text[s - offset : e - offset], _CLOSE)
            kept.append(m)
            pos = e
    pieces.append(text[pos - offset :])
    return "".join(pieces), kept


def _read_marks(marked: str, kept: list[Match]) -> tuple[str, list[Match]]:
    """The text of ``marked`` (cleaned; its opening markers indexed) without its markers,
    and the spans of the marked matches in it that still hold some text."""
    parts = _SPLIT_MARKS.split(marked)
    found: list[Match] = []
    at, opened, term = len(parts[0]), -1, 0
    for i in range(1, len(parts), 2):
        mark = parts[i]
        if mark != _CLOSE:
            opened, term = at, kept[ord(mark) - _OPEN_BASE][2]
        elif opened >= 0:
            if at > opened:
                found.append((opened, at, term))
            opened = -1
        at += len(parts[i + 1])
    return "".join(parts[::2]), found


def _clean(text: str, matches: list[Match], spaced: bool = False) -> tuple[str, list[Match]]:
    """``text`` cleaned (:func:`clean_markup`), and the spans of ``matches`` in it (of
    overlapping matches the first; those whose text the cleaning dropped, none).
    ``spaced``: :func:`_spaced` holds for ``text``.

    The matches are marked alike, as their markers are read back by ``str`` methods
    when every one is left, and so in order. Where the cleaning took some (a match in a
    link's address), the text is marked again, each match by its index, and cleaned again."""
    marked, kept = _mark(text, matches, indexed=False)
    stripped = _strip_markup(marked)
    # The passes bring no white space but the line break after a heading.
    if spaced and "\n" not in stripped and "  " not in stripped and stripped[:1] != " " and stripped[-1:] != " ":
        if stripped is marked:
            return text, kept
        folded = stripped
    else:
        folded = _fold(stripped) if "\n" in stripped else " ".join(stripped.split())
        if folded == marked:
            return text, kept
    n = len(kept)
    if folded.count(_OPEN) == n and folded.count(_CLOSE) == n:
        parts = folded.replace(_OPEN, _CLOSE).split(_CLOSE)
        clean = "".join(parts)
        ends = list(accumulate(map(len, parts)))  # where each marker was in the clean text
        found = [(s, e, m[2]) for s, e, m in zip(ends[::2], ends[1::2], kept) if e > s]
    else:
        marked, kept = _mark(text, matches)
        clean, found = _read_marks(_fold(_strip_markup(marked)), kept)
    return (_unmask(clean) if "`" in text else clean), found


def _window(
    clean: str, found: list[Match], start: int, end: int, cut_before: bool = False, cut_after: bool = False
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet showing ``clean[start:end]`` and its spans, white space and a heading
    separator trimmed at either edge; an ellipsis marks text cut off (``cut_before`` and
    ``cut_after``: ``clean`` is itself a part of the text)."""
    window = clean[start:end]
    if window[:1].isspace() or window[-1:].isspace() or window[:1] == _DASH or window[-1:] == _DASH:
        stripped = window.lstrip()
        stripped = stripped.removeprefix(SEPARATOR.lstrip())
        start += len(window) - len(stripped)
        window = stripped.rstrip()
        window = window.removesuffix(SEPARATOR.rstrip()).rstrip()
        end = start + len(window)
    head = ELLIPSIS if start > 0 or cut_before else ""
    tail = ELLIPSIS if end < len(clean) or cut_after else ""
    shift = len(head) - start
    if not head and end == len(clean):  # (no ellipsis before: from the start)
        spans = tuple([m[:2] for m in found])  # all of them, where they are
    else:
        spans = tuple([(s + shift, e + shift) for s, e, _ in found if s >= start and e <= end])
    return head + window + tail, spans


def _long_snippet(
    text: str, matches: list[Match], weights: Weights | None, size: int
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """make_snippet for a text longer than _LONG snippets: the window is chosen on the raw
    text, and only the paragraphs around it are cleaned."""
    weight = _term_weights(matches, weights)
    first, last = _cluster(matches, weight, size) or (0, 0)
    # Clean only the paragraphs around the cluster (markup never spans a blank line).
    lo, hi = 0, len(text)
    if first > size:
        lo = _paragraph_start(text, first - size // 2, size)
    if max(last, first + size) + size // 2 < hi:
        hi = _paragraph_end(text, max(last, first + size) + size // 2, size)
    matches = [m for m in matches if m[0] >= lo and m[1] <= hi]
    region = text[lo:hi]
    # Mark the matches and drop the markup.
    marked, kept = _mark(region, matches, lo)
    before = 2 * sum(1 for m in kept if m[0] < first)
    marked = _strip_markup(marked)
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
    clean, found = _read_marks(_fold(marked[a:b]), kept)
    if "`" in region:  # code spans were masked
        clean = _unmask(clean)
    start, end = _place(clean, found, _cluster(found, weight, size), size, whole=lo == a == 0)
    return _window(clean, found, start, end, a > 0 or lo > 0, b < len(marked) or hi < len(text))
