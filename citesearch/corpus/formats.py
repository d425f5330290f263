"""Turn the bytes of one file into (title, text) by format.

Plain text, Markdown and reStructuredText keep their text as written, so that passage
offsets point into what the user sees in the file; only YAML front matter (``---`` at the
very top of a .txt or .md file) is blanked to spaces, line ends kept, so that it is in no
passage while offsets and line numbers stay true. HTML is rendered to text with its
paragraph boundaries kept and scripts, styles and navigation dropped.

Titles are decided in one place, :func:`_title`, with the help of the file's name.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator

from ..errors import FormatError

# A line of only punctuation under (or over) a heading line, as in reStructuredText and
# Markdown setext headings.
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.,_])\1{2,}\s*$")
# CommonMark ATX heading: closing #s count only after a space ("# Learn C#" keeps its #),
# taken off by _atx_text (a regex for them would take time quadratic in a run of spaces).
_ATX = re.compile(r"^\s{0,3}#{1,6}\s(.+)$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
# A rule: three or more of one of - * _ =, spaces between allowed ("---", "* * *", "===").
# Never a title: it is a thematic break, or the underline of a heading.
_RULE = re.compile(r"^\s*([-*_=])(?:[ \t]*\1){2,}\s*$")


# The runs of characters between line ends (as str.splitlines sees them): the non-blank
# lines, found lazily, so that a title never costs a split of a whole large file.
_LINE = re.compile(r"[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
_WORDS = re.compile(r"[^\W_]+")


def _lines(text: str) -> Iterator[str]:
    for m in _LINE.finditer(text):
        line = m.group().strip()
        if line:
            yield line


def _heading_by_underline(lines: list[str]) -> str | None:
    for i in range(len(lines) - 1):
        line, below = lines[i].strip(), lines[i + 1]
        if line and not _UNDERLINE.match(line) and _UNDERLINE.match(below):
            return line
    return None


# --- choosing the title --------------------------------------------------------------------
#
# One place decides every title: :func:`_title`. A title the document declares (YAML
# front matter, an HTML <title>) wins; then a heading its format marks (Markdown, reST);
# then a line from the head of the text. Web pages saved as text start with menus and
# labels ("Home", "Search", "Pricing", a category name...) before their heading, so:
# the head's line that best matches the words of the file name, when the name is a slug
# of the title ("can-immunotherapy-cure-cancer.txt"); otherwise the first line that is
# neither menu-like nor body text; otherwise the first line, as written.

_HEAD_LINES = 20  # the head: at most this many non-blank lines, up to the first body line
_BODY_WORDS = 30  # a line of more words than this is body text, not a heading
_SLUG_MATCH = 0.5  # the least Dice overlap of a line's words with the slug's words
# Separators of menu bars and breadcrumbs: "Home | Blog | About", "Health › Cancer › Types".
_MENU_BAR = re.compile(r"\s[|•·»›>/]\s")


def _slug_words(name: str) -> set[str]:
    """The words of a file name without its extensions: ``a-b_c.txt.gz`` → {a, b, c}."""
    stem = re.split(r"[\\/]", name)[-1].casefold()
    stem = stem.removesuffix(".gz")
    stem = os.path.splitext(stem)[0]
    return set(_WORDS.findall(stem))


def _head(text: str) -> list[str]:
    """The first non-blank lines, through the first one that reads as body text."""
    head = []
    for line in _lines(text):
        head.append(line)
        if len(head) >= _HEAD_LINES or _is_body(line):
            break
    return head


def _is_body(line: str) -> bool:
    words = len(line.split())
    return words > _BODY_WORDS or (words > 3 and line.endswith(".") and not line.endswith(".."))


def _is_menu(line: str, head: list[str]) -> bool:
    """A menu item, site name or label: one word, a menu bar (three items or more: a title
    may say "Title | Site"), or a short line repeated."""
    words = line.split()
    return len(words) <= 1 or len(_MENU_BAR.findall(line)) >= 2 or (len(words) <= 3 and head.count(line) > 1)


def _by_slug(head: list[str], slug: set[str]) -> str | None:
    """The earliest of the lines whose words best match the file name's, if one matches well."""
    if len(slug) < 2:
        return None
    best, best_score = None, _SLUG_MATCH
    for line in head:
        words = set(_WORDS.findall(line.casefold()))
        shared = len(words & slug)
        score = 2 * shared / (len(words) + len(slug))
        if shared >= 2 and (score > best_score or (best is None and score >= best_score)):
            best, best_score = line, score
    return best


