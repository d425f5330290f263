"""Reading query files for batch runs: plain text, TSV, JSONL (BEIR) and TREC topics.

The format comes from the extension (``.txt``, ``.tsv``, ``.jsonl``, ``.trec``/``.topics``/
``.xml``) or, failing that, from the content. TREC topics are the classic SGML form
(``<top><num><title><desc><narr></top>``) or the XML form (``<topics><topic number="1">
<query><question><narrative></topic>``). A TSV whose first line is a header (``id<TAB>query``)
has it skipped. ``-`` reads standard input; gzip is recognised by extension or content.
Binary input is refused, as is more than :data:`MAX_QUERY_BYTES` of (decompressed) text. A
malformed line is reported with its line number and skipped, unless ``strict``.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import CitesearchError, CorpusError

QUERY_FORMATS = ("text", "tsv", "jsonl", "trec")
TOPIC_FIELDS = ("title", "desc", "narr", "all")
STDIN = "-"
STDIN_NAME = "<stdin>"
MAX_QUERY_BYTES = 256 << 20
"""The most (decompressed) bytes a query file may hold: a gzip bomb is refused, not inflated."""
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF = 8192


@dataclass
class QueryFile:
    queries: list[tuple[str, str]]
    """(query id, text), in file order."""
    format: str
    errors: list[str] = field(default_factory=list)


def looks_binary(data: bytes) -> bool:
    """Whether the start of a file is binary rather than text: a NUL byte in its first 8 KiB
    (the corpus loader's test), or more than 30% of it undecodable as UTF-8."""
    head = data[:_SNIFF]
    if b"\x00" in head:
        return True
    if head.isascii():
        return False
    text = head.decode("utf-8", errors="replace")
    # The sample may end inside a character: do not count that one.
    bad = text.rstrip("\ufffd").count("\ufffd") if len(data) > _SNIFF else text.count("\ufffd")
    return bad > 0.3 * max(len(text), 1)


def detect_format(path: Path, text: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    ext = os.path.splitext(name)[1]
    by_ext = {".tsv": "tsv", ".jsonl": "jsonl", ".trec": "trec", ".topics": "trec", ".xml": "trec", ".txt": "text"}
    head = next((line for line in text.splitlines() if line.strip()), "")
    if _TOPICS_START.search(text[:10000]):
        return "trec"
    if ext in by_ext and ext != ".txt":
        return by_ext[ext]
    if head.lstrip().startswith("{"):
        return "jsonl"
    if ext != ".txt" and "\t" in head:
        return "tsv"
    return "text"


def _read_capped(fh: BinaryIO, display: str, what: str = "") -> bytes:
    data = fh.read(MAX_QUERY_BYTES + 1)
    if len(data) > MAX_QUERY_BYTES:
        raise CorpusError(display, f"more than {MAX_QUERY_BYTES:,} bytes of queries{what}; refused")
    return data


def _read_bytes(path: str | os.PathLike[str], display: str) -> bytes:
    """The file's bytes, decompressed if gzip, never more than :data:`MAX_QUERY_BYTES`."""
    import gzip
    import io

    try:
        if os.fspath(path) == STDIN:
            data = _read_capped(sys.stdin.buffer, display)
        else:
            with open(path, "rb") as fh:
                data = _read_capped(fh, display)
        if data.startswith(_GZIP_MAGIC) or Path(path).name.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = _read_capped(gz, display, " once decompressed")
    except (OSError, EOFError, zlib.error) as exc:
        raise CorpusError(display, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return data


def read_queries(
    path: str | os.PathLike[str], fmt: str | None = None, topic_field: str = "title", strict: bool = False
) -> QueryFile:
    """The queries of a file (or of standard input, if ``path`` is ``-``)."""
    display = STDIN_NAME if os.fspath(path) == STDIN else str(path)
    data = _read_bytes(path, display)
    if looks_binary(data):
        raise CorpusError(display, "looks like a binary file, not queries (NUL bytes or not UTF-8 text); refused")
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    fmt = fmt or detect_format(Path(path), text)
    if fmt not in QUERY_FORMATS:
        raise CitesearchError(f"unknown query format {fmt!r}; choose from {', '.join(QUERY_FORMATS)}")
    out = QueryFile([], fmt)
    lines: list[int] = []  # each query's line number

    def bad(lineno: int, message: str) -> None:
        err = CorpusError(display, message, lineno)
        if strict:
            raise err
        out.errors.append(str(err))

    def add(lineno: int, qid: str, query: str) -> None:
        out.queries.append((qid, query))
        lines.append(lineno)

    if fmt == "trec":
        for lineno, qid, query in _read_topics(text, topic_field, bad):
            add(lineno, qid, query)
    else:
        n = 0
        first = True
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if fmt == "text":
                n += 1
                add(lineno, str(n), line.strip())
            elif fmt == "tsv":
                if first and _tsv_header(line):
                    first = False
                    continue
                qid, sep, query = line.partition("\t")
                if not sep or not qid.strip() or not query.strip():
                    bad(lineno, "expected 'id<TAB>query'; line skipped")
                    continue
                add(lineno, qid.strip(), query.strip())
            else:
                try:
                    rec = json.loads(line)
                    qid, query = rec["_id"], rec["text"]
                except (ValueError, RecursionError, KeyError, TypeError) as exc:
                    # ValueError: malformed JSON, or a number of 4,300+ digits
                    bad(lineno, f'expected {{"_id": ..., "text": ...}} ({type(exc).__name__}); line skipped')
                    continue
                problem = _field_problem("_id", qid) or _field_problem("text", query)
                if problem:
                    bad(lineno, f"{problem}; line skipped")
                    continue
                add(lineno, str(qid).strip(), str(query).strip())
            first = False
    seen: dict[str, int] = {}
    for (qid, _), lineno in zip(out.queries, lines):
        if qid in seen:
            raise CorpusError(display, f"query id {qid!r} appears more than once (first on line {seen[qid]})", lineno)
        seen[qid] = lineno
    if not out.queries:
        raise CorpusError(display, f"no queries found (read as {fmt})")
    return out


def _field_problem(name: str, value: object) -> str | None:
    """Why a JSONL query's ``_id`` or ``text`` cannot be used, if it cannot: it must be
    a string, not blank, or a finite number (converted, as BEIR's tools do)."""
    if isinstance(value, str):
        return None if value.strip() else f'"{name}" is {"empty" if not value else "only white space"}'
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value):
        return None
    kind = {type(None): "null", bool: "true/false", dict: "an object", list: "an array"}.get(type(value), str(value))
    return f'"{name}" must be a string or a number, not {kind}'


_ID_WORDS = {"id", "_id", "qid", "query_id", "queryid", "query-id", "topic", "topic_id", "topicid", "num", "number"}
_TEXT_WORDS = {"query", "text", "query_text", "querytext", "question", "title", "topic", "description", "desc"}


def _tsv_header(line: str) -> bool:
    """Whether a TSV's first line is a header: an id column name, then text column names."""
    names = [f.strip().lower() for f in line.split("\t")]
    return len(names) >= 2 and names[0] in _ID_WORDS and all(n in _TEXT_WORDS for n in names[1:])


_TOPICS_START = re.compile(r"<top>|<topic\b", re.IGNORECASE)
_TOP = re.compile(r"<top>(.*?)</top>", re.DOTALL | re.IGNORECASE)
_TOP_END = re.compile(r"</top>", re.IGNORECASE)
_TAG = re.compile(r"<(num|title|desc|narr)>", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(Number|Topic|Description|Narrative)\s*:\s*", re.IGNORECASE)

# The XML topics are read by hand with these, not by one pattern each: a pattern that
# searches on to a closing tag takes time quadratic in the file when openings go
# unclosed ("<topic>" 20,000 times took 8 s). Each search below resumes where the last
# one stopped, so every part of the file is scanned a bounded number of times.
_XML_OPEN = re.compile(r"<topic\b", re.IGNORECASE)
_XML_CLOSE = re.compile(r"</topic\s*>", re.IGNORECASE)
_XML_NUMBER = re.compile(r"""\b(?:number|id|num)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_FIELD_NAMES = ("query", "title", "question", "description", "desc", "narrative", "narr", "num", "number")
_FIELD_OPEN = re.compile(rf"<({'|'.join(_FIELD_NAMES)})\b", re.IGNORECASE)
_FIELD_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _FIELD_NAMES}
_SUBTOPIC_OPEN = re.compile(r"<subtopic\b", re.IGNORECASE)
_SUBTOPIC_CLOSE = re.compile(r"</subtopic\s*>|/>", re.IGNORECASE)
_GT = re.compile(">")
_XML_TAGS = re.compile(r"<[^>]*>")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
# --topic-field → the XML elements that hold it, the first present wins.
_XML_FIELDS = {"title": ("query", "title"), "desc": ("question", "description", "desc"), "narr": ("narrative", "narr")}


class _Next:
    """The next match of ``pattern`` in ``text`` at or after a position, for positions
    asked in increasing order: a search resumes where the last one found its match, and
    once none is found, none is looked for again."""

    def __init__(self, pattern: re.Pattern[str], text: str):
        self.pattern, self.text = pattern, text
        self.found: re.Match[str] | None = None
        self.done = False

    def at(self, pos: int) -> re.Match[str] | None:
        if not self.done and (self.found is None or self.found.start() < pos):
            self.found = self.pattern.search(self.text, pos)
            self.done = self.found is None
        return self.found


class _Lines:
    """Line numbers of positions asked in increasing order, counted as they go."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def of(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _last_of(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    return [last] if last is not None else []


def _xml_text(value: str) -> str:
    end = value.rfind("]]>") + 3  # no CDATA section can close after the last "]]>"
    if end > 2:
        value = _CDATA.sub(lambda m: html.escape(m.group(1), quote=False), value[:end]) + value[end:]
    end = value.rfind(">") + 1  # nor a tag after the last ">"
    value = _XML_TAGS.sub(" ", value[:end]) + value[end:]
    return " ".join(html.unescape(value).split())


def _read_topics(text: str, topic_field: str, bad) -> list[tuple[int, str, str]]:
    if topic_field not in TOPIC_FIELDS:
        raise CitesearchError(f"unknown topic field {topic_field!r}; choose from {', '.join(TOPIC_FIELDS)}")
    wanted = ("title", "desc", "narr") if topic_field == "all" else (topic_field,)
    end = max((m.end() for m in _last_of(_TOP_END, text)), default=0)  # no <top> closes after the last </top>
    if _XML_OPEN.search(text) and not _TOP.search(text, 0, end):
        return _read_xml_topics(text, topic_field, wanted, bad)
    queries = []
    lines = _Lines(text)
    for m in _TOP.finditer(text, 0, end):
        lineno = lines.of(m.start())
        fields: dict[str, str] = {}
        parts = _TAG.split(m.group(1))
        for name, value in zip(parts[1::2], parts[2::2]):
            value = re.sub(r"</\w+>", " ", value)
            fields[name.lower()] = " ".join(_LABEL.sub("", value).split())
        qid = fields.get("num", "")
        query = " ".join(fields.get(f, "") for f in wanted).strip()
        if not qid or not query:
            bad(lineno, f"topic without <num> or without text in its {topic_field} field(s); skipped")
            continue
        queries.append((lineno, qid, query))
    return queries


def _xml_topics(text: str):
    """``(start, attributes, empty, body)`` of each ``<topic ...>``, as the pattern
    ``<topic\\b([^>]*?)(/?)>(?:((?:(?!<topic\\b).)*?)</topic\\s*>)?`` finds them: the
    body stops at </topic> and never runs on into the next <topic> (None without one)."""
    gt, opening, closing = _Next(_GT, text), _Next(_XML_OPEN, text), _Next(_XML_CLOSE, text)
    pos = 0
    while (m := _XML_OPEN.search(text, pos)) is not None:
        end = gt.at(m.end())
        if end is None:
            return
        attrs = text[m.end() : end.start()]
        empty = attrs.endswith("/")
        if empty:
            attrs = attrs[:-1]
        pos = end.end()
        close, after = closing.at(pos), opening.at(pos)
        body = None
        if close is not None and (after is None or close.start() < after.start()):
            body = text[pos : close.start()]
            pos = close.end()
        yield m.start(), attrs, empty, body


def _without_subtopics(body: str) -> str:
    """``body`` with each ``<subtopic ...>…</subtopic>`` (or ``<subtopic .../>``) as a space."""
    closing = _Next(_SUBTOPIC_CLOSE, body)
    out = []
    pos = 0
    while (m := _SUBTOPIC_OPEN.search(body, pos)) is not None:
        close = closing.at(m.end())
        if close is None:
            break
        out += [body[pos : m.start()], " "]
        pos = close.end()
    out.append(body[pos:])
    return "".join(out)


def _xml_fields(body: str):
    """``(name, text)`` of each field element (``<query>…</query>``...) in a topic's body,
    in order, as ``<(NAME)\\b[^>]*>(.*?)</\\1\\s*>`` finds them."""
    gt = _Next(_GT, body)
    closing = {name: _Next(pattern, body) for name, pattern in _FIELD_CLOSE.items()}
    pos = 0
    while (m := _FIELD_OPEN.search(body, pos)) is not None:
        end = gt.at(m.end())
        if end is None:
            return
        name = m.group(1).lower()
        close = closing[name].at(end.end())
        if close is None:
            pos = m.start() + 1
            continue
        yield name, body[end.end() : close.start()]
        pos = close.end()


def _read_xml_topics(text: str, topic_field: str, wanted: tuple[str, ...], bad) -> list[tuple[int, str, str]]:
    """``<topic number="N"><query>…</query><question>…</question><narrative>…</narrative></topic>``."""
    queries = []
    lines = _Lines(text)
    for start, attrs, empty, body in _xml_topics(text):
        lineno = lines.of(start)
        if body is None and not empty:
            bad(lineno, "<topic> without </topic>; skipped")
            continue
        fields: dict[str, str] = {}
        for name, value in _xml_fields(_without_subtopics(body or "")):
            if name not in fields:
                fields[name] = _xml_text(value)
        number = _XML_NUMBER.search(attrs)
        qid = (number.group(1) or number.group(2) or "").strip() if number else ""
        qid = qid or fields.get("number") or fields.get("num") or ""
        query = " ".join(next((fields[e] for e in _XML_FIELDS[w] if fields.get(e)), "") for w in wanted)
        query = " ".join(query.split())
        if not qid or not query:
            names = "/".join(e for w in wanted for e in _XML_FIELDS[w])
            bad(lineno, f'topic without a number="..." or without text in <{names}> ({topic_field}); skipped')
            continue
        queries.append((lineno, html.unescape(qid), query))
    return queries
