"""A text (Markdown or plain) cut into claims: sentences with character offsets.

Sentences come from the same splitter as passages (:mod:`citesearch.corpus.passages`:
NLTK's Punkt tokenizer as a class, with the same abbreviations), loaded without running
``nltk/__init__`` (which imports most of NLTK, ~1.3 s): see :mod:`citesearch.nltk_parts`.

Markdown is read block by block, so that structure is never taken for a claim and a claim
never runs across blocks:

- front matter, fenced and indented code blocks, tables, HTML block lines, link reference
  definitions and rules are not claims;
- headings (ATX ``#``, setext underlines, and in plain text a short line without closing
  punctuation) are not claims;
- each list item and each paragraph (block quotes without their ``>``) is split into
  sentences on its own;
- inside a block, inline markup is hidden from the splitter and the analysis but kept in
  the claim's span: ``[text](url)`` reads as ``text``, emphasis, code ticks, HTML tags,
  bare URLs and citation markers (``[3]``, ``[2, 5]``, ``[^note]``) as blanks;
- a "Sources"/"References" heading (or line) ends the claims: what follows is a source
  list (:func:`parse_source_list` reads it).

A sentence is a claim when it asserts something: not a question, not a lead-in ending in
a colon, and with at least two content words (:func:`is_claim`). Every span is a slice of
the input: ``text[start:end]``, white space trimmed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ..corpus.passages import _sentence_splitter
from ..indexer.stopwords import ENGLISH

# -- the sentence splitter ------------------------------------------------------------------


def sentence_splitter():
    """The passages' sentence splitter (Punkt, with their abbreviations), loaded without
    NLTK's ``__init__`` (see :mod:`citesearch.nltk_parts`): claims split exactly as
    passages do (tested)."""
    return _sentence_splitter()


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A citation marker in the text: ``[3]`` or ``[2, 5]`` (numbers 2 and 5)."""

    start: int
    end: int
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class Sentence:
    """A sentence of the text: ``text[start:end]``; ``plain`` is the same span with markup
    blanked (same length, so offsets agree); ``anchor`` is where a citation marker goes
    (before the closing punctuation)."""

    start: int
    end: int
    plain: str
    anchor: int
    markers: tuple[Marker, ...] = ()


@dataclass(frozen=True)
class SourceEntry:
    """One entry of a text's numbered source list."""

    number: int
    text: str
    """The entry as written, white space folded (title, URL, description...)."""
    title: str
    """Its first line, without a URL or path."""
    urls: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedText:
    sentences: list[Sentence]
    """Every sentence of the prose blocks, claim or not, in text order."""
    sources: list[SourceEntry]
    """The numbered source list, if the text ends with one."""
    sources_start: int | None
    """Where the source list (its heading) begins."""