def _from_head(text: str, name: str) -> str:
    head = _head(text)
    if not head:
        return ""
    worded = [line for line in head if _WORDS.search(line)]
    by_slug = _by_slug([line for line in worded if not _is_body(line)], _slug_words(name)) if name else None
    if by_slug:
        return by_slug
    for line in worded:
        if _is_menu(line, head):
            continue
        if _is_body(line):
            break
        return line
    return worded[0] if worded else next((line for line in head if not _RULE.match(line)), "")


def _title(text: str, name: str = "", declared: str | None = None, heading: str | None = None) -> str:
    """The title of a document: ``declared`` by it, else its format's ``heading``, else a
    line from the head of ``text`` chosen with the help of the file's ``name``."""
    return declared or heading or _from_head(text, name)


# --- YAML front matter ---------------------------------------------------------------------

# "---" on the first line, "---" (or "...") closing it. Only a block of YAML mappings, or
# one of no keys at all (blank and comment lines only: Jekyll's empty "---\n---"), is
# front matter: a text that opens with a rule of dashes over other text keeps its lines.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_YAML_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]+(.*))?$")  # the value keeps trailing blanks
_YAML_COMMENT = re.compile(r"\s#")
_YAML_OTHER = re.compile(r"^(?:[ \t]+\S|[ \t]*#|-(?:[ \t]|$))")


def _front_matter(text: str) -> tuple[str | None, str]:
    """The front matter's title (None without one) and ``text`` with its front matter
    blanked: every character but line ends turned to a space, so offsets and line numbers
    still point into the file while no passage holds the metadata."""
    if not text.startswith("---"):
        return None, text
    m = _FRONT_MATTER.match(text)
    if not m:
        return None, text
    lines = m.group(1).splitlines()
    if not any(_YAML_KEY.match(line) for line in lines):
        if all(not line.strip() or line.lstrip().startswith("#") for line in lines):
            return None, re.sub(r"[^\r\n]", " ", m.group()) + text[m.end() :]
        return None, text
    if not all(not line.strip() or _YAML_KEY.match(line) or _YAML_OTHER.match(line) for line in lines):
        return None, text
    blanked = re.sub(r"[^\r\n]", " ", m.group())
    return _yaml_title(lines), blanked + text[m.end() :]


def _yaml_title(lines: list[str]) -> str | None:
    """The top-level ``title:`` of a front matter: plain, quoted or a block scalar."""
    for i, line in enumerate(lines):
        m = _YAML_KEY.match(line)
        if not m or m.group(1).lower() != "title":
            continue
        value = (m.group(2) or "").rstrip(" \t")
        # Continuation lines: a block scalar (| or >) or a plain value over several lines.
        more = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and not nxt[:1].isspace():
                break
            more.append(nxt.strip())
        if not value or re.fullmatch(r"[|>][+-]?\d*[+-]?", value):
            value = " ".join(more)
        elif value[:1] in "\"'":
            quote = value[0]
            end = value.rfind(quote)
            inner = value[1:end] if end > 0 else value[1:]
            value = inner.replace("''", "'") if quote == "'" else re.sub(r"\\(.)", r"\1", inner)
        else:
            comment = _YAML_COMMENT.search(value)
            value = " ".join([value[: comment.start()] if comment else value, *more])
        return " ".join(value.split()) or None
    return None


# --- readers -------------------------------------------------------------------------------


def read_text(text: str, name: str = "") -> tuple[str, str]:
    declared, text = _front_matter(text)
    return _title(text, name, declared), text


def _markdown_heading(text: str) -> str | None:
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
            heading = _atx_text(m.group(1))
            if not _RULE.match(heading):
                return heading
            continue
        below = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            line.strip()
            and not _RULE.match(line)
            and below.strip()
            and set(below.strip()) <= set("=-")
            and len(below.strip()) >= 3
        ):
            return line.strip()
    return None


