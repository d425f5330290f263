"""Reading query files for batch runs: plain text, TSV, JSONL (BEIR) and TREC topics.

The format comes from the extension (``.txt``, ``.tsv``, ``.jsonl``, ``.trec``/``.topics``/
``.xml``) or, failing that, from the content. A malformed line is reported with its line
number and skipped, unless ``strict``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CitesearchError, CorpusError

QUERY_FORMATS = ("text", "tsv", "jsonl", "trec")
TOPIC_FIELDS = ("title", "desc", "narr", "all")


@dataclass
class QueryFile:
    queries: list[tuple[str, str]]
    """(query id, text), in file order."""
    format: str
    errors: list[str] = field(default_factory=list)


def detect_format(path: Path, text: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    ext = os.path.splitext(name)[1]
    by_ext = {".tsv": "tsv", ".jsonl": "jsonl", ".trec": "trec", ".topics": "trec", ".xml": "trec", ".txt": "text"}
    head = next((line for line in text.splitlines() if line.strip()), "")
    if "<top>" in text[:10000].lower():
        return "trec"
    if ext in by_ext and ext != ".txt":
        return by_ext[ext]
    if head.lstrip().startswith("{"):
        return "jsonl"
    if ext != ".txt" and "\t" in head:
        return "tsv"
    return "text"


def read_queries(
    path: str | os.PathLike[str], fmt: str | None = None, topic_field: str = "title", strict: bool = False
) -> QueryFile:
    p = Path(path)
    try:
        data = p.read_bytes()
        if p.name.endswith(".gz"):
            import gzip

            data = gzip.decompress(data)
    except OSError as exc:
        raise CitesearchError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    fmt = fmt or detect_format(p, text)
    if fmt not in QUERY_FORMATS:
        raise CitesearchError(f"unknown query format {fmt!r}; choose from {', '.join(QUERY_FORMATS)}")
    out = QueryFile([], fmt)

    def bad(lineno: int, message: str) -> None:
        err = CorpusError(str(path), message, lineno)
        if strict:
            raise err
        out.errors.append(str(err))

    if fmt == "trec":
        out.queries = _read_topics(text, topic_field, bad)
    else:
        n = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if fmt == "text":
                n += 1
                out.queries.append((str(n), line.strip()))
            elif fmt == "tsv":
                qid, sep, query = line.partition("\t")
                if not sep or not qid.strip() or not query.strip():
                    bad(lineno, "expected 'id<TAB>query'; line skipped")
                    continue
                out.queries.append((qid.strip(), query.strip()))
            else:
                try:
                    rec = json.loads(line)
                    qid, query = str(rec["_id"]), str(rec["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    bad(lineno, f'expected {{"_id": ..., "text": ...}} ({type(exc).__name__}); line skipped')
                    continue
                out.queries.append((qid, query))
    seen: set[str] = set()
    for qid, _ in out.queries:
        if qid in seen:
            raise CitesearchError(f"{path}: query id {qid!r} appears more than once")
        seen.add(qid)
    if not out.queries:
        raise CitesearchError(f"{path}: no queries found (read as {fmt})")
    return out


_TOP = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_TAG = re.compile(r"<(num|title|desc|narr)>", re.I)
_LABEL = re.compile(r"^\s*(Number|Topic|Description|Narrative)\s*:\s*", re.I)


def _read_topics(text: str, topic_field: str, bad) -> list[tuple[str, str]]:
    if topic_field not in TOPIC_FIELDS:
        raise CitesearchError(f"unknown topic field {topic_field!r}; choose from {', '.join(TOPIC_FIELDS)}")
    queries = []
    for m in _TOP.finditer(text):
        lineno = text.count("\n", 0, m.start()) + 1
        fields: dict[str, str] = {}
        parts = _TAG.split(m.group(1))
        for name, value in zip(parts[1::2], parts[2::2]):
            value = re.sub(r"</\w+>", " ", value)
            fields[name.lower()] = " ".join(_LABEL.sub("", value).split())
        qid = fields.get("num", "")
        wanted = ("title", "desc", "narr") if topic_field == "all" else (topic_field,)
        query = " ".join(fields.get(f, "") for f in wanted).strip()
        if not qid or not query:
            bad(lineno, f"topic without <num> or without text in its {topic_field} field(s); skipped")
            continue
        queries.append((qid, query))
    return queries