# -- Markdown blocks ------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_SETEXT = re.compile(r"^[ \t]{0,3}(?:=+|-+)[ \t]*$")
_RULE = re.compile(r"^[ \t]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-{1,}:?[ \t]*(?:\|[ \t]*:?-{1,}:?[ \t]*)+\|?[ \t]*$")
_LINK_DEF = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S")
_TAG = r"(?:<!--.*?-->|</?[A-Za-z][^>]*>)"
_HTML_LINE = re.compile(rf"^[ \t]{{0,3}}{_TAG}(?:[ \t]*{_TAG})*[ \t]*$")
_LIST = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(?=\S)")
_QUOTE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_SOURCES_HEADING = re.compile(
    r"^[ \t#*_>]*(sources(?: used in this answer| cited)?|references|bibliography|works cited|citations)"
    r"[ \t*_:]*$",
    re.IGNORECASE,
)
_CLOSING = ".!?\u2026"


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, without its line break."""
    out, pos = [], 0
    for line in text.split("\n"):
        end = pos + len(line)
        out.append((pos, end - 1 if line.endswith("\r") else end))
        pos = end + 1
    return out


def _front_matter_end(text: str, lines: list[tuple[int, int]]) -> int:
    """The line index after a YAML front matter block at the top, else 0."""
    if not lines or text[lines[0][0] : lines[0][1]].rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if text[lines[i][0] : lines[i][1]].rstrip() in ("---", "..."):
            return i + 1
    return 0


def _blocks(text: str) -> tuple[list[tuple[str, list[tuple[int, int]]]], int | None]:
    """The prose blocks (kind, content spans per line) and where a source list starts.

    Kinds: ``para`` (a paragraph, quoted or not), ``item`` (a list item), ``line`` (a
    one-line paragraph, which may be a plain-text heading)."""
    lines = _lines(text)
    blocks: list[tuple[str, list[tuple[int, int]]]] = []
    current: list[tuple[int, int]] = []
    kind = "para"
    fence: str | None = None
    sources_start: int | None = None
    table = {i for i, (s, e) in enumerate(lines) if _TABLE_SEP.match(text[s:e]) and "|" in text[s:e]}
    # A table: its separator row and the rows around it that hold a "|".
    for i in sorted(table):
        j = i - 1
        while j >= 0 and "|" in text[lines[j][0] : lines[j][1]]:
            table.add(j)
            j -= 1
        j = i + 1
        while j < len(lines) and "|" in text[lines[j][0] : lines[j][1]]:
            table.add(j)
            j += 1
    previous_blank = True

    def flush() -> None:
        nonlocal current, kind
        if current:
            blocks.append((kind if kind == "item" or len(current) > 1 else "line", current))
        current, kind = [], "para"

    for i in range(_front_matter_end(text, lines), len(lines)):
        s, e = lines[i]
        line = text[s:e]
        blank = not line.strip()
        if fence is not None:
            m = _FENCE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end() :].strip():
                fence = None
            previous_blank = blank
            continue
        if (m := _FENCE.match(line)) is not None:
            flush()
            fence = m.group(1)
            continue
        if blank:
            flush()
            previous_blank = True
            continue
        stripped = line.strip()
        if _SOURCES_HEADING.match(stripped) and (previous_blank or _ATX.match(line)):
            flush()
            sources_start = s
            break
        indent = len(line) - len(line.lstrip())
        if previous_blank and not current and len(line[:indent].expandtabs(4)) >= 4 and not (
            blocks and blocks[-1][0] == "item"
        ):
            previous_blank = False  # an indented code block
            continue
        previous_blank = False
        if i in table or _ATX.match(line) or _RULE.match(line) or _LINK_DEF.match(line) or _HTML_LINE.match(line):
            flush()
            continue
        if _SETEXT.match(line) and current:
            # The paragraph so far is a setext heading's text.
            current = []
            flush()
            continue
        if (m := _LIST.match(line)) is not None:
            flush()
            kind = "item"
            current.append((s + m.end(), e))
            continue
        if (m := _QUOTE.match(line)) is not None:
            current.append((s + m.end(), e))
            continue
        current.append((s + indent, e))
    flush()
    return blocks, sources_start


# -- inline markup ----------------------------------------------------------------------------

_INLINE = re.compile(
    r"(?P<marker>\[\^[^\]\s]+\]|\[\d+(?:[ \t]*[,;\u2013-][ \t]*\d+)*\])"
    r"|(?P<image>!\[)"
    r"|(?P<close>\]\([^)\s]*(?:[ \t]+\"[^\"]*\")?\)|\]\[[^\]]*\])"
    r"|(?P<open>\[)(?=[^\]\n]*\](?:\(|\[))"
    r"|(?P<url><https?://[^>\s]+>|https?://[^\s)\]>]+)"
    r"|(?P<tag></?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->)"
    r"|(?P<mark>\*{1,3}|_{1,3}(?!\w)|(?<!\w)_{1,3}|~~|`+)"
    r"|(?P<escape>\\(?=[!-/:-@\[-`{-~]))",
    re.S,
)
_NUMBERS_IN_MARKER = re.compile(r"\d+")


def _mask(text: str, spans: list[tuple[int, int]]) -> tuple[str, int, list[Marker]]:
    """The block's text from its first span's start to its last one's end, with what is
    not content (line prefixes) and inline markup blanked; and its start; and its markers."""
    start, end = spans[0][0], spans[-1][1]
    chars = [" " if c not in "\n" else "\n" for c in text[start:end]]
    for s, e in spans:
        chars[s - start : e - start] = text[s:e]
    body = "".join(chars)
    markers: list[Marker] = []
    out = list(body)
    for m in _INLINE.finditer(body):
        if m.lastgroup == "mark" and m.group() in ("*", "_") and _lone(body, m.start(), m.end()):
            continue  # "5 * 3", "a _ b": not emphasis
        if m.lastgroup == "marker" and not m.group().startswith("[^"):
            numbers = tuple(int(n) for n in _NUMBERS_IN_MARKER.findall(m.group()))
            if "\u2013" in m.group() or "-" in m.group():  # [3-5]: 3, 4, 5
                lo, hi = numbers[0], numbers[-1]
                numbers = tuple(range(lo, hi + 1)) if 0 < hi - lo < 50 else numbers
            markers.append(Marker(start + m.start(), start + m.end(), numbers))
        out[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(out), start, markers


def _lone(body: str, s: int, e: int) -> bool:
    before = body[s - 1] if s > 0 else " "
    after = body[e] if e < len(body) else " "
    return before.isspace() and after.isspace()


# -- sentences -----------------------------------------------------------------------------


def split_sentences(text: str) -> ParsedText:
    """Every sentence of ``text``'s prose blocks, and its source list (see the module)."""
    blocks, sources_start = _blocks(text)
    splitter = sentence_splitter()
    sentences: list[Sentence] = []
    for kind, spans in blocks:
        plain, base, markers = _mask(text, spans)
        if kind != "item" and all(_heading_like(line) for line in plain.split("\n")):
            continue  # a heading, or a run of menu lines
        bounds = [(s, e) for s, e in splitter.span_tokenize(plain) if plain[s:e].strip()]
        # Each gap's markup goes to the sentence before it, except what touches the next
        # sentence's first word ("**Next** word").
        starts = []
        for s, _ in bounds:
            while s > 0 and not text[base + s - 1].isspace() and not plain[s - 1].strip():
                s -= 1
            starts.append(s)
        marker_starts = [m.start for m in markers]
        for j, (s, e) in enumerate(bounds):
            limit = starts[j + 1] if j + 1 < len(bounds) else len(plain)
            end = e
            for k in range(e, limit):
                if not text[base + k].isspace():
                    end = k + 1
            anchor = e
            while anchor > s and plain[anchor - 1] in _CLOSING + "\"'\u201d\u2019)]":
                anchor -= 1
            if anchor == s or anchor == e or plain[anchor] not in _CLOSING:
                anchor = e  # no closing punctuation: after the sentence's last character
            lo, hi = bisect_right(marker_starts, base + starts[j] - 1), bisect_right(marker_starts, base + end - 1)
            sentences.append(
                Sentence(base + starts[j], base + end, plain[starts[j] : end], base + anchor,
                         tuple(markers[lo:hi]))
            )
    sources = parse_source_list(text[sources_start:]) if sources_start is not None else []
    return ParsedText(sentences, sources, sources_start)