# Markdown inline markup, undone in titles: code spans and backslash escapes are set
# aside first (their text is literal), then images and links keep their text, emphasis
# and strikethrough their content, and inline HTML tags go.
_MD_LITERAL = re.compile(r"(`+)(.+?)\1|\\([!-/:-@\[-`{-~])")
_MD_MARKUP = (
    (re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),
    (re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>"), ""),
    (re.compile(r"(\*\*|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"), r"\1"),
    (re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*"), r"\1"),
    (re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"\1"),
)


def _atx_text(text: str) -> str:
    """An ATX heading's text without its closing ``#``s (only after a blank) and blanks."""
    text = text.strip()
    bare = text.rstrip("#")
    return bare.rstrip() if bare != text and bare[-1:].isspace() else text


# Headings are cut to this before their inline markup is taken off (its patterns take
# time quadratic in the length of what they search): no title is longer.
_TITLE_CHARS = 1000


def _strip_markdown(title: str) -> str:
    """``The **first** [crack](x)`` → ``The first crack``."""
    title = title[:_TITLE_CHARS]
    literals: list[str] = []

    def aside(m: re.Match) -> str:
        literals.append(m.group(2).strip() if m.group(1) else m.group(3))
        return f"\x00{len(literals) - 1}\x00"

    title = _MD_LITERAL.sub(aside, title)
    for pattern, repl in _MD_MARKUP:
        title = pattern.sub(repl, title)
    title = re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], title)
    return " ".join(title.split())


def read_markdown(text: str, name: str = "") -> tuple[str, str]:
    """The front matter's title, else the first heading, else a line from the head."""
    declared, text = _front_matter(text)
    heading = _markdown_heading(text) if declared is None else None
    return _title(text, name, declared, heading and _strip_markdown(heading)), text


# reStructuredText inline markup, undone in titles. Set aside first, their text literal:
# inline literals (``code``), backslash escapes, and every backquoted span: interpreted
# text (`x`), roles (:role:`x`, `x`:role:) and hyperlink references (`ref`_,
# `text <url>`_, anonymous with __). Then strong and emphasis keep their content.
_RST_LITERAL = re.compile(
    r"``(?=\S)(.+?)(?<=\S)``(?!\w)"
    r"|(?<![\w`])(?::[\w.+:-]+:)?`(?=[^\s`])([^`]+?)(?<=\S)`(?::[\w.+:-]+:|__?)?(?![\w`])"
    r"|\\([!-/:-@\[-`{-~])"
)
_RST_TARGET = re.compile(r"^(.*?\S)\s+<[^<>]+>$|^<([^<>]+)>$", re.DOTALL)
_RST_MARKUP = (
    re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
)


def _rst_span(text: str) -> str:
    """The text a backquoted span shows: ``label <target>`` → label, ``<url>`` → url,
    ``~pkg.mod.name`` → name, ``!name`` → name."""
    m = _RST_TARGET.match(text)
    if m:
        text = m.group(1) or m.group(2)
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]
    return text.removeprefix("!")


def _strip_rst(title: str) -> str:
    """``The ``code`` and :func:`parse` *here*`` → ``The code and parse here``."""
    title = title[:_TITLE_CHARS]
    literals: list[str] = []

    def aside(m: re.Match) -> str:
        if m.group(1) is not None:
            literals.append(m.group(1))
        elif m.group(2) is not None:
            literals.append(_rst_span(m.group(2)))
        else:
            literals.append(m.group(3))
        return f"\x00{len(literals) - 1}\x00"

    title = _RST_LITERAL.sub(aside, title)
    for pattern in _RST_MARKUP:
        title = pattern.sub(r"\1", title)
    title = re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], title)
    return " ".join(title.split())


def read_rst(text: str, name: str = "") -> tuple[str, str]:
    """The first underlined (or over- and underlined) heading, inline markup removed, else
    a line from the head."""
    heading = _heading_by_underline(text.splitlines())
    return _title(text, name, heading=heading and _strip_rst(heading)), text