_WORDS = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")


def content_words(plain: str) -> list[str]:
    """The words of a text that are not stop words (lowercased; digits count)."""
    return [w for w in (m.group().lower() for m in _WORDS.finditer(plain)) if w not in ENGLISH]


def _heading_like(plain: str) -> bool:
    """A line that reads as a plain-text heading or a menu entry: no closing
    punctuation and at most 12 words ("Direct answer", "How it works")."""
    stripped = plain.strip()
    if not stripped:
        return True
    ends_sentence = stripped[-1] in _CLOSING + "\"'\u201d)" or re.search(r"[.!?]\s", stripped)
    return not ends_sentence and len(stripped.split()) <= 12


def is_claim(sentence: Sentence) -> bool:
    """Whether a sentence asserts something checkable: not a question, not a lead-in
    ending in a colon, and with at least two content words."""
    plain = sentence.plain.rstrip(" \t\n\"'\u201d\u2019)")
    if plain.endswith("?") or plain.endswith(":"):
        return False
    return len(content_words(plain)) >= 2


def split_claims(text: str) -> list[Sentence]:
    """The claims of ``text``, in order (see the module)."""
    return [s for s in split_sentences(text).sentences if is_claim(s)]


# -- the source list ----------------------------------------------------------------------

_ENTRY = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?(?:\[\^?(\d{1,4})\]:?|(\d{1,4})[.)]|(\d{1,4}))(?:[ \t]+(.*\S))?[ \t]*$")
_URL = re.compile(r"https?://[^\s)\]>]+|www\.[^\s)\]>]+")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_PATH = re.compile(r"`?([\w./-]+\.(?:md|markdown|txt|rst|html?|jsonl)(?:\.gz)?)`?", re.IGNORECASE)


def parse_source_list(text: str) -> list[SourceEntry]:
    """The numbered entries of a source list: ``[1] Title — url``, ``1. Title``,
    ``[^1]: Title``, or (an answer engine's page) a line holding only the number, then the
    title and a description on the lines after it. An entry's title is its first line
    (after the number), without URLs, paths and trailing dashes."""
    entries: list[tuple[int, list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        m = _ENTRY.match(line)
        if m and (entries or not _SOURCES_HEADING.match(stripped)):
            number = int(m.group(1) or m.group(2) or m.group(3))
            entries.append((number, [m.group(4)] if m.group(4) else []))
        elif entries and stripped:
            entries[-1][1].append(stripped)
    out = []
    seen = set()
    for number, lines in entries:
        if number in seen or not lines:
            continue
        seen.add(number)
        whole = " ".join(" ".join(lines).split())
        urls = tuple(u.rstrip(".,;") for u in _URL.findall(whole))
        paths = tuple(p for p in _PATH.findall(whole) if not any(p in u for u in urls))
        title = _URL.sub(" ", _MD_LINK.sub(r"\1", lines[0]))
        title = _PATH.sub(" ", title) if paths else title
        title = re.sub(r"\(\d+ (?:results?|claims?)\)", " ", title)
        title = " ".join(title.replace("**", " ").split()).strip(" —–-·:|")
        out.append(SourceEntry(number, whole, title, urls, paths))
    return out