_DROP = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head")
_BLOCKS = (
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "td", "th",
    "tr", "ul",
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BREAKS = re.compile(r"\s*\n\s*\n\s*")


# What Python's html.parser (before 3.13.4) scans to the end of the text for, each time:
# a markup opener with no closer after it is rescanned at every later "<", quadratic.
_COMMENT_CLOSE = re.compile(r"(?=--\s*>)")  # html.parser's, found at every start
_SECTION_CLOSE = re.compile(r"(?=]\s*]\s*>)")
_OPENER = re.compile(r"<!(?:--|\[(cdata)?)", re.IGNORECASE)


def _last(pattern: re.Pattern[str], text: str) -> int:
    last = -1
    for last_match in pattern.finditer(text):
        last = last_match.start()
    return last


def _safe_markup(text: str) -> str:
    """``text`` with what would make html.parser take quadratic time, or fail, made
    plain, in one pass: a ``<`` after the last ``>`` (it opens nothing that closes), a
    comment or CDATA section that never closes (html.parser shows both as text anyway,
    up to the next ``>``), and a ``<![`` section other than CDATA, which html.parser
    refuses (AssertionError) or scans to the end for, becomes the bogus comment HTML5
    makes of it (up to the next ``>``)."""
    end = text.rfind(">") + 1
    if "<" in text[end:]:
        text = text[:end] + text[end:].replace("<", "&lt;")
    if "<!" not in text:
        return text
    comments_close = _last(_COMMENT_CLOSE, text)
    sections_close = _last(_SECTION_CLOSE, text)
    out = []
    done = 0
    for m in _OPENER.finditer(text):
        i = m.start()
        if i < done:
            continue  # in text already made plain
        if m.group(1) is None and m.group() != "<!--":
            out += [text[done:i], "<!x["]
            done = m.end()
        elif (comments_close if m.group() == "<!--" else sections_close) < i + len(m.group()):
            # Never closed: text up to the next ">", as html.parser shows it.
            gt = text.find(">", i) + 1 or len(text)
            out += [text[done:i], text[i:gt].replace("<", "&lt;")]
            done = gt
    return "".join(out) + text[done:] if out else text


def read_html(text: str, name: str = "") -> tuple[str, str]:
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning  # index time only
    from bs4.exceptions import ParserRejectedMarkup

    try:
        with warnings.catch_warnings():
            # A page whose whole text looks like a file name or URL ("index.html") is a
            # page all the same: bs4's multi-line warning would be printed for it.
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(_safe_markup(text), "html.parser")
    except (ParserRejectedMarkup, AssertionError) as exc:
        raise FormatError(f"cannot be read as HTML ({' '.join(str(exc).split())[:200]})") from None
    first_title = soup.title
    title = ""
    if first_title and first_title.get_text(strip=True):
        title = first_title.get_text(" ", strip=True)
    pieces, h1 = _html_pieces(soup, first_title)
    if not title and h1 is not None:
        title = " ".join(s for p in pieces[h1[0] : h1[1]] if (s := p.strip()))
    raw = "".join(pieces)
    paragraphs = []
    for block in _BREAKS.split(raw):
        block = " ".join(_SPACES.sub(" ", line).strip() for line in block.split("\n"))
        if block.strip():
            paragraphs.append(block.strip())
    body = "\n\n".join(paragraphs)
    return _title(body, name, " ".join(title.split())), body


def _html_pieces(soup, skip) -> tuple[list[str], tuple[int, int] | None]:
    """The page's text strings in order, each block element between blank lines, leaving
    out the ``skip`` element (the title), the :data:`_DROP` elements and navigation; and
    the span of ``pieces`` that the first ``<h1>`` holds.

    One walk with a stack of its own, so that it takes time in proportion to the page
    however deep its elements nest (bs4's ``insert_after`` walks the subtree each time:
    100,000 nested ``<div>``s took minutes), and never recurses."""
    from bs4 import CData, NavigableString, Tag

    texts = (NavigableString, CData)  # what get_text() takes: no comments, doctypes, ruby text
    pieces: list[str] = []
    h1: tuple[int, int] | None = None
    h1_tag = None
    h1_start = 0
    stack: list[tuple[Iterator, Tag | None]] = [(iter(soup.contents), None)]
    while stack:
        children, tag = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            if tag is not None:
                if tag is h1_tag:
                    h1 = (h1_start, len(pieces))
                if tag.name in _BLOCKS:
                    pieces.append("\n\n")
            continue
        if isinstance(node, Tag):
            if node is skip or node.name in _DROP or node.get("role") == "navigation":
                continue
            if node.name in _BLOCKS:
                pieces.append("\n\n")
            if node.name == "h1" and h1_tag is None:
                h1_tag, h1_start = node, len(pieces)
            stack.append((iter(node.contents), node))
        elif type(node) in texts:
            pieces.append(str(node))
    return pieces, h1


Reader = Callable[[str, str], tuple[str, str]]
"""``reader(text, name) -> (title, text)``: ``name`` is the file's name, whose words may
help choose the title."""

READERS: dict[str, Reader] = {
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
